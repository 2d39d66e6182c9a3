"""CloudWatch Logs through boto3 and the aws CLI."""

import json

import pytest
from botocore.exceptions import ClientError

from .filter_examples import EXAMPLES, LINES


def code_of(call) -> str:
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


@pytest.fixture
def logs(aws):
    return aws("logs")


@pytest.fixture
def now_ms(kumo_server):
    return int(kumo_server.kumo.clock.now() * 1000)


def test_groups_and_streams(logs, account):
    logs.create_log_group(logGroupName="/app/web", tags={"team": "web"}, kmsKeyId="arn:aws:kms:us-east-1:1:key/k")
    logs.create_log_group(logGroupName="/app/worker")
    logs.create_log_group(logGroupName="/other")
    assert code_of(lambda: logs.create_log_group(logGroupName="/app/web")) == "ResourceAlreadyExistsException"
    assert code_of(lambda: logs.create_log_group(logGroupName="bad name!")) == "InvalidParameterException"
    groups = logs.describe_log_groups(logGroupNamePrefix="/app/")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/app/web", "/app/worker"]
    web = groups[0]
    assert web["arn"] == f"arn:aws:logs:us-east-1:{account}:log-group:/app/web:*"
    assert web["logGroupArn"] == f"arn:aws:logs:us-east-1:{account}:log-group:/app/web"
    assert web["kmsKeyId"] == "arn:aws:kms:us-east-1:1:key/k" and "retentionInDays" not in web
    assert [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePattern="WORK")["logGroups"]] == \
        ["/app/worker"]
    page = logs.describe_log_groups(limit=2)
    rest = logs.describe_log_groups(limit=2, nextToken=page["nextToken"])
    assert [g["logGroupName"] for g in page["logGroups"] + rest["logGroups"]] == ["/app/web", "/app/worker", "/other"]

    logs.put_retention_policy(logGroupName="/app/web", retentionInDays=7)
    assert logs.describe_log_groups(logGroupNamePrefix="/app/web")["logGroups"][0]["retentionInDays"] == 7
    assert code_of(lambda: logs.put_retention_policy(logGroupName="/app/web", retentionInDays=2)) == \
        "InvalidParameterException"
    logs.delete_retention_policy(logGroupName="/app/web")
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix="/app/web")["logGroups"][0]

    logs.tag_log_group(logGroupName="/app/web", tags={"env": "prod"})
    assert logs.list_tags_log_group(logGroupName="/app/web")["tags"] == {"team": "web", "env": "prod"}
    arn = f"arn:aws:logs:us-east-1:{account}:log-group:/app/web"
    logs.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "prod"}

    for name in ("b-stream", "a-stream", "c-stream"):
        logs.create_log_stream(logGroupName="/app/web", logStreamName=name)
    assert code_of(lambda: logs.create_log_stream(logGroupName="/app/web", logStreamName="a-stream")) == \
        "ResourceAlreadyExistsException"
    assert code_of(lambda: logs.create_log_stream(logGroupName="/nope", logStreamName="x")) == \
        "ResourceNotFoundException"
    assert code_of(lambda: logs.create_log_stream(logGroupName="/app/web", logStreamName="bad:name")) == \
        "InvalidParameterException"
    names = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName="/app/web")["logStreams"]]
    assert names == ["a-stream", "b-stream", "c-stream"]
    assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupName="/app/web", descending=True,
                                                                  logStreamNamePrefix="b")["logStreams"]] == \
        ["b-stream"]
    assert code_of(lambda: logs.describe_log_streams(logGroupName="/app/web", orderBy="LastEventTime",
                                                     logStreamNamePrefix="a")) == "InvalidParameterException"
    logs.delete_log_stream(logGroupName="/app/web", logStreamName="c-stream")
    logs.delete_log_group(logGroupName="/other")
    assert code_of(lambda: logs.delete_log_group(logGroupName="/other")) == "ResourceNotFoundException"


def test_put_and_get_events_forward_and_backward(logs, now_ms):
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    first = logs.put_log_events(logGroupName="g", logStreamName="s",
                                logEvents=[{"timestamp": now_ms + i, "message": f"line {i}"} for i in range(5)])
    assert first["nextSequenceToken"] and "rejectedLogEventsInfo" not in first
    # Sequence tokens are ignored, as AWS now ignores them.
    logs.put_log_events(logGroupName="g", logStreamName="s", sequenceToken="stale",
                        logEvents=[{"timestamp": now_ms + i, "message": f"line {i}"} for i in range(5, 10)])
    stream = logs.describe_log_streams(logGroupName="g")["logStreams"][0]
    assert stream["firstEventTimestamp"] == now_ms and stream["lastEventTimestamp"] == now_ms + 9
    assert stream["lastIngestionTime"] >= now_ms

    head = logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True, limit=4)
    assert [e["message"] for e in head["events"]] == ["line 0", "line 1", "line 2", "line 3"]
    nxt = logs.get_log_events(logGroupName="g", logStreamName="s", nextToken=head["nextForwardToken"], limit=4)
    assert [e["message"] for e in nxt["events"]] == ["line 4", "line 5", "line 6", "line 7"]
    back = logs.get_log_events(logGroupName="g", logStreamName="s", nextToken=nxt["nextBackwardToken"], limit=2)
    assert [e["message"] for e in back["events"]] == ["line 2", "line 3"]
    tail = logs.get_log_events(logGroupName="g", logStreamName="s", limit=3)
    assert [e["message"] for e in tail["events"]] == ["line 7", "line 8", "line 9"]
    end = logs.get_log_events(logGroupName="g", logStreamName="s", nextToken=tail["nextForwardToken"])
    assert end["events"] == [] and end["nextForwardToken"] == tail["nextForwardToken"]
    window = logs.get_log_events(logGroupName="g", logStreamName="s", startTime=now_ms + 2, endTime=now_ms + 4,
                                 startFromHead=True)
    assert [e["message"] for e in window["events"]] == ["line 2", "line 3"]
    assert window["events"][0]["timestamp"] == now_ms + 2 and window["events"][0]["ingestionTime"] >= now_ms


def test_put_log_events_rules(logs, now_ms):
    logs.create_log_group(logGroupName="rules")
    logs.create_log_stream(logGroupName="rules", logStreamName="s")
    assert code_of(lambda: logs.put_log_events(logGroupName="rules", logStreamName="s", logEvents=[
        {"timestamp": now_ms + 1, "message": "b"}, {"timestamp": now_ms, "message": "a"}])) == \
        "InvalidParameterException"
    assert code_of(lambda: logs.put_log_events(logGroupName="rules", logStreamName="missing", logEvents=[
        {"timestamp": now_ms, "message": "a"}])) == "ResourceNotFoundException"
    day, hour = 86_400_000, 3_600_000
    out = logs.put_log_events(logGroupName="rules", logStreamName="s", logEvents=[
        {"timestamp": now_ms - 14 * day - 2 * hour, "message": "too old"},
        {"timestamp": now_ms - 14 * day - hour, "message": "too old too"},
        {"timestamp": now_ms - 14 * day + hour, "message": "fine"}])
    assert out["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1}
    assert code_of(lambda: logs.put_log_events(logGroupName="rules", logStreamName="s", logEvents=[
        {"timestamp": now_ms, "message": "a"}, {"timestamp": now_ms + 2 * day, "message": "b"}])) == \
        "InvalidParameterException"
    future = logs.put_log_events(logGroupName="rules", logStreamName="s", logEvents=[
        {"timestamp": now_ms + 1, "message": "ok"}, {"timestamp": now_ms + 3 * 3600 * 1000, "message": "future"}])
    assert future["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    got = logs.get_log_events(logGroupName="rules", logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in got] == ["fine", "ok"]


def test_filter_log_events_matches_awss_documented_examples(logs, now_ms):
    logs.create_log_group(logGroupName="examples")
    keys = list(LINES)
    for half, stream in ((keys[::2], "even"), (keys[1::2], "odd")):
        logs.create_log_stream(logGroupName="examples", logStreamName=stream)
        logs.put_log_events(logGroupName="examples", logStreamName=stream, logEvents=[
            {"timestamp": now_ms + keys.index(k), "message": LINES[k]} for k in half])
    by_message = {v: k for k, v in LINES.items()}
    for pattern, expected in EXAMPLES:
        found = logs.filter_log_events(logGroupName="examples", filterPattern=pattern)["events"]
        assert {by_message[e["message"]] for e in found} == expected, pattern
        assert [e["timestamp"] for e in found] == sorted(e["timestamp"] for e in found)  # interleaved by time


def test_filter_log_events_streams_times_and_pages(logs, now_ms):
    logs.create_log_group(logGroupName="f")
    for stream in ("web-1", "web-2", "db"):
        logs.create_log_stream(logGroupName="f", logStreamName=stream)
        logs.put_log_events(logGroupName="f", logStreamName=stream, logEvents=[
            {"timestamp": now_ms + i * 10, "message": f"{stream} ERROR {i}"} for i in range(5)])
    web = logs.filter_log_events(logGroupName="f", logStreamNamePrefix="web", filterPattern="ERROR")
    assert len(web["events"]) == 10 and {e["logStreamName"] for e in web["events"]} == {"web-1", "web-2"}
    assert all(len(e["eventId"]) == 56 for e in web["events"])
    named = logs.filter_log_events(logGroupName="f", logStreamNames=["db"], startTime=now_ms + 10,
                                   endTime=now_ms + 30)
    assert [e["message"] for e in named["events"]] == ["db ERROR 1", "db ERROR 2", "db ERROR 3"]
    seen, token = [], None
    for _ in range(10):
        page = logs.filter_log_events(logGroupName="f", limit=4, **({"nextToken": token} if token else {}))
        seen += [e["message"] for e in page["events"]]
        token = page.get("nextToken")
        if not token:
            break
    assert len(seen) == 15 and len(set(seen)) == 15
    assert code_of(lambda: logs.filter_log_events(logGroupName="f", filterPattern="{ $.a = ")) == \
        "InvalidParameterException"
    assert code_of(lambda: logs.filter_log_events(logGroupName="f", logStreamNames=["db"],
                                                  logStreamNamePrefix="d")) == "InvalidParameterException"
    assert code_of(lambda: logs.filter_log_events(logGroupName="nope")) == "ResourceNotFoundException"


def test_ingest_seam_creates_group_and_stream(kumo_server, logs, account, now_ms):
    from kumo.services.logs.internal import put_events

    stored = kumo_server.run(put_events, kumo_server.kumo, account, "us-east-1", "/aws/ec2/console",
                             "i-0123456789abcdef0", [(now_ms + 1, "second"), (now_ms, "first"), (now_ms, "")])
    assert stored == 2
    events = logs.get_log_events(logGroupName="/aws/ec2/console", logStreamName="i-0123456789abcdef0",
                                 startFromHead=True)["events"]
    assert [e["message"] for e in events] == ["first", "second"]


def test_logs_through_the_aws_cli(aws_cli, now_ms):
    aws_cli("logs", "create-log-group", "--log-group-name", "cli")
    aws_cli("logs", "create-log-stream", "--log-group-name", "cli", "--log-stream-name", "s")
    aws_cli("logs", "put-log-events", "--log-group-name", "cli", "--log-stream-name", "s", "--log-events",
            json.dumps([{"timestamp": now_ms, "message": '{"level": "ERROR"}'},
                        {"timestamp": now_ms + 1, "message": '{"level": "INFO"}'}]))
    out = json.loads(aws_cli("logs", "filter-log-events", "--log-group-name", "cli", "--filter-pattern",
                             '{ $.level = "ERROR" }').stdout)
    assert [e["message"] for e in out["events"]] == ['{"level": "ERROR"}']
    groups = json.loads(aws_cli("logs", "describe-log-groups").stdout)["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["cli"]


def test_describe_log_streams_by_last_event_time(logs, now_ms):
    logs.create_log_group(logGroupName="order")
    for i, name in enumerate(("late", "early", "middle")):
        logs.create_log_stream(logGroupName="order", logStreamName=name)
    for name, offset in (("early", 1), ("middle", 2), ("late", 3)):
        logs.put_log_events(logGroupName="order", logStreamName=name,
                            logEvents=[{"timestamp": now_ms + offset, "message": name}])
    newest = logs.describe_log_streams(logGroupName="order", orderBy="LastEventTime", descending=True)
    assert [s["logStreamName"] for s in newest["logStreams"]] == ["late", "middle", "early"]
    oldest = logs.describe_log_streams(logGroupName="order", orderBy="LastEventTime", limit=2)
    rest = logs.describe_log_streams(logGroupName="order", orderBy="LastEventTime", limit=2,
                                     nextToken=oldest["nextToken"])
    assert [s["logStreamName"] for s in oldest["logStreams"] + rest["logStreams"]] == ["early", "middle", "late"]
    desc = logs.describe_log_streams(logGroupName="order", descending=True, limit=2)
    more = logs.describe_log_streams(logGroupName="order", descending=True, limit=2, nextToken=desc["nextToken"])
    assert [s["logStreamName"] for s in desc["logStreams"] + more["logStreams"]] == ["middle", "late", "early"]


def test_pages_hold_at_most_one_megabyte(logs, now_ms):
    logs.create_log_group(logGroupName="big")
    logs.create_log_stream(logGroupName="big", logStreamName="s")
    for i in range(3):
        logs.put_log_events(logGroupName="big", logStreamName="s",
                            logEvents=[{"timestamp": now_ms + i, "message": str(i) * 400_000}])
    head = logs.get_log_events(logGroupName="big", logStreamName="s", startFromHead=True)
    assert [e["message"][0] for e in head["events"]] == ["0", "1"]
    rest = logs.get_log_events(logGroupName="big", logStreamName="s", nextToken=head["nextForwardToken"])
    assert [e["message"][0] for e in rest["events"]] == ["2"]
    tail = logs.get_log_events(logGroupName="big", logStreamName="s")
    assert [e["message"][0] for e in tail["events"]] == ["1", "2"]
    first = logs.filter_log_events(logGroupName="big")
    assert [e["message"][0] for e in first["events"]] == ["0", "1"] and first["nextToken"]
    second = logs.filter_log_events(logGroupName="big", nextToken=first["nextToken"])
    assert [e["message"][0] for e in second["events"]] == ["2"] and "nextToken" not in second
