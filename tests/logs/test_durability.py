"""Issue 16's Logs and CloudWatch resources survive kill -9, and a metric filter keeps publishing after it."""

import json
import time

ACCOUNT = "111122223333"


def test_filters_policies_queries_detectors_and_streams_survive_kill_9(kumo_process, tmp_path):
    first = kumo_process(data_dir=tmp_path / "data").start()
    cw, logs = first.client("cloudwatch", ACCOUNT), first.client("logs", ACCOUNT)
    logs.create_log_group(logGroupName="/kept")
    logs.create_log_stream(logGroupName="/kept", logStreamName="s")
    logs.put_metric_filter(logGroupName="/kept", filterName="errors", filterPattern="ERROR",
                           metricTransformations=[{"metricName": "Errors", "metricNamespace": "Kept",
                                                   "metricValue": "1"}])
    logs.put_resource_policy(policyName="p", policyDocument=json.dumps({"Statement": []}))
    qid = logs.put_query_definition(name="q", queryString="fields @message")["queryDefinitionId"]
    cw.put_anomaly_detector(SingleMetricAnomalyDetector={"Namespace": "Kept", "MetricName": "Errors",
                                                         "Stat": "Sum"})
    cw.put_metric_stream(Name="s", FirehoseArn=f"arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/d",
                         RoleArn=f"arn:aws:iam::{ACCOUNT}:role/r", OutputFormat="json")
    first.kill9()

    second = kumo_process(data_dir=tmp_path / "data").start()
    cw, logs = second.client("cloudwatch", ACCOUNT), second.client("logs", ACCOUNT)
    assert [f["filterName"] for f in logs.describe_metric_filters(logGroupName="/kept")["metricFilters"]] == ["errors"]
    assert [p["policyName"] for p in logs.describe_resource_policies()["resourcePolicies"]] == ["p"]
    assert [d["queryDefinitionId"] for d in logs.describe_query_definitions()["queryDefinitions"]] == [qid]
    assert len(cw.describe_anomaly_detectors()["AnomalyDetectors"]) == 1
    assert cw.get_metric_stream(Name="s")["State"] == "running"
    now_ms = int(time.time() * 1000)  # the child runs its clock at real time
    logs.put_log_events(logGroupName="/kept", logStreamName="s",
                        logEvents=[{"timestamp": now_ms, "message": "ERROR after restart"}])
    stats = cw.get_metric_statistics(Namespace="Kept", MetricName="Errors", StartTime=now_ms / 1000 - 120,
                                     EndTime=now_ms / 1000 + 120, Period=60, Statistics=["Sum"])["Datapoints"]
    assert sum(p["Sum"] for p in stats) == 1
