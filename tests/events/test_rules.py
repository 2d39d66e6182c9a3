"""EventBridge through boto3: TestEventPattern against AWS's examples, rules, targets, schedules, kumo's own events."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.sqs.util import drain, queue_with_arn

from .pattern_cases import CASES, EVENT, INVALID


@pytest.fixture
def events(aws):
    return aws("events")


@pytest.fixture
def sqs(aws):
    return aws("sqs")


def queue(sqs, name):
    return queue_with_arn(sqs, name)


def bodies(sqs, url):
    return [m["Body"] for m in drain(sqs, url)]


def test_test_event_pattern_agrees_with_aws_examples(events):
    assert len(CASES) >= 40
    event = json.dumps(EVENT)
    for op, pattern, expected in CASES:
        got = events.test_event_pattern(EventPattern=json.dumps(pattern), Event=event)["Result"]
        assert got is expected, (op, pattern)


def test_invalid_patterns_are_refused(events):
    for pattern in INVALID:
        with pytest.raises(ClientError) as e:
            events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(EVENT))
        assert e.value.response["Error"]["Code"] == "InvalidEventPatternException", pattern
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.put_rule(Name="bad", EventPattern=json.dumps({"source": "not-a-list"}))
    with pytest.raises(ClientError) as e:
        events.test_event_pattern(EventPattern=json.dumps({"source": ["x"]}), Event=json.dumps({"source": "x"}))
    assert e.value.response["Error"]["Code"] == "ValidationException"  # the event lacks id, account ...


def test_rule_routes_matching_events_with_input_transformation(events, sqs):
    url, arn = queue(sqs, "orders-out")
    events.put_rule(Name="big-orders", EventPattern=json.dumps(
        {"source": ["shop"], "detail": {"total": [{"numeric": [">=", 100]}]}}))
    events.put_targets(Rule="big-orders", Targets=[
        {"Id": "transform", "Arn": arn, "InputTransformer": {
            "InputPathsMap": {"id": "$.detail.id", "total": "$.detail.total"},
            "InputTemplate": '{"order": <id>, "amount": <total>, "note": "order <id> of <total>", '
                             '"rule": "<aws.events.rule-name>"}'}},
        {"Id": "path", "Arn": arn, "InputPath": "$.detail"},
        {"Id": "constant", "Arn": arn, "Input": '{"fixed": true}'}])
    out = events.put_events(Entries=[
        {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"id": "o-1", "total": 150})},
        {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"id": "o-2", "total": 20})},
        {"Source": "shop", "DetailType": "Order", "Detail": "not json"}])
    assert out["FailedEntryCount"] == 1 and out["Entries"][2]["ErrorCode"] == "MalformedDetail"
    got = sorted(bodies(sqs, url))
    assert sorted((json.loads(b) for b in got), key=json.dumps) == sorted([
        {"order": "o-1", "amount": 150, "note": "order o-1 of 150", "rule": "big-orders"},
        {"id": "o-1", "total": 150}, {"fixed": True}], key=json.dumps)


def test_default_target_input_is_the_whole_event(events, sqs, account):
    url, arn = queue(sqs, "whole")
    events.put_rule(Name="all-shop", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="all-shop", Targets=[{"Id": "q", "Arn": arn}])
    entry_id = events.put_events(Entries=[{"Source": "shop", "DetailType": "Ping", "Detail": "{}",
                                           "Resources": ["arn:aws:x"]}])["Entries"][0]["EventId"]
    event = json.loads(bodies(sqs, url)[0])
    assert event["id"] == entry_id and event["account"] == account and event["region"] == "us-east-1"
    assert event["detail-type"] == "Ping" and event["resources"] == ["arn:aws:x"] and event["detail"] == {}


def test_sns_target(events, sqs, aws):
    sns = aws("sns")
    topic = sns.create_topic(Name="from-events")["TopicArn"]
    url, arn = queue(sqs, "via-sns")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    events.put_rule(Name="to-sns", EventPattern=json.dumps({"source": ["app"]}))
    events.put_targets(Rule="to-sns", Targets=[{"Id": "t", "Arn": topic, "InputPath": "$.detail"}])
    events.put_events(Entries=[{"Source": "app", "DetailType": "x", "Detail": json.dumps({"k": "v"})}])
    assert [json.loads(b) for b in bodies(sqs, url)] == [{"k": "v"}]


def test_rate_one_minute_fires_once_a_simulated_minute(events, sqs, kumo_server):
    url, arn = queue(sqs, "ticks")
    rule_arn = events.put_rule(Name="every-minute", ScheduleExpression="rate(1 minute)")["RuleArn"]
    events.put_targets(Rule="every-minute", Targets=[{"Id": "q", "Arn": arn}])
    counts = []
    for _ in range(3):
        kumo_server.advance(60)
        counts.append(len(bodies(sqs, url)))
    assert counts == [1, 1, 1]
    kumo_server.advance(600)  # ten minutes in one step: ten firings, one per minute
    fired = [json.loads(b) for b in bodies(sqs, url)]
    assert len(fired) == 10
    assert all(e["detail-type"] == "Scheduled Event" and e["source"] == "aws.events" for e in fired)
    assert all(e["resources"] == [rule_arn] for e in fired)
    times = sorted(e["time"] for e in fired)
    assert len(set(times)) == 10
    events.disable_rule(Name="every-minute")
    kumo_server.advance(180)
    assert bodies(sqs, url) == []
    events.enable_rule(Name="every-minute")
    kumo_server.advance(60)
    assert len(bodies(sqs, url)) == 1


def test_kumo_events_reach_the_default_bus(events, sqs, kumo_server, account):
    url, arn = queue(sqs, "ec2-changes")
    events.put_rule(Name="stopped", EventPattern=json.dumps(
        {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"],
         "detail": {"state": ["stopped"]}}))
    events.put_targets(Rule="stopped", Targets=[{"Id": "q", "Arn": arn}])
    hub = kumo_server.kumo.events
    for state in ("stopping", "stopped"):
        kumo_server.run(hub.publish, account, "us-east-1", "aws.ec2", "EC2 Instance State-change Notification",
                        {"instance-id": "i-0123456789abcdef0", "state": state},
                        [f"arn:aws:ec2:us-east-1:{account}:instance/i-0123456789abcdef0"])
    got = [json.loads(b) for b in bodies(sqs, url)]
    assert [e["detail"]["state"] for e in got] == ["stopped"]
    assert got[0]["account"] == account and got[0]["version"] == "0"


def test_custom_bus_and_errors(events, sqs, account):
    url, arn = queue(sqs, "custom-bus-q")
    bus_arn = events.create_event_bus(Name="orders")["EventBusArn"]
    assert bus_arn == f"arn:aws:events:us-east-1:{account}:event-bus/orders"
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException):
        events.create_event_bus(Name="orders")
    rule_arn = events.put_rule(Name="r", EventBusName="orders", EventPattern=json.dumps({"source": ["s"]}))["RuleArn"]
    assert rule_arn == f"arn:aws:events:us-east-1:{account}:rule/orders/r"
    events.put_targets(Rule="r", EventBusName="orders", Targets=[{"Id": "q", "Arn": arn}])
    events.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}"}])  # default bus: no rule
    events.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}", "EventBusName": bus_arn}])
    assert len(bodies(sqs, url)) == 1
    assert [b["Name"] for b in events.list_event_buses()["EventBuses"]] == ["default", "orders"]
    assert [r["Name"] for r in events.list_rules(EventBusName="orders")["Rules"]] == ["r"]
    assert events.list_rule_names_by_target(TargetArn=arn, EventBusName="orders")["RuleNames"] == ["r"]
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_rule(Name="r")  # it lives on the orders bus
    with pytest.raises(ClientError) as e:
        events.delete_rule(Name="r", EventBusName="orders")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    events.remove_targets(Rule="r", EventBusName="orders", Ids=["q"])
    events.delete_rule(Name="r", EventBusName="orders")
    events.delete_event_bus(Name="orders")
    with pytest.raises(ClientError) as e:
        events.put_rule(Name="sched", EventBusName="orders", ScheduleExpression="rate(1 minute)")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        events.put_rule(Name="sched", ScheduleExpression="rate(1 minutes)")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    out = events.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}", "EventBusName": "nope"}])
    assert out["FailedEntryCount"] == 1


def test_failed_targets_go_to_their_dead_letter_queue(events, sqs, account):
    dlq_url, dlq_arn = queue(sqs, "events-dlq")
    events.put_rule(Name="doomed", EventPattern=json.dumps({"source": ["d"]}))
    out = events.put_targets(Rule="doomed", Targets=[
        {"Id": "gone", "Arn": f"arn:aws:sqs:us-east-1:{account}:no-such-queue", "DeadLetterConfig": {"Arn": dlq_arn}},
        {"Id": "fn", "Arn": f"arn:aws:lambda:us-east-1:{account}:function:f", "DeadLetterConfig": {"Arn": dlq_arn}},
        {"Id": "bad id!", "Arn": dlq_arn}])
    assert out["FailedEntryCount"] == 1 and out["FailedEntries"][0]["TargetId"] == "bad id!"
    events.put_events(Entries=[{"Source": "d", "DetailType": "x", "Detail": "{}"}])
    msgs = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
    assert len(msgs) == 2
    assert {m["MessageAttributes"]["TARGET_ARN"]["StringValue"] for m in msgs} == {
        f"arn:aws:sqs:us-east-1:{account}:no-such-queue", f"arn:aws:lambda:us-east-1:{account}:function:f"}
    assert all(json.loads(m["Body"])["source"] == "d" for m in msgs)


def test_tags_on_rules_and_buses(events, account):
    arn = events.put_rule(Name="tagged", EventPattern=json.dumps({"source": ["x"]}),
                          Tags=[{"Key": "team", "Value": "a"}])["RuleArn"]
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "dev"}])
    assert sorted(t["Key"] for t in events.list_tags_for_resource(ResourceARN=arn)["Tags"]) == ["env", "team"]
    events.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    default = f"arn:aws:events:us-east-1:{account}:event-bus/default"
    events.tag_resource(ResourceARN=default, Tags=[{"Key": "k", "Value": "v"}])
    assert events.list_tags_for_resource(ResourceARN=default)["Tags"] == [{"Key": "k", "Value": "v"}]


def test_events_through_the_aws_cli(aws_cli):
    out = json.loads(aws_cli("events", "put-rule", "--name", "cli-rule", "--event-pattern",
                             json.dumps({"source": ["cli"]})).stdout)
    assert out["RuleArn"].endswith(":rule/cli-rule")
    rules = json.loads(aws_cli("events", "list-rules").stdout)["Rules"]
    assert [r["Name"] for r in rules] == ["cli-rule"]
    result = json.loads(aws_cli("events", "test-event-pattern", "--event-pattern", json.dumps({"source": ["aws.ec2"]}),
                                "--event", json.dumps(EVENT)).stdout)
    assert result["Result"] is True
