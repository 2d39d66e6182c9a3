"""The Logs Insights query language and CloudWatch's Metrics Insights grammar as pure logic (sans-IO)."""

import pytest

from kumo.services.cloudwatch import metrics_insights as mi
from kumo.services.logs import insights
from kumo.services.logs.insights_funcs import QueryError, show

RECORDS = [{"@timestamp": 1_699_999_920_000 + i * 60_000, "@message": m, "@ptr": str(i), **extra}
           for i, (m, extra) in enumerate([("GET /a 200 12", {"level": "INFO", "ms": 12}),
                                           ("GET /b 500 300", {"level": "ERROR", "ms": 300}),
                                           ("POST /a 200 40", {"level": "INFO", "ms": 40}),
                                           ("GET /a 404 5", {"level": "WARN"})])]


def run(text):
    rows, matched = insights.parse(text).run([dict(r) for r in RECORDS])
    return [{k: show(v) for k, v in row} for row in rows], matched


def test_filters_and_expressions():
    rows, matched = run("filter ms > 20 and level != 'WARN' | fields @message, ms * 2 as twice")
    assert [(r["@message"], r["twice"]) for r in rows] == [("POST /a 200 40", "80"), ("GET /b 500 300", "600")]
    assert matched == 2
    assert [r["@message"] for r in run("filter not ispresent(ms)")[0]] == ["GET /a 404 5"]
    assert len(run("filter @message like /(?i)get/")[0]) == 3
    assert len(run("filter level in ['WARN', 'ERROR']")[0]) == 2
    assert len(run("filter level not in ['WARN', 'ERROR']")[0]) == 2
    assert run("filter strlen(level) = 4 | display level | dedup level")[0] == \
        [{"level": "WARN", "@ptr": "3"}, {"level": "INFO", "@ptr": "0"}]  # the first INFO kept, newest first
    assert run("fields concat(toupper(level), '-', coalesce(ms, 0)) as tag | sort tag asc | limit 1")[0][0]["tag"] \
        == "ERROR-300"


def test_parse_stats_sort():
    rows, _ = run("parse @message '* * * *' as verb, path, status, took | stats sum(took) as total, "
                  "count_distinct(verb) as verbs, pct(took, 50) as p50 by path | sort total desc")
    assert rows == [{"path": "/b", "total": "300", "verbs": "1", "p50": "300"},
                    {"path": "/a", "total": "57", "verbs": "2", "p50": "12"}]
    rows, _ = run("stats earliest(level) as first, latest(level) as last, stddev(ms) as sd")
    assert rows[0]["first"] == "INFO" and rows[0]["last"] == "WARN" and float(rows[0]["sd"]) > 100
    rows, _ = run("stats count(*) as n by bin(2m)")
    assert [r["n"] for r in rows] == ["2", "2"]


@pytest.mark.parametrize("bad", ["", "fields", "bogus @message", "filter (ms > 1", "stats count(*) by",
                                 "limit 0", "parse @message /no names/", "filter nosuchfn(ms)",
                                 "fields ms | limit 20000", "filter @message like 5"])
def test_malformed_queries(bad):
    with pytest.raises(QueryError):
        insights.parse(bad).run([dict(r) for r in RECORDS])


def test_metrics_insights_grammar():
    q = mi.parse("SELECT MAX(CPUUtilization) FROM SCHEMA(\"AWS/EC2\", InstanceId) WHERE InstanceId != 'i-1' "
                 "AND (InstanceType = 'm5.large' OR InstanceType IN ('t3.micro')) GROUP BY InstanceType "
                 "ORDER BY MAX() DESC LIMIT 10")
    assert (q.func, q.metric, q.namespace, q.schema, q.group_by, q.order, q.limit) == \
        ("MAX", "CPUUtilization", "AWS/EC2", ["InstanceId"], ["InstanceType"], ("MAX", True), 10)
    assert q.where is not None
    assert mi.parse("select avg(Load) from App where Host not in ('a')").selects({"Host": "b"})
    assert not mi.parse("SELECT AVG(Load) FROM App WHERE Host NOT IN ('a')").selects({"Host": "a"})
    schema = mi.parse("SELECT SUM(Load) FROM SCHEMA(App, Host)")
    assert schema.selects({"Host": "a"}) and not schema.selects({"Host": "a", "AZ": "x"})
    for bad in ("SELECT AVG(Load)", "SELECT AVG(Load) FROM App WHERE", "SELECT AVG(Load) FROM App ORDER BY AVG",
                "SELECT AVG(Load) FROM App LIMIT 0", "SELECT AVG(Load) FROM App WHERE Host = a"):
        with pytest.raises(mi.InsightsError):
            mi.parse(bad)
