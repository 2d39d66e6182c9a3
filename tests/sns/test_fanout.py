"""SNS delivery through real clients: SQS and HTTP subscribers, confirmation, filters, signatures, retries, DLQs."""

import base64
import json
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.sqs.util import drain, queue_with_arn


def verify_signature(doc: dict) -> None:
    """Check an SNS message's signature the way subscribers do: fetch the certificate, verify the canonical string."""
    with urllib.request.urlopen(doc["SigningCertURL"], timeout=10) as resp:
        cert = x509.load_pem_x509_certificate(resp.read())
    if doc["Type"] == "Notification":
        fields = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
    else:
        fields = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
    text = "".join(f"{k}\n{doc[k]}\n" for k in fields if k in doc).encode()
    digest = hashes.SHA256() if doc["SignatureVersion"] == "2" else hashes.SHA1()
    cert.public_key().verify(base64.b64decode(doc["Signature"]), text, padding.PKCS1v15(), digest)


def confirm_http(sns, endpoint, topic_arn: str, **subscribe_kw) -> str:
    """Subscribe the endpoint and confirm the way a web app does: GET the SubscribeURL kumo POSTed to it."""
    assert sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=endpoint.url,
                         **subscribe_kw)["SubscriptionArn"] == "pending confirmation"
    headers, body = endpoint.wait_for(1)[0]
    doc = json.loads(body)
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert doc["Type"] == "SubscriptionConfirmation" and doc["TopicArn"] == topic_arn
    verify_signature(doc)
    with urllib.request.urlopen(doc["SubscribeURL"], timeout=10) as resp:
        answer = resp.read().decode()
    sub_arn = answer.split("<SubscriptionArn>")[1].split("</SubscriptionArn>")[0]
    assert sub_arn.startswith(topic_arn + ":")
    return sub_arn


def test_fan_out_to_sqs_and_http_after_confirmation_with_a_filter(sns, sqs, http_endpoint):
    topic = sns.create_topic(Name="orders")["TopicArn"]
    url, arn = queue_with_arn(sqs, "order-events")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                  Attributes={"FilterPolicy": json.dumps({"kind": ["created", {"prefix": "paid"}]})})
    sub_arn = confirm_http(sns, http_endpoint, topic)
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
    assert attrs["PendingConfirmation"] == "false"
    for kind in ("created", "shipped", "paid-in-full"):
        sns.publish(TopicArn=topic, Message=f"order {kind}", Subject="Order",
                    MessageAttributes={"kind": {"DataType": "String", "StringValue": kind}})
    # The queue's filter dropped "shipped"; the HTTP subscriber has no filter.
    queued = [json.loads(m["Body"]) for m in drain(sqs, url)]
    assert sorted(d["Message"] for d in queued) == ["order created", "order paid-in-full"]
    notes = [json.loads(b) for _, b in http_endpoint.wait_for(4)[1:]]
    # A standard topic does not order its deliveries.
    assert sorted(d["Message"] for d in notes) == ["order created", "order paid-in-full", "order shipped"]
    for doc in queued + notes:
        assert doc["Type"] == "Notification" and doc["TopicArn"] == topic and doc["Subject"] == "Order"
        assert doc["MessageAttributes"]["kind"]["Type"] == "String"
        verify_signature(doc)
    headers = http_endpoint.wait_for(4)[1][0]
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-subscription-arn"] == sub_arn and headers["x-amz-sns-topic-arn"] == topic


def test_unconfirmed_http_subscription_gets_nothing(sns, http_endpoint):
    topic = sns.create_topic(Name="quiet")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=http_endpoint.url)
    http_endpoint.wait_for(1)
    sns.publish(TopicArn=topic, Message="not for you")
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsPending"] == "1"
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert subs[0]["SubscriptionArn"] == "PendingConfirmation"
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.confirm_subscription(TopicArn=topic, Token="wrong")
    assert len(http_endpoint.requests) == 1


def test_raw_delivery_and_payload_filter(sns, sqs):
    topic = sns.create_topic(Name="raw")["TopicArn"]
    url, arn = queue_with_arn(sqs, "raw-q")
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={
        "RawMessageDelivery": "true", "FilterPolicyScope": "MessageBody",
        "FilterPolicy": json.dumps({"order": {"total": [{"numeric": [">", 100]}]}})})["SubscriptionArn"]
    sns.publish(TopicArn=topic, Message=json.dumps({"order": {"total": 250}}),
                MessageAttributes={"source": {"DataType": "String", "StringValue": "web"}})
    sns.publish(TopicArn=topic, Message=json.dumps({"order": {"total": 5}}))
    sns.publish(TopicArn=topic, Message="not json at all")
    msgs = drain(sqs, url)
    assert [m["Body"] for m in msgs] == [json.dumps({"order": {"total": 250}})]
    assert msgs[0]["MessageAttributes"] == {"source": {"DataType": "String", "StringValue": "web"}}
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["RawMessageDelivery"] == "true"


def test_message_structure_and_signature_version_2(sns, sqs, http_endpoint):
    topic = sns.create_topic(Name="structured", Attributes={"SignatureVersion": "2"})["TopicArn"]
    url, arn = queue_with_arn(sqs, "structured-q")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    confirm_http(sns, http_endpoint, topic)
    sns.publish(TopicArn=topic, MessageStructure="json",
                Message=json.dumps({"default": "for everyone", "sqs": "for queues"}))
    doc = json.loads(drain(sqs, url)[0]["Body"])
    assert doc["Message"] == "for queues" and doc["SignatureVersion"] == "2"
    verify_signature(doc)
    http_doc = json.loads(http_endpoint.wait_for(2)[1][1])
    assert http_doc["Message"] == "for everyone"
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"sqs": "no default"}))


def test_http_retries_follow_the_delivery_policy_then_the_dlq(sns, sqs, http_endpoint, kumo_server):
    topic = sns.create_topic(Name="flaky")["TopicArn"]
    dlq_url, dlq_arn = queue_with_arn(sqs, "flaky-dlq")
    sub = confirm_http(sns, http_endpoint, topic,
                       Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})})
    http_endpoint.status = 500
    sns.publish(TopicArn=topic, Message="will fail")
    http_endpoint.wait_for(2)  # the first attempt, at once
    for attempts in (3, 4, 5):  # AWS's default: three retries, twenty seconds apart
        kumo_server.advance(20)
        http_endpoint.wait_for(attempts)
    kumo_server.advance(60)
    assert len(http_endpoint.requests) == 5
    dead = drain(sqs, dlq_url)
    assert [json.loads(m["Body"])["Message"] for m in dead] == ["will fail"]
    # A custom policy: one immediate retry, then the message succeeds.
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(
        {"healthyRetryPolicy": {"numRetries": 1, "numNoDelayRetries": 1, "minDelayTarget": 1,
                                "maxDelayTarget": 1}}))
    policy = json.loads(sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["EffectiveDeliveryPolicy"])
    assert policy["healthyRetryPolicy"]["numNoDelayRetries"] == 1
    http_endpoint.status = 200
    sns.publish(TopicArn=topic, Message="fine now")
    assert json.loads(http_endpoint.wait_for(6)[5][1])["Message"] == "fine now"


def test_lambda_subscription_without_lambda_goes_to_its_dlq(sns, sqs, account):
    topic = sns.create_topic(Name="to-lambda")["TopicArn"]
    dlq_url, dlq_arn = queue_with_arn(sqs, "lambda-dlq")
    sub = sns.subscribe(TopicArn=topic, Protocol="lambda",
                        Endpoint=f"arn:aws:lambda:us-east-1:{account}:function:handler",
                        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})})
    assert sub["SubscriptionArn"].startswith(topic)
    sns.publish(TopicArn=topic, Message="for a function")
    import time

    deadline = time.monotonic() + 10
    dead = []
    while not dead and time.monotonic() < deadline:
        dead = drain(sqs, dlq_url)
        time.sleep(0.05)
    assert [json.loads(m["Body"])["Message"] for m in dead] == ["for a function"]


def test_email_subscriptions_stay_pending(sns):
    topic = sns.create_topic(Name="mail")["TopicArn"]
    assert sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")[
        "SubscriptionArn"] == "pending confirmation"
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsPending"] == "1"
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="not-an-address")


def test_fifo_topic_to_fifo_queue_keeps_order_and_deduplicates(sns, sqs, kumo_server):
    topic = sns.create_topic(Name="ledger.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    url, arn = queue_with_arn(sqs, "ledger.fifo", FifoQueue="true")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    first = sns.publish(TopicArn=topic, Message="debit", MessageGroupId="acct-1", MessageDeduplicationId="1")
    again = sns.publish(TopicArn=topic, Message="debit", MessageGroupId="acct-1", MessageDeduplicationId="1")
    assert first["MessageId"] == again["MessageId"] and first["SequenceNumber"]
    sns.publish(TopicArn=topic, Message="credit", MessageGroupId="acct-1", MessageDeduplicationId="2")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.publish(TopicArn=topic, Message="no group", MessageDeduplicationId="3")
    msgs = drain(sqs, url)
    assert [m["Body"] for m in msgs] == ["debit", "credit"]
    kumo_server.advance(301)  # past the five-minute deduplication window
    later = sns.publish(TopicArn=topic, Message="debit", MessageGroupId="acct-1", MessageDeduplicationId="1")
    assert later["MessageId"] != first["MessageId"] and int(later["SequenceNumber"]) > int(first["SequenceNumber"])
    assert [m["Body"] for m in drain(sqs, url)] == ["debit"]


def test_publish_batch(sns, sqs):
    topic = sns.create_topic(Name="batch")["TopicArn"]
    url, arn = queue_with_arn(sqs, "batch-q")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    out = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "one"}, {"Id": "b", "Message": "two"},
        {"Id": "c", "Message": "bad", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "x"}}}])
    assert sorted(e["Id"] for e in out["Successful"]) == ["a", "b"]
    assert out["Failed"][0]["Id"] == "c" and out["Failed"][0]["SenderFault"] is True
    assert sorted(m["Body"] for m in drain(sqs, url)) == ["one", "two"]
    with pytest.raises(sns.exceptions.BatchEntryIdsNotDistinctException):
        sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[{"Id": "x", "Message": "1"},
                                                                     {"Id": "x", "Message": "2"}])


def test_unsubscribe_url_works(sns, http_endpoint):
    topic = sns.create_topic(Name="leaving")["TopicArn"]
    confirm_http(sns, http_endpoint, topic)
    sns.publish(TopicArn=topic, Message="hello")
    doc = json.loads(http_endpoint.wait_for(2)[1][1])
    urllib.request.urlopen(doc["UnsubscribeURL"], timeout=10).read()
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_alarm_actions_publish_aws_alarm_notifications(sns, sqs, kumo_server, account):
    topic = sns.create_topic(Name="alarms")["TopicArn"]
    url, arn = queue_with_arn(sqs, "alarm-q")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    context = {"AlarmName": "cpu-high", "AlarmDescription": None, "AWSAccountId": account,
               "NewStateValue": "ALARM", "NewStateReason": "Threshold Crossed", "StateChangeTime":
               "2026-01-01T00:00:00.000+0000", "Region": "US East (N. Virginia)", "OldStateValue": "OK",
               "Trigger": {"MetricName": "CPUUtilization", "Namespace": "AWS/EC2"},
               "kumo": {"account": account, "region": "us-east-1"}}

    async def fire():
        return await kumo_server.kumo.actions.dispatch(topic, context)

    assert kumo_server.call(fire()) is True
    doc = json.loads(drain(sqs, url)[0]["Body"])
    assert doc["Subject"] == 'ALARM: "cpu-high" in US East (N. Virginia)'
    message = json.loads(doc["Message"])
    assert message["AlarmName"] == "cpu-high" and "kumo" not in message
