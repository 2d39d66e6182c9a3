"""SQS event source mappings: batches, partial batch failures, redelivery and the queue's DLQ."""

from __future__ import annotations

import json

import pytest

from .conftest import wait_for

PARTIAL = """
def handler(event, context):
    failures = []
    for r in event["Records"]:
        assert r["eventSource"] == "aws:sqs" and r["eventSourceARN"].endswith(":work")
        if r["body"].startswith("fail"):
            print("failing", r["body"], "receive", r["attributes"]["ApproximateReceiveCount"])
            failures.append({"itemIdentifier": r["messageId"]})
        else:
            print("processed", r["body"])
    return {"batchItemFailures": failures}
"""


def _queues(sqs, name: str, max_receives: int = 2, visibility: int = 30) -> tuple[str, str, str]:
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName=name, Attributes={
        "VisibilityTimeout": str(visibility),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn, dlq


def _count(logs, group: str, phrase: str) -> int:
    total, token = 0, None
    while True:
        kw = {"nextToken": token} if token else {}
        try:
            page = logs.filter_log_events(logGroupName=group, filterPattern=f'"{phrase}"', **kw)
        except logs.exceptions.ResourceNotFoundException:
            return 0
        total += len(page["events"])
        token = page.get("nextToken")
        if not token:
            return total


def _attr(sqs, url: str, name: str) -> int:
    return int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[name])["Attributes"][name])


def test_a_thousand_messages_with_partial_batch_failures(fns, lam, aws, kumo_server):
    sqs, logs = aws("sqs"), aws("logs")
    url, arn, dlq = _queues(sqs, "work")
    fns.python("consumer", PARTIAL, Timeout=10)
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", BatchSize=10,
                                              FunctionResponseTypes=["ReportBatchItemFailures"])
    assert mapping["State"] == "Creating" and mapping["BatchSize"] == 10
    wait_for(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled")
    bodies = [f"fail-{i}" if i % 50 == 0 else f"msg-{i}" for i in range(1000)]
    for start in range(0, 1000, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": bodies[i]}
                                                      for i in range(start, start + 10)])
    group = "/aws/lambda/consumer"
    wait_for(lambda: _count(logs, group, "processed msg") == 980, timeout=60)
    wait_for(lambda: _count(logs, group, "receive 1") == 20)
    assert _attr(sqs, url, "ApproximateNumberOfMessages") == 0
    assert _attr(sqs, url, "ApproximateNumberOfMessagesNotVisible") == 20  # only the failed ones are left
    kumo_server.advance(31)  # their visibility timeout ends: redelivered
    wait_for(lambda: _count(logs, group, "receive 2") == 20)
    assert _attr(sqs, dlq, "ApproximateNumberOfMessages") == 0
    kumo_server.advance(31)  # past maxReceiveCount: the queue's redrive policy moves them
    wait_for(lambda: _attr(sqs, dlq, "ApproximateNumberOfMessages") == 20)
    dead = set()
    while len(dead) < 20:
        for m in sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", []):
            dead.add(m["Body"])
    assert dead == {b for b in bodies if b.startswith("fail")}
    assert _count(logs, group, "processed msg") == 980  # nothing processed twice


def test_a_failing_batch_returns_to_the_queue_as_a_whole(fns, lam, aws, kumo_server):
    sqs, logs = aws("sqs"), aws("logs")
    url, arn, dlq = _queues(sqs, "whole", max_receives=1)
    fns.python("breaks", "def handler(event, context):\n    print('batch of', len(event['Records']))\n"
                         "    raise ValueError('nope')\n")
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="breaks", BatchSize=5)
    wait_for(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(5)])
    wait_for(lambda: _count(logs, "/aws/lambda/breaks", "batch of 5") == 1)
    assert _attr(sqs, url, "ApproximateNumberOfMessagesNotVisible") == 5
    kumo_server.advance(31)
    wait_for(lambda: _attr(sqs, dlq, "ApproximateNumberOfMessages") == 5)


def test_batching_window_filters_and_disabling(fns, lam, aws):
    sqs, logs = aws("sqs"), aws("logs")
    url, arn, _dlq = _queues(sqs, "windowed")
    fns.python("sizes", "def handler(event, context):\n    print('got', len(event['Records']), "
                        "sorted(r['body'] for r in event['Records']))\n")
    mapping = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="sizes", BatchSize=50, MaximumBatchingWindowInSeconds=1,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": ["keep"]}})}]})
    wait_for(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled")
    entries = [{"Id": str(i), "MessageBody": json.dumps({"kind": "keep" if i < 15 else "drop", "i": i})}
               for i in range(20)]
    sqs.send_message_batch(QueueUrl=url, Entries=entries[:10])
    sqs.send_message_batch(QueueUrl=url, Entries=entries[10:])
    wait_for(lambda: _count(logs, "/aws/lambda/sizes", "got 15") == 1)  # one batch, filtered messages dropped
    wait_for(lambda: _attr(sqs, url, "ApproximateNumberOfMessagesNotVisible") == 0)
    assert _attr(sqs, url, "ApproximateNumberOfMessages") == 0
    lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    wait_for(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Disabled")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"kind": "keep"}))
    import time

    time.sleep(0.3)
    assert _attr(sqs, url, "ApproximateNumberOfMessages") == 1  # nobody polls a disabled mapping


def test_mapping_checks(fns, lam, aws, account):
    sqs = aws("sqs")
    _url, arn, _dlq = _queues(sqs, "short", visibility=5)
    fns.python("long-fn", "def handler(e, c):\n    return 1\n", Timeout=30)
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as caught:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="long-fn")
    assert "Queue visibility timeout: 5 seconds is less than Function timeout: 30 seconds" in str(caught.value)
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as caught:
        lam.create_event_source_mapping(FunctionName="long-fn", StartingPosition="LATEST",
                                        EventSourceArn=f"arn:aws:kinesis:us-east-1:{account}:stream/s")
    assert "Kinesis" in str(caught.value)
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.create_event_source_mapping(FunctionName="long-fn",
                                        EventSourceArn=f"arn:aws:sqs:us-east-1:{account}:missing")
    url2, arn2, _ = _queues(sqs, "roomy", visibility=60)
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.create_event_source_mapping(EventSourceArn=arn2, FunctionName="long-fn", BatchSize=100)
    mapping = lam.create_event_source_mapping(EventSourceArn=arn2, FunctionName="long-fn", Enabled=False)
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.create_event_source_mapping(EventSourceArn=arn2, FunctionName="long-fn")
    listed = lam.list_event_source_mappings(FunctionName="long-fn")["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [mapping["UUID"]]
    wait_for(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Disabled")
    assert lam.delete_event_source_mapping(UUID=mapping["UUID"])["State"] == "Deleting"
    wait_for(lambda: not lam.list_event_source_mappings(EventSourceArn=arn2)["EventSourceMappings"])
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_event_source_mapping(UUID=mapping["UUID"])
    _ = url2
