"""Metric filters that publish to CloudWatch (and an alarm on the result), subscription filters delivering to
Lambda, and the logGroupIdentifier rules, through boto3 against a real kumo."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.lambda_.conftest import TRUST, Functions, wait_for


def error_of(call) -> dict:
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]


@pytest.fixture
def logs(aws):
    return aws("logs")


def _put(logs, group, stream, now_ms, messages):
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": now_ms + i, "message": m} for i, m in enumerate(messages)])


def test_group_identifier_ending_in_star_is_refused(logs, account):
    logs.create_log_group(logGroupName="/star/app")
    logs.create_log_stream(logGroupName="/star/app", logStreamName="s")
    arn = logs.describe_log_groups(logGroupNamePrefix="/star/app")["logGroups"][0]["arn"]
    assert arn.endswith(":*")
    err = error_of(lambda: logs.get_log_events(logGroupIdentifier=arn, logStreamName="s"))
    assert err["Code"] == "InvalidParameterException"
    assert err["Message"] == (f"1 validation error detected: Value '{arn}' at 'logGroupIdentifier' failed to satisfy "
                              "constraint: Member must satisfy regular expression pattern: [\\w#+=/:,.@-]*")
    # The ARN without ':*' (logGroupArn) is the identifier AWS takes.
    assert logs.get_log_events(logGroupIdentifier=arn[:-2], logStreamName="s")["events"] == []


def test_metric_filter_on_error_drives_an_alarm(logs, aws, kumo_server):
    cw = aws("cloudwatch")
    logs.create_log_group(logGroupName="/mf/app")
    logs.create_log_stream(logGroupName="/mf/app", logStreamName="web")
    logs.put_metric_filter(logGroupName="/mf/app", filterName="errors", filterPattern="ERROR",
                           metricTransformations=[{"metricName": "Errors", "metricNamespace": "MF/App",
                                                   "metricValue": "1", "unit": "Count"}])
    described = logs.describe_metric_filters(logGroupName="/mf/app")["metricFilters"]
    assert [(f["filterName"], f["filterPattern"]) for f in described] == [("errors", "ERROR")]
    assert logs.describe_log_groups(logGroupNamePrefix="/mf/app")["logGroups"][0]["metricFilterCount"] == 1
    cw.put_metric_alarm(AlarmName="mf-errors", Namespace="MF/App", MetricName="Errors", Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=2, ComparisonOperator="GreaterThanOrEqualToThreshold",
                        TreatMissingData="notBreaching")
    try:
        kumo_server.advance(60)
        assert cw.describe_alarms(AlarmNames=["mf-errors"])["MetricAlarms"][0]["StateValue"] == "OK"
        now_ms = int(kumo_server.kumo.clock.now() * 1000)
        _put(logs, "/mf/app", "web", now_ms, ["INFO started", "ERROR disk full", "WARN slow", "ERROR timeout",
                                              "ERROR again"])
        stats = cw.get_metric_statistics(Namespace="MF/App", MetricName="Errors", StartTime=now_ms / 1000 - 120,
                                         EndTime=now_ms / 1000 + 120, Period=60, Statistics=["Sum", "SampleCount"])
        assert sum(p["Sum"] for p in stats["Datapoints"]) == 3
        assert all(p["Unit"] == "Count" for p in stats["Datapoints"])
        kumo_server.advance(120)
        alarm = cw.describe_alarms(AlarmNames=["mf-errors"])["MetricAlarms"][0]
        assert alarm["StateValue"] == "ALARM"
    finally:
        cw.delete_alarms(AlarmNames=["mf-errors"])
    logs.delete_metric_filter(logGroupName="/mf/app", filterName="errors")
    assert logs.describe_metric_filters(logGroupName="/mf/app")["metricFilters"] == []
    assert error_of(lambda: logs.delete_metric_filter(logGroupName="/mf/app", filterName="errors"))["Code"] == \
        "ResourceNotFoundException"


def test_metric_filter_values_dimensions_and_default(logs, aws, kumo_server):
    cw = aws("cloudwatch")
    logs.create_log_group(logGroupName="/mf/json")
    logs.create_log_stream(logGroupName="/mf/json", logStreamName="s")
    logs.put_metric_filter(logGroupName="/mf/json", filterName="latency", filterPattern='{ $.latency > 0 }',
                           metricTransformations=[{"metricName": "Latency", "metricNamespace": "MF/Json",
                                                   "metricValue": "$.latency", "unit": "Milliseconds",
                                                   "dimensions": {"Route": "$.route"}}])
    logs.put_metric_filter(logGroupName="/mf/json", filterName="bytes", filterPattern="[ip, user, status=5*, bytes]",
                           metricTransformations=[{"metricName": "Bytes5xx", "metricNamespace": "MF/Json",
                                                   "metricValue": "$bytes", "defaultValue": 0}])
    now_ms = int(kumo_server.kumo.clock.now() * 1000)
    _put(logs, "/mf/json", "s", now_ms, [json.dumps({"latency": 120, "route": "/a"}),
                                         json.dumps({"latency": 80, "route": "/a"}),
                                         json.dumps({"latency": 7, "route": "/b"}), "1.2.3.4 bob 503 700",
                                         "1.2.3.4 bob 200 10"])
    _put(logs, "/mf/json", "s", now_ms + 10, ["1.2.3.4 ann 200 5"])  # no match: the default value
    window = dict(StartTime=now_ms / 1000 - 120, EndTime=now_ms / 1000 + 120, Period=60)
    a = cw.get_metric_statistics(Namespace="MF/Json", MetricName="Latency", Dimensions=[{"Name": "Route",
                                                                                         "Value": "/a"}],
                                 Statistics=["Sum", "Maximum"], **window)["Datapoints"]
    assert sum(p["Sum"] for p in a) == 200 and max(p["Maximum"] for p in a) == 120
    b = cw.get_metric_statistics(Namespace="MF/Json", MetricName="Bytes5xx", Statistics=["Sum", "SampleCount"],
                                 **window)["Datapoints"]
    assert sum(p["Sum"] for p in b) == 700 and sum(p["SampleCount"] for p in b) == 2
    # AWS refuses dimensions beside a default value, and dimensions on a plain term pattern.
    bad = {"metricName": "X", "metricNamespace": "MF/Json", "metricValue": "1", "dimensions": {"A": "$a"}}
    assert error_of(lambda: logs.put_metric_filter(logGroupName="/mf/json", filterName="x", filterPattern="ERROR",
                                                   metricTransformations=[bad]))["Code"] == "InvalidParameterException"
    assert error_of(lambda: logs.put_metric_filter(
        logGroupName="/mf/json", filterName="x", filterPattern="[a]",
        metricTransformations=[{**bad, "defaultValue": 1}]))["Code"] == "InvalidParameterException"
    assert error_of(lambda: logs.put_metric_filter(
        logGroupName="/nope", filterName="x", filterPattern="",
        metricTransformations=[{**bad, "dimensions": {}}]))["Code"] == "ResourceNotFoundException"
    found = logs.describe_metric_filters(metricName="Latency", metricNamespace="MF/Json")["metricFilters"]
    assert [f["filterName"] for f in found] == ["latency"]


def test_test_metric_filter(logs):
    out = logs.test_metric_filter(filterPattern="[ip, user, status=4*, bytes]",
                                  logEventMessages=["1.1.1.1 a 404 10", "1.1.1.1 b 200 5", "2.2.2.2 c 403 7"])
    assert [(m["eventNumber"], m["extractedValues"]["$3"]) for m in out["matches"]] == [(1, "404"), (3, "403")]
    assert logs.test_metric_filter(filterPattern='?ERROR ?WARN -ignored',
                                   logEventMessages=["WARN x", "ERROR ignored", "INFO"])["matches"][0][
        "eventMessage"] == "WARN x"
    assert error_of(lambda: logs.test_metric_filter(filterPattern="{ $.a = ", logEventMessages=["x"]))["Code"] == \
        "InvalidParameterException"


DECODER = """
import base64, gzip, json

def handler(event, context):
    body = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    print("DECODED " + json.dumps(body, sort_keys=True))
    return {"ok": True}
"""


def test_subscription_filter_delivers_to_lambda(logs, aws, account, kumo_server):
    lam, iam = aws("lambda"), aws("iam")
    role = iam.create_role(RoleName="sub-exec", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    fns = Functions(lam, role)
    try:
        fn = fns.python("log-sink", DECODER)["FunctionArn"]
        logs.create_log_group(logGroupName="/sub/app")
        logs.create_log_stream(logGroupName="/sub/app", logStreamName="web-1")
        # Without a permission for logs.amazonaws.com, AWS refuses the filter.
        err = error_of(lambda: logs.put_subscription_filter(logGroupName="/sub/app", filterName="to-lambda",
                                                            filterPattern="ERROR", destinationArn=fn))
        assert err["Code"] == "InvalidParameterException" and "permission" in err["Message"]
        lam.add_permission(FunctionName="log-sink", StatementId="logs", Action="lambda:InvokeFunction",
                           Principal="logs.amazonaws.com",
                           SourceArn=f"arn:aws:logs:us-east-1:{account}:log-group:/sub/app:*")
        logs.put_subscription_filter(logGroupName="/sub/app", filterName="to-lambda", filterPattern="ERROR",
                                     destinationArn=fn)
        subs = logs.describe_subscription_filters(logGroupName="/sub/app")["subscriptionFilters"]
        assert [(s["filterName"], s["destinationArn"], s["distribution"]) for s in subs] == \
            [("to-lambda", fn, "ByLogStream")]
        now_ms = int(kumo_server.kumo.clock.now() * 1000)
        _put(logs, "/sub/app", "web-1", now_ms, ["INFO fine", "ERROR broke", "ERROR again"])

        def decoded():
            try:
                found = logs.filter_log_events(logGroupName="/aws/lambda/log-sink", filterPattern="DECODED")
            except logs.exceptions.ResourceNotFoundException:
                return None
            return [json.loads(e["message"].split("DECODED ", 1)[1]) for e in found["events"]]

        body = wait_for(decoded, timeout=60)[0]
        assert body["messageType"] == "DATA_MESSAGE" and body["owner"] == account
        assert body["logGroup"] == "/sub/app" and body["logStream"] == "web-1"
        assert body["subscriptionFilters"] == ["to-lambda"]
        assert [(e["timestamp"], e["message"]) for e in body["logEvents"]] == \
            [(now_ms + 1, "ERROR broke"), (now_ms + 2, "ERROR again")]
        ids = [e["eventId"] for e in logs.filter_log_events(logGroupName="/sub/app", filterPattern="ERROR")["events"]]
        assert [e["id"] for e in body["logEvents"]] == ids

        # Two filters per group at most; Kinesis (absent in kumo) is answered as AWS answers a missing stream.
        kinesis = f"arn:aws:kinesis:us-east-1:{account}:stream/nope"
        err = error_of(lambda: logs.put_subscription_filter(logGroupName="/sub/app", filterName="k",
                                                            filterPattern="", destinationArn=kinesis,
                                                            roleArn=role))
        assert err["Code"] == "InvalidParameterException" and "Kinesis stream" in err["Message"]
        logs.delete_subscription_filter(logGroupName="/sub/app", filterName="to-lambda")
        assert logs.describe_subscription_filters(logGroupName="/sub/app")["subscriptionFilters"] == []
        assert error_of(lambda: logs.delete_subscription_filter(logGroupName="/sub/app", filterName="to-lambda"))[
            "Code"] == "ResourceNotFoundException"

        # An account-level subscription filter policy delivers from every group its criteria select.
        doc = json.dumps({"DestinationArn": fn, "FilterPattern": "PANIC"})
        logs.put_account_policy(policyName="all-panics", policyType="SUBSCRIPTION_FILTER_POLICY",
                                policyDocument=doc, selectionCriteria='LogGroupName NOT IN ["/sub/quiet"]')
        listed = logs.describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")["accountPolicies"]
        assert [(a["policyName"], a["selectionCriteria"]) for a in listed] == \
            [("all-panics", 'LogGroupName NOT IN ["/sub/quiet"]')]
        for group in ("/sub/quiet", "/sub/loud"):  # quiet first: its delivery, were there one, would come first
            logs.create_log_group(logGroupName=group)
            logs.create_log_stream(logGroupName=group, logStreamName="s")
            _put(logs, group, "s", now_ms, [f"PANIC in {group}"])
        panics = wait_for(lambda: [b for b in decoded() or [] if b["subscriptionFilters"] == ["all-panics"]],
                          timeout=60)
        assert [(b["logGroup"], b["logEvents"][0]["message"]) for b in panics] == [("/sub/loud", "PANIC in /sub/loud")]
        logs.delete_account_policy(policyName="all-panics", policyType="SUBSCRIPTION_FILTER_POLICY")
        assert error_of(lambda: logs.delete_account_policy(policyName="all-panics",
                                                           policyType="SUBSCRIPTION_FILTER_POLICY"))["Code"] == \
            "ResourceNotFoundException"
        assert error_of(lambda: logs.put_account_policy(policyName="t", policyType="TRANSFORMER_POLICY",
                                                        policyDocument="{}"))["Code"] == "InvalidParameterException"
    finally:
        for f in lam.list_functions().get("Functions", []):
            lam.delete_function(FunctionName=f["FunctionName"])
