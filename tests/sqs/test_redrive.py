"""Dead-letter queues: RedrivePolicy moves a message after maxReceiveCount receives; move tasks bring it back."""

import json

import pytest
from botocore.exceptions import ClientError


def arn_of(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def make_pair(sqs, name="work", max_receives=3):
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": max_receives})
    src = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": policy, "VisibilityTimeout": "10"})["QueueUrl"]
    return src, dlq


def test_message_received_three_times_goes_to_the_dead_letter_queue(sqs, kumo_server):
    src, dlq = make_pair(sqs)
    sent = sqs.send_message(QueueUrl=src, MessageBody="poison",
                            MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    for n in (1, 2, 3):
        msg = sqs.receive_message(QueueUrl=src, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
        assert msg["Attributes"]["ApproximateReceiveCount"] == str(n)
        kumo_server.advance(11)  # not deleted: the visibility timeout runs out
    assert "Messages" not in sqs.receive_message(QueueUrl=src)
    moved = sqs.receive_message(QueueUrl=dlq, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"])
    msg = moved["Messages"][0]
    assert msg["MessageId"] == sent["MessageId"] and msg["Body"] == "poison"
    assert msg["MessageAttributes"] == {"k": {"DataType": "String", "StringValue": "v"}}
    assert msg["Attributes"]["DeadLetterQueueSourceArn"] == arn_of(sqs, src)
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["RedrivePolicy"])[
        "Attributes"]["RedrivePolicy"])
    assert policy == {"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 3}
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]


def test_fifo_dead_letter_queue_keeps_group_order(sqs, kumo_server):
    dlq = sqs.create_queue(QueueName="f-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 1})
    src = sqs.create_queue(QueueName="f.fifo", Attributes={"FifoQueue": "true", "RedrivePolicy": policy,
                                                          "VisibilityTimeout": "5",
                                                          "ContentBasedDeduplication": "true"})["QueueUrl"]
    for body in ("first", "second"):
        sqs.send_message(QueueUrl=src, MessageBody=body, MessageGroupId="g")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=1)["Messages"]] == ["first"]
    kumo_server.advance(6)
    second = sqs.receive_message(QueueUrl=src)["Messages"]
    assert [m["Body"] for m in second] == ["second"]  # "first" went to the DLQ on this receive
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=dlq)["Messages"]] == ["first"]


def test_redrive_policy_checks(sqs):
    fifo_dlq = sqs.create_queue(QueueName="x-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    for policy in ({"deadLetterTargetArn": arn_of(sqs, fifo_dlq), "maxReceiveCount": 3},
                   {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:nothing", "maxReceiveCount": 3},
                   {"deadLetterTargetArn": arn_of(sqs, fifo_dlq)}):
        with pytest.raises(ClientError) as e:
            sqs.create_queue(QueueName="std-src", Attributes={"RedrivePolicy": json.dumps(policy)})
        assert e.value.response["Error"]["Code"] == "InvalidAttributeValue"


def test_redrive_allow_policy(sqs):
    dlq = sqs.create_queue(QueueName="guarded-dlq")["QueueUrl"]
    allowed = sqs.create_queue(QueueName="allowed")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(
        {"redrivePermission": "byQueue", "sourceQueueArns": [arn_of(sqs, allowed)]})})
    policy = json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 2})
    sqs.set_queue_attributes(QueueUrl=allowed, Attributes={"RedrivePolicy": policy})
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName="refused", Attributes={"RedrivePolicy": policy})
    assert e.value.response["Error"]["Code"] == "InvalidAttributeValue"
    with pytest.raises(ClientError):
        sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(
            {"redrivePermission": "byQueue"})})


def test_message_move_task_redrives_back_to_the_source(sqs, kumo_server):
    src, dlq = make_pair(sqs, "mover", max_receives=1)
    for i in range(5):
        sqs.send_message(QueueUrl=src, MessageBody=f"m{i}")
    while sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10).get("Messages"):
        kumo_server.advance(11)
    kumo_server.advance(11)
    assert sqs.receive_message(QueueUrl=src).get("Messages") is None
    assert sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "5"
    handle = sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq), MaxNumberOfMessagesPerSecond=2)["TaskHandle"]
    with pytest.raises(ClientError):
        sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq))  # one active task per source
    running = sqs.list_message_move_tasks(SourceArn=arn_of(sqs, dlq))["Results"][0]
    assert running["Status"] == "RUNNING" and running["TaskHandle"] == handle
    assert running["ApproximateNumberOfMessagesToMove"] == 5
    kumo_server.advance(5)  # two a second
    done = sqs.list_message_move_tasks(SourceArn=arn_of(sqs, dlq))["Results"][0]
    assert done["Status"] == "COMPLETED" and done["ApproximateNumberOfMessagesMoved"] == 5
    assert "TaskHandle" not in done
    back = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert sorted(m["Body"] for m in back) == [f"m{i}" for i in range(5)]
    assert all("DeadLetterQueueSourceArn" not in m["Attributes"] for m in back)
    with pytest.raises(ClientError) as e:
        sqs.start_message_move_task(SourceArn=arn_of(sqs, src))
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"  # not a dead-letter queue


def test_cancel_message_move_task(sqs, kumo_server):
    src, dlq = make_pair(sqs, "cancel", max_receives=1)
    for i in range(4):
        sqs.send_message(QueueUrl=src, MessageBody=f"m{i}")
    sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)
    kumo_server.advance(11)
    sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)
    handle = sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq), MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    sqs.cancel_message_move_task(TaskHandle=handle)
    kumo_server.advance(5)
    task = sqs.list_message_move_tasks(SourceArn=arn_of(sqs, dlq))["Results"][0]
    assert task["Status"] == "CANCELLED" and task["ApproximateNumberOfMessagesMoved"] < 4
