"""Hostile input to SQS, SNS and EventBridge gets an AWS-shaped 4xx, never a 500, and changes nothing."""

import json

import pytest

from tests.edge.http import auth_header, send

FORM = "application/x-www-form-urlencoded"


def json_call(endpoint, account, target, service, body):
    headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0" if service == "sqs" else
               "application/x-amz-json-1.1", "Authorization": auth_header(service, account)}
    return send(endpoint, "/", json.dumps(body).encode(), headers)


SQS_BAD = [
    ("CreateQueue", {"QueueName": "x" * 81}),
    ("CreateQueue", {"QueueName": "q", "Attributes": {"RedrivePolicy": "[1, 2]"}}),
    ("CreateQueue", {"QueueName": "q", "Attributes": {"RedrivePolicy": json.dumps({"deadLetterTargetArn": 5,
                                                                                    "maxReceiveCount": "x"})}}),
    ("CreateQueue", {"QueueName": "q", "Attributes": {"RedriveAllowPolicy": json.dumps({"redrivePermission": 1})}}),
    ("SendMessage", {"QueueUrl": "http://h/123456789012/nope", "MessageBody": "x"}),
    ("SendMessage", {"QueueUrl": "::::", "MessageBody": "x"}),
    ("ReceiveMessage", {"QueueUrl": "http://h/1/2/3"}),
    ("DeleteMessage", {"QueueUrl": "http://h/123456789012/nope", "ReceiptHandle": "\u00ff\u0000"}),
    ("SendMessageBatch", {"QueueUrl": "http://h/123456789012/nope", "Entries": "not a list"}),
    ("StartMessageMoveTask", {"SourceArn": "garbage"}),
    ("CancelMessageMoveTask", {"TaskHandle": "!!!"}),
    ("ListQueues", {"MaxResults": 0}),
]


@pytest.mark.parametrize("op, body", SQS_BAD, ids=[f"{i}-{o}" for i, (o, _) in enumerate(SQS_BAD)])
def test_sqs_bad_input(endpoint, account, op, body):
    status, headers, out = json_call(endpoint, account, f"AmazonSQS.{op}", "sqs", body)
    assert 400 <= status < 500, (op, status, out)
    assert json.loads(out)["__type"]


EVENTS_BAD = [
    ("PutRule", {"Name": "r"}),
    ("PutRule", {"Name": "r", "EventPattern": "{not json"}),
    ("PutRule", {"Name": "r", "ScheduleExpression": "cron(99 * * * ? *)"}),
    ("PutTargets", {"Rule": "missing", "Targets": [{"Id": "a", "Arn": "arn:aws:sqs:us-east-1:1:q"}]}),
    ("PutEvents", {"Entries": []}),
    ("PutEvents", {"Entries": [{"Source": "s"}] * 11}),
    ("TestEventPattern", {"EventPattern": "{}", "Event": "[]"}),
    ("TagResource", {"ResourceARN": "arn:aws:events:us-east-1:1:rule/none", "Tags": []}),
    ("DescribeEventBus", {"Name": "arn:aws:sqs:us-east-1:1:q"}),
]


@pytest.mark.parametrize("op, body", EVENTS_BAD, ids=[f"{i}-{o}" for i, (o, _) in enumerate(EVENTS_BAD)])
def test_events_bad_input(endpoint, account, op, body):
    status, _, out = json_call(endpoint, account, f"AWSEvents.{op}", "events", body)
    assert 400 <= status < 500, (op, status, out)


SNS_BAD = [
    "Action=CreateTopic&Name=bad%20name",
    "Action=CreateTopic&Name=t&Attributes.entry.1.key=DeliveryPolicy&Attributes.entry.1.value=%7B%22http%22%3A5%7D",
    "Action=Publish&TopicArn=arn:aws:sns:us-east-1:{a}:none&Message=x",
    "Action=Publish&TopicArn=garbage&Message=x",
    "Action=Subscribe&TopicArn=arn:aws:sns:us-east-1:{a}:none&Protocol=sqs&Endpoint=x",
    "Action=GetSubscriptionAttributes&SubscriptionArn=arn:aws:sns:us-east-1:{a}:t",
    "Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:{a}:none&Token=x",
    "Action=Publish&TopicArn=arn:aws:sns:us-east-1:{a}:none",
]


@pytest.mark.parametrize("form", SNS_BAD, ids=range(len(SNS_BAD)))
def test_sns_bad_input(endpoint, account, form):
    body = (form.format(a=account) + "&Version=2010-03-31").encode()
    status, _, out = send(endpoint, "/", body, {"Content-Type": FORM, "Authorization": auth_header("sns", account)})
    assert 400 <= status < 500, (form, status, out)
    assert b"<ErrorResponse" in out


def test_bad_delivery_policies_are_refused(aws):
    sns = aws("sns")
    topic = sns.create_topic(Name="policies")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://127.0.0.1:9/none",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    for policy in ({"healthyRetryPolicy": "x"}, {"healthyRetryPolicy": {"numRetries": -1}},
                   {"healthyRetryPolicy": {"backoffFunction": "random"}}, [1]):
        with pytest.raises(sns.exceptions.InvalidParameterException):
            sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="DeliveryPolicy",
                                            AttributeValue=json.dumps(policy))
    assert "DeliveryPolicy" not in sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    sns.unsubscribe(SubscriptionArn=sub)
