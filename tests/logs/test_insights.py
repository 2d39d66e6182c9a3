"""Logs Insights queries, query definitions, GetLogGroupFields and GetLogRecord through boto3."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.lambda_.conftest import wait_for


@pytest.fixture
def logs(aws):
    return aws("logs")


@pytest.fixture
def app_logs(logs, kumo_server):
    logs.create_log_group(logGroupName="/q/app")
    logs.create_log_stream(logGroupName="/q/app", logStreamName="web")
    logs.create_log_stream(logGroupName="/q/app", logStreamName="api")
    base = (int(kumo_server.kumo.clock.now()) // 300 * 300 - 600) * 1000
    web = ["GET /a 200 12", "GET /b 500 300", "POST /a 200 40", "GET /a 404 5"]
    logs.put_log_events(logGroupName="/q/app", logStreamName="web",
                        logEvents=[{"timestamp": base + i * 60_000, "message": m} for i, m in enumerate(web)])
    api = [{"level": "ERROR", "latency": 250, "user": {"id": "u1"}}, {"level": "INFO", "latency": 20,
                                                                        "user": {"id": "u2"}}]
    logs.put_log_events(logGroupName="/q/app", logStreamName="api",
                        logEvents=[{"timestamp": base + 30_000 + i * 60_000, "message": json.dumps(m)}
                                   for i, m in enumerate(api)])
    return base


def query(logs, text, base, **kw):
    qid = logs.start_query(logGroupName="/q/app", startTime=base // 1000 - 60, endTime=base // 1000 + 3600,
                           queryString=text, **kw)["queryId"]
    out = finished(logs, qid)
    assert out["status"] == "Complete"
    return qid, out, [{c["field"]: c["value"] for c in row} for row in out["results"]]


def finished(logs, qid):
    """GetQueryResults polled (as clients poll) until the query leaves Scheduled and Running."""
    seen = []

    def done():
        out = logs.get_query_results(queryId=qid)
        seen.append(out["status"])
        return out if out["status"] not in ("Scheduled", "Running") else None

    out = wait_for(done)
    assert set(seen) <= {"Scheduled", "Running", out["status"]}
    return out


def test_fields_filter_sort_limit_and_ptr(logs, app_logs):
    qid, out, rows = query(logs, "fields @timestamp, @message, @logStream | filter @message like /GET/ "
                                 "| sort @timestamp asc | limit 2", app_logs)
    assert [r["@message"] for r in rows] == ["GET /a 200 12", "GET /b 500 300"]
    assert rows[0]["@logStream"] == "web" and rows[0]["@timestamp"].endswith(".000")
    assert out["statistics"]["recordsScanned"] == 6 and out["statistics"]["recordsMatched"] == 3
    record = logs.get_log_record(logRecordPointer=rows[1]["@ptr"])["logRecord"]
    assert record["@message"] == "GET /b 500 300" and record["@logStream"] == "web"
    found = logs.describe_queries(logGroupName="/q/app")["queries"]
    assert any(q["queryId"] == qid and q["status"] == "Complete" for q in found)
    # Default order: newest first.
    _, _, rows = query(logs, "filter level = 'ERROR' or latency < 30 | fields level, latency, user.id", app_logs)
    assert [(r["level"], r["latency"], r["user.id"]) for r in rows] == [("INFO", "20", "u2"), ("ERROR", "250", "u1")]


def test_parse_and_stats(logs, app_logs):
    _, _, rows = query(logs, 'filter @logStream = "web" | parse @message "* * * *" as method, path, status, ms '
                             "| stats count(*) as n, avg(ms) as avg_ms, max(ms) by path | sort n desc", app_logs)
    assert rows == [{"path": "/a", "n": "3", "avg_ms": "19", "max(ms)": "40"},
                    {"path": "/b", "n": "1", "avg_ms": "300", "max(ms)": "300"}]
    _, _, rows = query(logs, r"parse @message /(?<method>[A-Z]+) (?<path>\S+) (?<status>\d+)/ "
                             "| filter status >= 400 and not status in [500] | display method, path, status",
                       app_logs)
    assert [(r["method"], r["path"], r["status"]) for r in rows] == [("GET", "/a", "404")]
    _, _, rows = query(logs, "filter ispresent(@message) | stats count(*) as c by bin(1m) as t | sort t asc",
                       app_logs)
    assert [r["c"] for r in rows] == ["2", "2", "1", "1"]  # minute 0 and 1 hold a web and an api event each
    assert all(r["t"].endswith(":00.000") for r in rows) and rows[0]["t"] < rows[1]["t"]


def test_bad_queries_and_stop(logs, app_logs):
    with pytest.raises(ClientError) as e:
        logs.start_query(logGroupName="/q/app", startTime=0, endTime=10, queryString="fields | bogus x")
    assert e.value.response["Error"]["Code"] == "MalformedQueryException"
    with pytest.raises(ClientError) as e:
        logs.start_query(logGroupName="/q/missing", startTime=0, endTime=10, queryString="fields @message")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.start_query(logGroupName="/q/app", startTime=10, endTime=5, queryString="fields @message")
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    qid = logs.start_query(logGroupName="/q/app", startTime=0, endTime=10, queryString="fields @message")["queryId"]
    assert finished(logs, qid)["status"] == "Complete"
    assert logs.stop_query(queryId=qid)["success"] is False


def test_query_definitions_fields_and_record(logs, app_logs, kumo_server):
    qid = logs.put_query_definition(name="errors/by-path", queryString="filter level = 'ERROR'",
                                    logGroupNames=["/q/app"])["queryDefinitionId"]
    logs.put_query_definition(name="errors/by-path", queryDefinitionId=qid, queryString="filter level = 'WARN'")
    found = logs.describe_query_definitions(queryDefinitionNamePrefix="errors/")["queryDefinitions"]
    assert [(d["queryDefinitionId"], d["queryString"]) for d in found] == [(qid, "filter level = 'WARN'")]
    assert logs.delete_query_definition(queryDefinitionId=qid)["success"] is True
    with pytest.raises(ClientError) as e:
        logs.delete_query_definition(queryDefinitionId=qid)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    fields = {f["name"]: f["percent"] for f in logs.get_log_group_fields(
        logGroupName="/q/app", time=app_logs // 1000 + 300)["logGroupFields"]}
    assert fields["@message"] == 100 and fields["level"] == 33


def test_a_query_reads_every_chunk(logs, kumo_server):
    logs.create_log_group(logGroupName="/q/big")
    logs.create_log_stream(logGroupName="/q/big", logStreamName="s")
    base = int(kumo_server.kumo.clock.now() * 1000) - 3_600_000
    for batch in range(3):  # 25,000 events: more than two of the query's 10,000-event chunks
        count = 10_000 if batch < 2 else 5_000
        logs.put_log_events(logGroupName="/q/big", logStreamName="s", logEvents=[
            {"timestamp": base + batch * 10_000 + i, "message": f"n={i % 7}"} for i in range(count)])
    qid = logs.start_query(logGroupName="/q/big", startTime=base // 1000 - 1, endTime=base // 1000 + 3600,
                           queryString="parse @message 'n=*' as n | stats count(*) as c, sum(n) as total")["queryId"]
    out = finished(logs, qid)
    row = {c["field"]: c["value"] for c in out["results"][0]}
    expected = sum(i % 7 for i in range(10_000)) * 2 + sum(i % 7 for i in range(5_000))
    assert row == {"c": "25000", "total": str(expected)}
    assert out["statistics"]["recordsScanned"] == 25000
