"""SQS messages through boto3: send, receive, delete, visibility, delays, retention, long polling, batches."""

import hashlib
import threading
import time

import pytest
from botocore.exceptions import ClientError


def code(exc_info):
    return exc_info.value.response["Error"]["Code"]


def bodies(response):
    return [m["Body"] for m in response.get("Messages", [])]


def take(sqs, url):
    """Receive up to ten messages and delete them; their bodies."""
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for m in msgs:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return [m["Body"] for m in msgs]


def test_send_receive_delete_with_md5s_and_attributes(sqs, account):
    url = sqs.create_queue(QueueName="basic")["QueueUrl"]
    attrs = {"color": {"DataType": "String", "StringValue": "blue"},
             "size": {"DataType": "Number", "StringValue": "12"},
             "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}}
    sent = sqs.send_message(QueueUrl=url, MessageBody="hello", MessageAttributes=attrs)
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"hello").hexdigest()
    # AWS's documented digest of these three attributes, computed independently here.
    expected = hashlib.md5()
    for name in sorted(attrs):
        value = attrs[name]
        for part in (name.encode(), value["DataType"].encode()):
            expected.update(len(part).to_bytes(4, "big") + part)
        raw = value.get("BinaryValue") or value["StringValue"].encode()
        expected.update((b"\x02" if "BinaryValue" in value else b"\x01") + len(raw).to_bytes(4, "big") + raw)
    assert sent["MD5OfMessageAttributes"] == expected.hexdigest()
    got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"])
    msg = got["Messages"][0]
    assert msg["MessageId"] == sent["MessageId"] and msg["Body"] == "hello"
    assert msg["MessageAttributes"] == attrs
    assert msg["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert msg["Attributes"]["SenderId"] == account
    assert msg["Attributes"]["ApproximateReceiveCount"] == "1"
    assert int(msg["Attributes"]["SentTimestamp"]) > 1_600_000_000_000
    sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    # Deleting again with the same handle succeeds, as in AWS.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])


def test_message_attribute_selection(sqs):
    url = sqs.create_queue(QueueName="select")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={
        "app.id": {"DataType": "String", "StringValue": "1"}, "app.ver": {"DataType": "String", "StringValue": "2"},
        "other": {"DataType": "String", "StringValue": "3"}})
    msg = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["app.*"], VisibilityTimeout=0)["Messages"][0]
    assert set(msg["MessageAttributes"]) == {"app.id", "app.ver"}
    msg = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["other"], VisibilityTimeout=0)["Messages"][0]
    assert set(msg["MessageAttributes"]) == {"other"}
    msg = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert "MessageAttributes" not in msg and "Attributes" not in msg


def test_bad_messages_are_refused(sqs):
    url = sqs.create_queue(QueueName="strict", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="bad \x01 char")
    assert code(e) == "InvalidMessageContents"
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1025)
    assert code(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={"AWS.x": {"DataType": "String",
                                                                                     "StringValue": "v"}})
    assert code(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={"n": {"DataType": "Number",
                                                                                 "StringValue": "abc"}})
    assert code(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert code(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert code(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    assert code(e) == "ReceiptHandleIsInvalid"
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_visibility_timeout_on_the_clock(sqs, kumo_server):
    url = sqs.create_queue(QueueName="vis", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="once")
    first = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesNotVisible"]) == ("0", "1")
    kumo_server.advance(31)
    again = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert again["MessageId"] == first["MessageId"] and again["ReceiptHandle"] != first["ReceiptHandle"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    # ChangeMessageVisibility: hide for longer, then release at once.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=300)
    kumo_server.advance(60)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=0)
    third = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert third["MessageId"] == first["MessageId"]
    # The old handle no longer owns the message.
    with pytest.raises(ClientError) as e:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=10)
    assert code(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=third["ReceiptHandle"], VisibilityTimeout=43201)
    assert code(e) == "InvalidParameterValue"


def test_delays_per_queue_and_per_message(sqs, kumo_server):
    url = sqs.create_queue(QueueName="delayed", Attributes={"DelaySeconds": "20"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="queue delay")
    sqs.send_message(QueueUrl=url, MessageBody="own delay", DelaySeconds=100)
    sqs.send_message(QueueUrl=url, MessageBody="no delay", DelaySeconds=0)
    assert take(sqs, url) == ["no delay"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert attrs["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "2"
    kumo_server.advance(21)
    assert take(sqs, url) == ["queue delay"]
    kumo_server.advance(80)
    assert take(sqs, url) == ["own delay"]
    with pytest.raises(ClientError):
        sqs.send_message(QueueUrl=url, MessageBody="too long", DelaySeconds=901)


def test_retention_period_expires_messages(sqs, kumo_server):
    url = sqs.create_queue(QueueName="brief", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="old")
    kumo_server.advance(30)
    sqs.send_message(QueueUrl=url, MessageBody="new")
    kumo_server.advance(31)
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == ["new"]


def test_long_poll_returns_as_soon_as_a_message_arrives(sqs):
    url = sqs.create_queue(QueueName="poll")["QueueUrl"]
    sender = threading.Timer(0.3, lambda: sqs.send_message(QueueUrl=url, MessageBody="arrived"))
    started = time.monotonic()
    sender.start()
    try:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
    finally:
        sender.join()
    elapsed = time.monotonic() - started
    assert bodies(got) == ["arrived"]
    assert elapsed < 5, f"long poll took {elapsed:.1f}s after the message arrived"


def test_long_poll_ends_on_the_clock(sqs, kumo_server):
    url = sqs.create_queue(QueueName="quiet")["QueueUrl"]
    result = {}
    poller = threading.Thread(target=lambda: result.update(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)))
    started = time.monotonic()
    poller.start()
    time.sleep(0.3)
    kumo_server.advance(20)  # twenty simulated seconds pass at once
    poller.join(10)
    assert not poller.is_alive() and time.monotonic() - started < 5
    assert "Messages" not in result


def test_long_poll_wakes_when_a_delayed_message_is_due(sqs, kumo_server):
    url = sqs.create_queue(QueueName="due")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=10)
    result = {}
    poller = threading.Thread(target=lambda: result.update(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)))
    poller.start()
    time.sleep(0.3)
    kumo_server.advance(11)
    poller.join(10)
    assert bodies(result) == ["later"]


def test_batches(sqs):
    url = sqs.create_queue(QueueName="batch")["QueueUrl"]
    out = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "one"}, {"Id": "b", "MessageBody": "two", "DelaySeconds": 0},
        {"Id": "c", "MessageBody": "bad \x00"}])
    assert sorted(e["Id"] for e in out["Successful"]) == ["a", "b"]
    assert out["Failed"] == [{"Id": "c", "SenderFault": True, "Code": "InvalidMessageContents",
                              "Message": out["Failed"][0]["Message"]}]
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in msgs) == ["one", "two"]
    vis = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "x", "ReceiptHandle": msgs[0]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "y", "ReceiptHandle": "garbage", "VisibilityTimeout": 0}])
    assert [e["Id"] for e in vis["Successful"]] == ["x"] and vis["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    deleted = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(again + msgs[1:])])
    assert len(deleted["Successful"]) == 2 and deleted["Failed"] == []
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    for entries, expected in (([], "AWS.SimpleQueueService.EmptyBatchRequest"),
                              ([{"Id": str(i), "MessageBody": "x"} for i in range(11)],
                               "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
                              ([{"Id": "a", "MessageBody": "x"}] * 2, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
                              ([{"Id": "bad id!", "MessageBody": "x"}], "AWS.SimpleQueueService.InvalidBatchEntryId")):
        with pytest.raises(ClientError) as e:
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert code(e) == expected


def test_fifo_order_groups_and_deduplication(sqs, kumo_server):
    url = sqs.create_queue(QueueName="ordered.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert code(e) == "InvalidParameterValue"  # no dedup id and no content-based deduplication
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert code(e) == "MissingParameter"
    seqs = []
    for i in range(4):
        out = sqs.send_message(QueueUrl=url, MessageBody=f"a{i}", MessageGroupId="A", MessageDeduplicationId=f"a{i}")
        seqs.append(int(out["SequenceNumber"]))
        sqs.send_message(QueueUrl=url, MessageBody=f"b{i}", MessageGroupId="B", MessageDeduplicationId=f"b{i}")
    assert seqs == sorted(seqs)
    dup = sqs.send_message(QueueUrl=url, MessageBody="a0 again", MessageGroupId="A", MessageDeduplicationId="a0")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3,
                                MessageSystemAttributeNames=["MessageGroupId", "MessageDeduplicationId"])["Messages"]
    assert [m["Body"] for m in first] == ["a0", "b0", "a1"]
    assert first[0]["MessageId"] == dup["MessageId"]
    assert first[0]["Attributes"] == {"MessageGroupId": "A", "MessageDeduplicationId": "a0"}
    # Both groups have messages in flight: nothing more until they are deleted.
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[1]["ReceiptHandle"])
    assert take(sqs, url) == ["b1", "b2", "b3"]
    # The deduplication window is five minutes, even after the message was deleted.
    for m in first:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    sqs.send_message(QueueUrl=url, MessageBody="a0 dup", MessageGroupId="A", MessageDeduplicationId="a0")
    kumo_server.advance(301)
    sqs.send_message(QueueUrl=url, MessageBody="a0 fresh", MessageGroupId="A", MessageDeduplicationId="a0")
    got = bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10))
    assert got == ["a2", "a3", "a0 fresh"]


def test_content_based_deduplication(sqs):
    url = sqs.create_queue(QueueName="cbd.fifo", Attributes={"FifoQueue": "true",
                                                            "ContentBasedDeduplication": "true"})["QueueUrl"]
    one = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    two = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    assert one["MessageId"] == two["MessageId"]
    sqs.send_message(QueueUrl=url, MessageBody="different", MessageGroupId="g")
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in msgs] == ["same", "different"]
    assert msgs[0]["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(b"same").hexdigest()
    with pytest.raises(ClientError):
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", DelaySeconds=5)


def test_fifo_receive_request_attempt_id(sqs, kumo_server):
    url = sqs.create_queue(QueueName="retry.fifo", Attributes={"FifoQueue": "true",
                                                              "ContentBasedDeduplication": "true"})["QueueUrl"]
    for body in ("a", "b", "c"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=body)
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1")["Messages"]
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1")["Messages"]
    assert [(m["Body"], m["ReceiptHandle"]) for m in again] == [(m["Body"], m["ReceiptHandle"]) for m in first]
    other = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-2")["Messages"]
    assert [m["Body"] for m in other] == ["c"]
    # Once the messages are deleted, the attempt id no longer brings them back.
    for m in first:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="try-1")
