"""Regressions of issue 16's SNS bugs, through boto3."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.sqs.util import queue_with_arn


@pytest.fixture
def sns(aws):
    return aws("sns")


def test_nested_body_filter_policy_set_through_set_subscription_attributes(aws, sns):
    arn = sns.create_topic(Name="bodies")["TopicArn"]
    _, queue_arn = queue_with_arn(aws("sqs"), "bodies-q")
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn,
                        Attributes={"FilterPolicyScope": "MessageBody"})["SubscriptionArn"]
    nested = json.dumps({"order": {"kind": ["big"], "total": [{"numeric": [">", 10]}]}})
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=nested)
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert json.loads(attrs["FilterPolicy"]) == json.loads(nested) and attrs["FilterPolicyScope"] == "MessageBody"
    # Back to attributes scope, the nested policy no longer fits: refused, and nothing changes.
    with pytest.raises(ClientError) as e:
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicyScope",
                                        AttributeValue="MessageAttributes")
    assert e.value.response["Error"]["Code"] == "InvalidParameter"
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["FilterPolicyScope"] == "MessageBody"


def test_fifo_queue_cannot_subscribe_to_a_standard_topic(aws, sns):
    arn = sns.create_topic(Name="standard")["TopicArn"]
    _, queue_arn = queue_with_arn(aws("sqs"), "ordered.fifo", FifoQueue="true")
    with pytest.raises(ClientError) as e:
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    assert e.value.response["Error"]["Code"] == "InvalidParameter"
    assert "FIFO SQS Queues can not be subscribed to standard SNS topics" in e.value.response["Error"]["Message"]
    fifo = sns.create_topic(Name="ordered.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    assert sns.subscribe(TopicArn=fifo, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"].startswith(fifo)


def test_delete_topic_is_idempotent(sns, account):
    arn = sns.create_topic(Name="once")["TopicArn"]
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=f"arn:aws:sns:us-east-1:{account}:never-existed")
    with pytest.raises(ClientError) as e:
        sns.delete_topic(TopicArn="not-an-arn")
    assert e.value.response["Error"]["Code"] == "InvalidParameter"
