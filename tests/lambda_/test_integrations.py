"""The Lambda targets other services left open: SNS subscriptions, EventBridge targets, alarm actions, and
function URLs serving real HTTP."""

from __future__ import annotations

import datetime
import json
import urllib.error
import urllib.request

import pytest



ECHO = "def handler(event, context):\n    return event\n"


def _success_queue(fns, aws, name: str) -> str:
    """An SQS queue receiving the function's OnSuccess records; returns its URL."""
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=f"{name}-ok")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    fns.lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}})
    return url


def _record(aws, url: str) -> dict:
    messages = aws("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=15).get("Messages", [])
    assert messages, "no invocation record arrived"
    return json.loads(messages[0]["Body"])


def test_sns_subscription_invokes_the_function(fns, aws):
    arn = fns.python("from-sns", ECHO)["FunctionArn"]
    url = _success_queue(fns, aws, "from-sns")
    sns = aws("sns")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)["SubscriptionArn"]
    sns.publish(TopicArn=topic, Message="disk full", Subject="ops",
                MessageAttributes={"level": {"DataType": "String", "StringValue": "high"}})
    event = _record(aws, url)["requestPayload"]
    record = event["Records"][0]
    assert record["EventSource"] == "aws:sns" and record["EventSubscriptionArn"] == sub
    assert record["Sns"]["Message"] == "disk full" and record["Sns"]["Subject"] == "ops"
    assert record["Sns"]["MessageAttributes"] == {"level": {"Type": "String", "Value": "high"}}


def test_eventbridge_rule_targets_the_function(fns, aws):
    arn = fns.python("from-events", ECHO)["FunctionArn"]
    url = _success_queue(fns, aws, "from-events")
    events = aws("events")
    events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="orders", Targets=[{"Id": "fn", "Arn": arn}])
    events.put_events(Entries=[{"Source": "shop", "DetailType": "order", "Detail": json.dumps({"id": 7})}])
    event = _record(aws, url)["requestPayload"]
    assert event["source"] == "shop" and event["detail"] == {"id": 7} and event["detail-type"] == "order"


def test_eventbridge_bus_as_a_destination(fns, aws, account):
    fns.python("to-bus", ECHO)
    sqs, events = aws("sqs"), aws("events")
    url = sqs.create_queue(QueueName="bus-out")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="results", EventPattern=json.dumps({"source": ["lambda"]}))
    events.put_targets(Rule="results", Targets=[{"Id": "q", "Arn": qarn}])
    bus = f"arn:aws:events:us-east-1:{account}:event-bus/default"
    fns.lam.put_function_event_invoke_config(FunctionName="to-bus", DestinationConfig={"OnSuccess": {"Destination": bus}})
    fns.lam.invoke(FunctionName="to-bus", InvocationType="Event", Payload=b'{"x": 1}')
    event = _record(aws, url)
    assert event["detail-type"] == "Lambda Function Invocation Result - Success"
    assert event["detail"]["responsePayload"] == {"x": 1}


def test_alarm_action_invokes_the_function(fns, aws, account):
    arn = fns.python("on-alarm", ECHO)["FunctionArn"]
    url = _success_queue(fns, aws, "on-alarm")
    cw = aws("cloudwatch")
    cw.put_metric_alarm(AlarmName="cpu-high", MetricName="CPUUtilization", Namespace="AWS/EC2", Statistic="Average",
                        Period=60, EvaluationPeriods=1, Threshold=80, ComparisonOperator="GreaterThanThreshold",
                        AlarmActions=[arn], Dimensions=[{"Name": "InstanceId", "Value": "i-1"}])
    cw.set_alarm_state(AlarmName="cpu-high", StateValue="ALARM", StateReason="testing")
    event = _record(aws, url)["requestPayload"]
    assert event["source"] == "aws.cloudwatch" and event["accountId"] == account
    assert event["alarmArn"] == f"arn:aws:cloudwatch:us-east-1:{account}:alarm:cpu-high"
    data = event["alarmData"]
    assert data["alarmName"] == "cpu-high"
    assert data["state"]["value"] == "ALARM" and data["state"]["reason"] == "testing"
    assert data["previousState"]["value"] == "INSUFFICIENT_DATA"
    metric = data["configuration"]["metrics"][0]["metricStat"]
    assert metric["metric"] == {"namespace": "AWS/EC2", "name": "CPUUtilization", "dimensions": {"InstanceId": "i-1"}}


URL_HANDLER = """
import json
def handler(event, context):
    if event["rawPath"] == "/plain":
        return {"plain": True}
    return {"statusCode": 201, "headers": {"X-Seen": event["requestContext"]["http"]["method"]},
            "cookies": ["a=1"],
            "body": json.dumps({"path": event["rawPath"], "query": event.get("queryStringParameters"),
                                "raw": event["rawQueryString"], "body": event.get("body"),
                                "version": event["version"], "ua": event["headers"].get("user-agent")})}
"""


def test_function_url_serves_real_http(fns, lam):
    fns.python("web", URL_HANDLER)
    config = lam.create_function_url_config(FunctionName="web", AuthType="NONE")
    url = config["FunctionUrl"]
    assert url.startswith("http://127.") and url.endswith("/")
    assert lam.get_function_url_config(FunctionName="web")["FunctionUrl"] == url
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.create_function_url_config(FunctionName="web", AuthType="NONE")
    req = urllib.request.Request(url + "items/7?color=red&color=blue", data=b"hello", method="POST",
                                 headers={"User-Agent": "kumo-test"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 201 and resp.headers["X-Seen"] == "POST"
        assert resp.headers["Set-Cookie"] == "a=1"
        body = json.loads(resp.read())
    assert body == {"path": "/items/7", "query": {"color": "red,blue"}, "raw": "color=red&color=blue",
                    "body": "hello", "version": "2.0", "ua": "kumo-test"}
    with urllib.request.urlopen(url + "plain", timeout=10) as resp:
        assert resp.status == 200 and json.loads(resp.read()) == {"plain": True}
    lam.update_function_url_config(FunctionName="web", AuthType="AWS_IAM")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url, timeout=10)
    assert caught.value.code == 403
    lam.delete_function_url_config(FunctionName="web")
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)


def test_function_url_event_is_stamped_on_kumos_clock(fns, lam, kumo_server):
    fns.python("web-time", "def handler(event, context):\n"
                           "    return {'epoch': event['requestContext']['timeEpoch'], "
                           "'time': event['requestContext']['time']}\n")
    url = lam.create_function_url_config(FunctionName="web-time", AuthType="NONE")["FunctionUrl"]
    kumo_server.advance(600)  # kumo's clock now runs ten minutes ahead of the host's
    now = kumo_server.run(kumo_server.kumo.clock.now)
    with urllib.request.urlopen(url, timeout=10) as resp:
        doc = json.loads(resp.read())
    assert now * 1000 - 1000 <= doc["epoch"] <= now * 1000 + 5000
    day = datetime.datetime.fromtimestamp(doc["epoch"] / 1000, datetime.timezone.utc).strftime("%d/%b/%Y")
    assert doc["time"].startswith(day)


def test_function_url_of_a_failing_function_answers_502(fns, lam):
    fns.python("web-err", "def handler(e, c):\n    raise ValueError('x')\n")
    url = lam.create_function_url_config(FunctionName="web-err", AuthType="NONE")["FunctionUrl"]
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url, timeout=10)
    assert caught.value.code == 502


ALB_HANDLER = """
import base64, json
def handler(event, context):
    if event["path"] == "/broken":
        return {"no": "statusCode"}
    body = {"method": event["httpMethod"], "path": event["path"], "tg": event["requestContext"]["elb"]["targetGroupArn"],
            "query": event.get("queryStringParameters"), "mquery": event.get("multiValueQueryStringParameters"),
            "host": (event.get("headers") or {}).get("host"), "mhost": (event.get("multiValueHeaders") or {}).get("host"),
            "body": event["body"], "b64": event["isBase64Encoded"]}
    return {"statusCode": 200, "statusDescription": "200 OK", "isBase64Encoded": False,
            "headers": {"Content-Type": "application/json", "X-From": "lambda"}, "body": json.dumps(body)}
"""


def test_alb_target_group_of_type_lambda(fns, aws):
    import http.client

    arn = fns.python("behind-alb", ALB_HANDLER)["FunctionArn"]
    ec2, elb = aws("ec2"), aws("elbv2")
    subnets = sorted(ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"],
                     key=lambda s: s["AvailabilityZone"])[:2]
    lb = elb.create_load_balancer(Name="fn-alb", Subnets=[s["SubnetId"] for s in subnets])["LoadBalancers"][0]
    try:
        tg = elb.create_target_group(Name="fn-tg", TargetType="lambda")["TargetGroups"][0]
        # AWS refuses the registration unless the function's policy lets Elastic Load Balancing invoke it.
        aws("lambda").add_permission(FunctionName="behind-alb", StatementId="alb", Action="lambda:InvokeFunction",
                                     Principal="elasticloadbalancing.amazonaws.com", SourceArn=tg["TargetGroupArn"])
        elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": arn}])
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
        elb.get_waiter("load_balancer_available").wait(LoadBalancerArns=[lb["LoadBalancerArn"]],
                                                       WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
        lb = elb.describe_load_balancers(LoadBalancerArns=[lb["LoadBalancerArn"]])["LoadBalancers"][0]
        host = lb["AvailabilityZones"][0]["LoadBalancerAddresses"][0]["IpAddress"]
        health = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
        assert health[0]["Target"]["Id"] == arn
        assert health[0]["TargetHealth"]["Reason"] == "Target.HealthCheckDisabled"

        def request(method, path, body=None, headers=None):
            conn = http.client.HTTPConnection(host, 80, timeout=10)
            try:
                conn.request(method, path, body=body, headers=headers or {})
                resp = conn.getresponse()
                return resp.status, resp.msg, resp.read()
            finally:
                conn.close()

        status, headers, body = request("POST", "/orders?id=1&id=2&x=a%20b", body=b"payload",
                                        headers={"Content-Type": "text/plain"})
        assert status == 200 and headers["X-From"] == "lambda"
        doc = json.loads(body)
        assert doc["method"] == "POST" and doc["path"] == "/orders" and doc["tg"] == tg["TargetGroupArn"]
        assert doc["query"] == {"id": "2", "x": "a%20b"}  # single-value mode: the last value, as sent
        assert doc["host"] == host and doc["body"] == "payload" and doc["b64"] is False
        elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
            {"Key": "lambda.multi_value_headers.enabled", "Value": "true"}])
        status, _, body = request("GET", "/m?id=1&id=2")
        doc = json.loads(body)
        assert doc["mquery"] == {"id": ["1", "2"]} and doc["mhost"] == [host] and doc["query"] is None
        status, _, _ = request("GET", "/broken")
        assert status == 502  # an answer without statusCode
    finally:
        for listener in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
            elb.delete_listener(ListenerArn=listener["ListenerArn"])
        elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
