"""State survives kill -9; old datapoints are merged and dropped as AWS's retention says."""

import json
import tempfile
import time

import pytest

from kumo.config import Settings
from kumo.core.hub import Datapoint
from kumo.server import ServerThread
from tests.conftest import Clients, claim_loopback

DAY, HOUR = 86400, 3600
ACCOUNT = "111122223333"


def test_metrics_alarms_history_and_logs_survive_kill_9(kumo_process, tmp_path):
    first = kumo_process(data_dir=tmp_path / "data").start()
    cw, logs = first.client("cloudwatch", ACCOUNT), first.client("logs", ACCOUNT)
    cw.put_metric_data(Namespace="Durable", MetricData=[{"MetricName": "m", "Value": 42.0}])
    cw.put_metric_alarm(AlarmName="kept", Namespace="Durable", MetricName="m", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName="kept", StateValue="ALARM", StateReason="before the crash")
    cw.put_dashboard(DashboardName="kept", DashboardBody="{}")
    logs.create_log_group(logGroupName="kept")
    logs.create_log_stream(logGroupName="kept", logStreamName="s")
    now_ms = int(time.time() * 1000)  # the child runs its clock at real time
    logs.put_log_events(logGroupName="kept", logStreamName="s", logEvents=[{"timestamp": now_ms, "message": "hi"}])
    first.kill9()

    second = kumo_process(data_dir=tmp_path / "data").start()
    cw, logs = second.client("cloudwatch", ACCOUNT), second.client("logs", ACCOUNT)
    assert cw.list_metrics(Namespace="Durable")["Metrics"][0]["MetricName"] == "m"
    alarm = cw.describe_alarms(AlarmNames=["kept"])["MetricAlarms"][0]
    assert alarm["Threshold"] == 1.0 and alarm["StateValue"] in ("ALARM", "OK")  # a tick may have re-evaluated
    history = cw.describe_alarm_history(AlarmName="kept")["AlarmHistoryItems"]
    assert any(h["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM" for h in history)
    assert cw.get_dashboard(DashboardName="kept")["DashboardBody"] == "{}"
    events = logs.get_log_events(logGroupName="kept", logStreamName="s")["events"]
    assert [e["message"] for e in events] == ["hi"]


@pytest.fixture
def frozen():
    """A kumo of its own on a frozen clock, so days can pass in one step without other tests' alarms."""
    claim = claim_loopback(8, 60)
    server = ServerThread(Settings(port=0, ephemeral=True, time_scale=0, loopback_base=claim.base,
                                   data_dir=tempfile.mkdtemp(prefix="kumo-retention-"))).start()
    yield server
    server.stop()
    claim.release()


def test_retention_merges_then_drops_old_datapoints(frozen):
    kumo = frozen.kumo
    now = kumo.clock.now() // HOUR * HOUR + HOUR + 30
    frozen.advance(now - kumo.clock.now())
    dims = {"Host": "a"}

    def sink(ages_and_values, resolution=60):
        frozen.run(kumo.metrics.put, [Datapoint(ACCOUNT, "us-east-1", "Old", "m", v, now - age, dims, "Count",
                                                resolution) for age, v in ages_and_values])

    base4h = (now - 4 * HOUR) // 60 * 60
    sink([(now - base4h - s, float(s)) for s in range(0, 60)], resolution=1)          # high resolution, 4 h old
    sink([(20 * DAY - i * 60, float(i)) for i in range(5)])                            # 20 days old, 1-minute
    sink([(100 * DAY - i * 300, 1.0) for i in range(12)])                              # 100 days old
    sink([(500 * DAY, 1.0)])                                                           # past 455 days
    frozen.advance(HOUR)  # one retention pass
    cw = Clients(frozen.endpoint, ACCOUNT)("cloudwatch")
    now = kumo.clock.now()
    q = dict(Namespace="Old", MetricName="m", Dimensions=[{"Name": "Host", "Value": "a"}])

    # High-resolution data older than 3 hours is kept at one minute, raw values and all.
    hi = cw.get_metric_statistics(**q, StartTime=base4h, EndTime=base4h + 60, Period=10,
                                  Statistics=["SampleCount", "Sum"])["Datapoints"]
    assert [(p["Timestamp"].timestamp(), p["SampleCount"], p["Sum"]) for p in hi] == [(base4h, 60.0, 1770.0)]
    p50 = cw.get_metric_statistics(**q, StartTime=base4h, EndTime=base4h + 60, Period=60,
                                   ExtendedStatistics=["p50"])["Datapoints"]
    assert p50[0]["ExtendedStatistics"] == {"p50": 29.0}

    # 15 to 63 days old: five-minute resolution only.
    start20 = (now - HOUR - 20 * DAY - 240) // 300 * 300
    assert cw.get_metric_statistics(**q, StartTime=start20, EndTime=start20 + 600, Period=60,
                                    Statistics=["Sum"])["Datapoints"] == []
    five = cw.get_metric_statistics(**q, StartTime=start20, EndTime=start20 + 900, Period=300,
                                    Statistics=["Sum", "SampleCount"])["Datapoints"]
    assert sum(p["SampleCount"] for p in five) == 5 and sum(p["Sum"] for p in five) == 10.0

    # Past 63 days: one-hour resolution; past 455 days: gone.
    start100 = (now - HOUR - 100 * DAY - 3300) // HOUR * HOUR
    assert cw.get_metric_statistics(**q, StartTime=start100, EndTime=start100 + 2 * HOUR, Period=300,
                                    Statistics=["Sum"])["Datapoints"] == []
    hourly = cw.get_metric_statistics(**q, StartTime=start100, EndTime=start100 + 2 * HOUR, Period=3600,
                                      Statistics=["SampleCount"])["Datapoints"]
    assert sum(p["SampleCount"] for p in hourly) == 12
    start500 = (now - HOUR - 500 * DAY) // HOUR * HOUR
    assert cw.get_metric_statistics(**q, StartTime=start500, EndTime=start500 + 2 * HOUR, Period=3600,
                                    Statistics=["SampleCount"])["Datapoints"] == []


def test_list_metrics_forgets_metrics_quiet_for_two_weeks(frozen):
    cw = Clients(frozen.endpoint, ACCOUNT)("cloudwatch")
    cw.put_metric_data(Namespace="Quiet", MetricData=[{"MetricName": "m", "Value": 1}])
    frozen.advance(4 * HOUR)
    assert len(cw.list_metrics(Namespace="Quiet")["Metrics"]) == 1
    assert cw.list_metrics(Namespace="Quiet", RecentlyActive="PT3H")["Metrics"] == []
    frozen.advance(14 * DAY)
    assert cw.list_metrics(Namespace="Quiet")["Metrics"] == []


def test_reset_wipes_metrics_alarms_history_and_logs(frozen):
    cw = Clients(frozen.endpoint, ACCOUNT)("cloudwatch")
    logs = Clients(frozen.endpoint, ACCOUNT)("logs")
    cw.put_metric_data(Namespace="R", MetricData=[{"MetricName": "m", "Value": 1}])
    cw.put_metric_alarm(AlarmName="r", Namespace="R", MetricName="m", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    logs.create_log_group(logGroupName="r")
    frozen.call(frozen.kumo.reset())
    assert cw.list_metrics()["Metrics"] == [] and cw.describe_alarms()["MetricAlarms"] == []
    assert cw.describe_alarm_history(AlarmName="r")["AlarmHistoryItems"] == []
    assert logs.describe_log_groups()["logGroups"] == []
    assert json.dumps(frozen.kumo.health()["state"])
