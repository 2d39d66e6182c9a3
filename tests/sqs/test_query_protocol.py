"""SQS over the query protocol, as older SDKs and awscli 1.x conventions speak it (form in, XML out)."""

import urllib.parse

import pytest
from botocore.exceptions import ClientError

from tests.edge.http import auth_header, send

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_a_query_client_does_everything(sqs_query, endpoint, account):
    c = sqs_query
    url = c.create_queue(QueueName="legacy", Attributes={"VisibilityTimeout": "45"}, tags={"team": "old"})["QueueUrl"]
    assert url == f"{endpoint}/{account}/legacy"
    assert c.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout", "QueueArn"])["Attributes"] == {
        "VisibilityTimeout": "45", "QueueArn": f"arn:aws:sqs:us-east-1:{account}:legacy"}
    assert c.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "old"}
    attrs = {"s": {"DataType": "String", "StringValue": "v"}, "b": {"DataType": "Binary", "BinaryValue": b"\x01\x02"}}
    sent = c.send_message(QueueUrl=url, MessageBody="<xml & friends>", MessageAttributes=attrs)
    batch = c.send_message_batch(QueueUrl=url, Entries=[{"Id": "one", "MessageBody": "1"},
                                                        {"Id": "two", "MessageBody": "bad \x02"}])
    assert [e["Id"] for e in batch["Successful"]] == ["one"]
    assert batch["Failed"][0]["Code"] == "InvalidMessageContents" and batch["Failed"][0]["SenderFault"] is True
    got = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                            MessageAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in got] == ["<xml & friends>", "1"]
    assert got[0]["MessageId"] == sent["MessageId"] and got[0]["MessageAttributes"] == attrs
    assert got[0]["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert got[0]["Attributes"]["ApproximateReceiveCount"] == "1"
    c.change_message_visibility_batch(QueueUrl=url, Entries=[{"Id": "v", "ReceiptHandle": got[1]["ReceiptHandle"],
                                                              "VisibilityTimeout": 100}])
    deleted = c.delete_message_batch(QueueUrl=url, Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]}
                                                            for i, m in enumerate(got)])
    assert len(deleted["Successful"]) == 2
    assert c.list_queues(QueueNamePrefix="leg")["QueueUrls"] == [url]
    c.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert "Tags" not in c.list_queue_tags(QueueUrl=url)
    c.delete_queue(QueueUrl=url)


def test_query_errors_carry_the_legacy_codes(sqs_query):
    with pytest.raises(sqs_query.exceptions.QueueDoesNotExist) as e:
        sqs_query.get_queue_url(QueueName="missing")
    assert e.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_old_sdks_post_to_the_queue_url(endpoint, account, sqs):
    url = sqs.create_queue(QueueName="by-path")["QueueUrl"]
    path = f"/{account}/by-path"
    headers = {**FORM, "Authorization": auth_header("sqs", account)}
    status, _, body = send(endpoint, path, b"Action=SendMessage&Version=2012-11-05&MessageBody=hi%20there", headers)
    assert status == 200 and b"<SendMessageResult><MD5OfMessageBody>" in body
    status, _, body = send(endpoint, path, b"Action=ReceiveMessage&Version=2012-11-05&AttributeName.1=All", headers)
    assert status == 200 and b"<Message><MessageId>" in body and b"<Body>hi there</Body>" in body
    assert b"<Attribute><Name>SenderId</Name><Value>" in body
    assert b'xmlns="http://queue.amazonaws.com/doc/2012-11-05/"' in body
    # An unsigned request finds SQS by its Version alone.
    form = urllib.parse.urlencode({"Action": "GetQueueAttributes", "Version": "2012-11-05", "QueueUrl": url,
                                   "AttributeName.1": "ApproximateNumberOfMessagesNotVisible"}).encode()
    status, _, body = send(endpoint, "/", form, {**FORM, "Authorization": auth_header("sqs", account)})
    assert b"<Name>ApproximateNumberOfMessagesNotVisible</Name><Value>1</Value>" in body


def test_query_without_a_queue_url_or_path(endpoint, account):
    status, _, body = send(endpoint, "/", b"Action=SendMessage&Version=2012-11-05&MessageBody=x",
                           {**FORM, "Authorization": auth_header("sqs", account)})
    assert status == 400 and b"<Code>MissingParameter</Code>" in body


def test_query_bad_input_is_a_4xx(endpoint, account, sqs_query):
    url = sqs_query.create_queue(QueueName="q-bad")["QueueUrl"]
    headers = {**FORM, "Authorization": auth_header("sqs", account)}
    for form in (f"Action=ReceiveMessage&Version=2012-11-05&QueueUrl={url}&MaxNumberOfMessages=many",
                 f"Action=SendMessage&Version=2012-11-05&QueueUrl={url}",
                 f"Action=SendMessage&Version=2012-11-05&QueueUrl={url}&MessageBody=x&DelaySeconds=-1",
                 "Action=NoSuchThing&Version=2012-11-05"):
        status, _, body = send(endpoint, "/", form.encode(), headers)
        assert 400 <= status < 500, (form, status, body)
        assert b"<ErrorResponse" in body
    with pytest.raises(ClientError):
        sqs_query.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={
            "bad name!": {"DataType": "String", "StringValue": "v"}})
