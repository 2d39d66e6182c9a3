"""Asynchronous invocation: AWS's retries on kumo's clock, destinations, dead-letter queues, durability."""

from __future__ import annotations

import json

import pytest

from .conftest import TRUST, wait_active, wait_for, zip_of

FAILING = "def handler(event, context):\n    raise RuntimeError('always fails: ' + str(event.get('n')))\n"


def _queue(sqs, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _starts(logs, group: str, request_id: str) -> int:
    try:
        events = logs.filter_log_events(logGroupName=group, filterPattern=f'"START RequestId: {request_id}"')
    except logs.exceptions.ResourceNotFoundException:
        return 0
    reports = logs.filter_log_events(logGroupName=group, filterPattern=f'"REPORT RequestId: {request_id}"')
    return min(len(events["events"]), len(reports["events"]))


def test_failing_event_is_tried_three_times_then_reaches_on_failure_and_dlq(fns, lam, aws, kumo_server):
    sqs, logs = aws("sqs"), aws("logs")
    dlq_url, dlq_arn = _queue(sqs, "fn-dlq")
    fail_url, fail_arn = _queue(sqs, "on-failure")
    fns.python("flaky", FAILING, DeadLetterConfig={"TargetArn": dlq_arn})
    lam.put_function_event_invoke_config(FunctionName="flaky",
                                         DestinationConfig={"OnFailure": {"Destination": fail_arn}})
    resp = lam.invoke(FunctionName="flaky", InvocationType="Event", Payload=json.dumps({"n": 7}))
    rid = resp["ResponseMetadata"]["RequestId"]
    wait_for(lambda: _starts(logs, "/aws/lambda/flaky", rid) == 1)
    kumo_server.advance(59)
    assert _starts(logs, "/aws/lambda/flaky", rid) == 1  # AWS waits a minute before the second attempt
    kumo_server.advance(1)
    wait_for(lambda: _starts(logs, "/aws/lambda/flaky", rid) == 2)
    kumo_server.advance(120)  # and two minutes before the third
    wait_for(lambda: _starts(logs, "/aws/lambda/flaky", rid) == 3)
    failed = sqs.receive_message(QueueUrl=fail_url, WaitTimeSeconds=10)["Messages"]
    record = json.loads(failed[0]["Body"])
    assert record["version"] == "1.0"
    assert record["requestContext"] == {
        "requestId": rid, "functionArn": f"{fns.lam.get_function(FunctionName='flaky')['Configuration']['FunctionArn']}"
                                         ":$LATEST",
        "condition": "RetriesExhausted", "approximateInvokeCount": 3}
    assert record["requestPayload"] == {"n": 7}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                         "functionError": "Unhandled"}
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["responsePayload"]["errorMessage"] == "always fails: 7"
    assert record["timestamp"].endswith("Z")
    dead = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=10, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(dead[0]["Body"]) == {"n": 7}
    attrs = dead[0]["MessageAttributes"]
    assert attrs["RequestID"]["StringValue"] == rid
    assert attrs["ErrorCode"] == {"StringValue": "200", "DataType": "Number"}
    assert attrs["ErrorMessage"]["StringValue"] == "always fails: 7"
    kumo_server.advance(600)
    assert _starts(logs, "/aws/lambda/flaky", rid) == 3  # no fourth attempt


def test_event_invoke_config_limits_retries_and_age(fns, lam, aws, kumo_server):
    sqs, logs = aws("sqs"), aws("logs")
    fail_url, fail_arn = _queue(sqs, "aged")
    fns.python("no-retry", FAILING)
    config = lam.put_function_event_invoke_config(FunctionName="no-retry", MaximumRetryAttempts=0,
                                                  DestinationConfig={"OnFailure": {"Destination": fail_arn}})
    assert config["MaximumRetryAttempts"] == 0 and config["MaximumEventAgeInSeconds"] == 21600
    rid = lam.invoke(FunctionName="no-retry", InvocationType="Event", Payload=b"{}")["ResponseMetadata"]["RequestId"]
    message = sqs.receive_message(QueueUrl=fail_url, WaitTimeSeconds=10)["Messages"][0]
    sqs.delete_message(QueueUrl=fail_url, ReceiptHandle=message["ReceiptHandle"])
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    wait_for(lambda: _starts(logs, "/aws/lambda/no-retry", rid) == 1)
    # Retries allowed, but the event may not grow older than 90 s: the second failure ends it.
    lam.update_function_event_invoke_config(FunctionName="no-retry", MaximumRetryAttempts=2,
                                            MaximumEventAgeInSeconds=90)
    rid = lam.invoke(FunctionName="no-retry", InvocationType="Event", Payload=b"{}")["ResponseMetadata"]["RequestId"]
    wait_for(lambda: _starts(logs, "/aws/lambda/no-retry", rid) == 1)
    kumo_server.advance(60)
    record = json.loads(sqs.receive_message(QueueUrl=fail_url, WaitTimeSeconds=10)["Messages"][0]["Body"])
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 2


def test_throttled_events_wait_and_expire_without_running(fns, lam, aws, kumo_server):
    sqs = aws("sqs")
    fail_url, fail_arn = _queue(sqs, "throttled")
    fns.python("held", "def handler(e, c):\n    return 'ran'\n")
    lam.put_function_concurrency(FunctionName="held", ReservedConcurrentExecutions=0)
    lam.put_function_event_invoke_config(FunctionName="held", MaximumEventAgeInSeconds=60,
                                         DestinationConfig={"OnFailure": {"Destination": fail_arn}})
    lam.invoke(FunctionName="held", InvocationType="Event", Payload=b'{"k": 1}')
    kumo_server.advance(30)
    assert "Messages" not in sqs.receive_message(QueueUrl=fail_url)
    kumo_server.advance(40)
    record = json.loads(sqs.receive_message(QueueUrl=fail_url, WaitTimeSeconds=10)["Messages"][0]["Body"])
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in record and record["requestPayload"] == {"k": 1}


def test_event_invoke_config_api(fns, lam, aws):
    sqs = aws("sqs")
    _url, arn = _queue(sqs, "eic")
    fns.python("eic", "def handler(e, c):\n    return 1\n")
    lam.publish_version(FunctionName="eic")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_event_invoke_config(FunctionName="eic")
    lam.put_function_event_invoke_config(FunctionName="eic", Qualifier="1", MaximumRetryAttempts=1,
                                         DestinationConfig={"OnSuccess": {"Destination": arn}})
    got = lam.get_function_event_invoke_config(FunctionName="eic", Qualifier="1")
    assert got["FunctionArn"].endswith(":function:eic:1")
    assert got["DestinationConfig"]["OnSuccess"] == {"Destination": arn}
    updated = lam.update_function_event_invoke_config(FunctionName="eic", Qualifier="1", MaximumEventAgeInSeconds=100)
    assert updated["MaximumRetryAttempts"] == 1 and updated["MaximumEventAgeInSeconds"] == 100
    listed = lam.list_function_event_invoke_configs(FunctionName="eic")["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"].rsplit(":", 1)[1] for c in listed] == ["1"]
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.put_function_event_invoke_config(FunctionName="eic",
                                             DestinationConfig={"OnFailure": {"Destination": "arn:aws:ec2:x"}})
    lam.delete_function_event_invoke_config(FunctionName="eic", Qualifier="1")
    assert lam.list_function_event_invoke_configs(FunctionName="eic")["FunctionEventInvokeConfigs"] == []


def test_an_accepted_event_survives_kill_9(kumo_process):
    kumo = kumo_process().start()
    iam, lam, sqs = kumo.client("iam"), kumo.client("lambda"), kumo.client("sqs")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    url = sqs.create_queue(QueueName="done")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lam.create_function(FunctionName="later", Runtime="python3.12", Role=role, Handler="lambda_function.handler",
                        Code={"ZipFile": zip_of({"lambda_function.py": "def handler(e, c):\n    return e\n"})})
    wait_active(lam, "later")
    lam.put_function_event_invoke_config(FunctionName="later", DestinationConfig={"OnSuccess": {"Destination": arn}})
    lam.put_function_concurrency(FunctionName="later", ReservedConcurrentExecutions=0)  # accepted, not run
    rid = lam.invoke(FunctionName="later", InvocationType="Event",
                     Payload=b'{"survives": true}')["ResponseMetadata"]["RequestId"]
    kumo.kill9()
    again = kumo_process(like=kumo).start()
    try:
        lam2, sqs2 = again.client("lambda"), again.client("sqs")
        lam2.delete_function_concurrency(FunctionName="later")
        record = json.loads(sqs2.receive_message(QueueUrl=url, WaitTimeSeconds=20)["Messages"][0]["Body"])
        assert record["requestContext"]["requestId"] == rid
        assert record["responsePayload"] == {"survives": True}
    finally:
        again.close()


def test_an_acknowledged_eventbridge_event_reaches_its_function_across_kill_9(kumo_process):
    kumo = kumo_process().start()
    iam, lam, sqs, events = kumo.client("iam"), kumo.client("lambda"), kumo.client("sqs"), kumo.client("events")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    url = sqs.create_queue(QueueName="done")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    fn = lam.create_function(FunctionName="on-order", Runtime="python3.12", Role=role,
                             Handler="lambda_function.handler",
                             Code={"ZipFile": zip_of({"lambda_function.py": "def handler(e, c):\n    return e\n"})})
    wait_active(lam, "on-order")
    lam.put_function_event_invoke_config(FunctionName="on-order", DestinationConfig={"OnSuccess": {"Destination": arn}})
    lam.put_function_concurrency(FunctionName="on-order", ReservedConcurrentExecutions=0)  # queued, not run yet
    events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="orders", Targets=[{"Id": "fn", "Arn": fn["FunctionArn"]}])
    put = events.put_events(Entries=[{"Source": "shop", "DetailType": "order", "Detail": '{"id": 7}'}])
    assert put["FailedEntryCount"] == 0
    kumo.kill9()  # right after PutEvents answered
    again = kumo_process(like=kumo).start()
    try:
        again.client("lambda").delete_function_concurrency(FunctionName="on-order")
        record = json.loads(again.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=20)["Messages"][0]["Body"])
        assert record["requestPayload"]["id"] == put["Entries"][0]["EventId"]
        assert record["requestPayload"]["detail"] == {"id": 7}
        assert record["requestContext"]["condition"] == "Success"
    finally:
        again.close()


def test_sns_dead_letter_topic_and_lambda_and_sns_destinations(fns, lam, aws):
    sqs, sns = aws("sqs"), aws("sns")
    # A topic as the dead-letter target, read through an SQS subscription.
    dead_url, dead_arn = _queue(sqs, "dead-via-sns")
    topic = sns.create_topic(Name="dead-letters")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=dead_arn, Attributes={"RawMessageDelivery": "true"})
    fns.python("to-topic", FAILING, DeadLetterConfig={"TargetArn": topic})
    lam.put_function_event_invoke_config(FunctionName="to-topic", MaximumRetryAttempts=0)
    lam.invoke(FunctionName="to-topic", InvocationType="Event", Payload=b'{"n": 3}')
    dead = sqs.receive_message(QueueUrl=dead_url, WaitTimeSeconds=10)["Messages"]
    assert json.loads(dead[0]["Body"]) == {"n": 3}
    # A function as the success destination: it is invoked asynchronously with the invocation record,
    # and its own OnSuccess topic passes that on.
    out_url, out_arn = _queue(sqs, "chained")
    results = sns.create_topic(Name="results")["TopicArn"]
    sns.subscribe(TopicArn=results, Protocol="sqs", Endpoint=out_arn, Attributes={"RawMessageDelivery": "true"})
    second = fns.python("second", "def handler(e, c):\n    return {'saw': e['requestContext']['condition']}\n")
    fns.python("first", "def handler(e, c):\n    return 'first done'\n")
    lam.put_function_event_invoke_config(FunctionName="first",
                                         DestinationConfig={"OnSuccess": {"Destination": second["FunctionArn"]}})
    lam.put_function_event_invoke_config(FunctionName="second",
                                         DestinationConfig={"OnSuccess": {"Destination": results}})
    lam.invoke(FunctionName="first", InvocationType="Event", Payload=b"{}")
    record = json.loads(sqs.receive_message(QueueUrl=out_url, WaitTimeSeconds=10)["Messages"][0]["Body"])
    assert record["responsePayload"] == {"saw": "Success"}
    assert record["requestPayload"]["responsePayload"] == "first done"
