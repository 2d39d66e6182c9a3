"""SNS topics and subscriptions administration through boto3 and the aws CLI."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.sqs.util import queue_with_arn


def err(e):
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_topic_lifecycle_and_attributes(sns, account):
    arn = sns.create_topic(Name="news", Attributes={"DisplayName": "News"}, Tags=[{"Key": "team", "Value": "a"}])[
        "TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:{account}:news"
    assert sns.create_topic(Name="news")["TopicArn"] == arn
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "News" and attrs["Owner"] == account and attrs["SignatureVersion"] == "1"
    assert json.loads(attrs["Policy"])["Statement"][0]["Resource"] == arn
    assert json.loads(attrs["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Daily")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "Daily"
    with pytest.raises(ClientError) as e:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Nonsense", AttributeValue="x")
    assert err(e) == ("InvalidParameter", 400)
    assert {"TopicArn": arn} in sns.list_topics()["Topics"]
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "a"}]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
    sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    sns.add_permission(TopicArn=arn, Label="pub", AWSAccountId=["111122223333"], ActionName=["Publish"])
    assert [s["Sid"] for s in json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])[
        "Statement"]] == ["__default_statement_ID", "pub"]
    sns.remove_permission(TopicArn=arn, Label="pub")
    sns.delete_topic(TopicArn=arn)
    with pytest.raises(sns.exceptions.NotFoundException) as e:
        sns.get_topic_attributes(TopicArn=arn)
    assert err(e) == ("NotFound", 404)


def test_fifo_topics(sns):
    arn = sns.create_topic(Name="t.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})[
        "TopicArn"]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["FifoTopic"] == "true" and attrs["ContentBasedDeduplication"] == "true"
    with pytest.raises(ClientError) as e:
        sns.create_topic(Name="nofifo", Attributes={"FifoTopic": "true"})
    assert err(e) == ("InvalidParameter", 400)
    with pytest.raises(ClientError):
        sns.subscribe(TopicArn=arn, Protocol="http", Endpoint="http://127.0.0.1:1/x")
    with pytest.raises(ClientError):
        sns.create_topic(Name="std", Attributes={"ContentBasedDeduplication": "true"})


def test_subscriptions_admin(sns, sqs):
    arn = sns.create_topic(Name="subs")["TopicArn"]
    _, qarn = queue_with_arn(sqs, "subs-q")
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"]
    assert sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"] == sub
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["Protocol"] == "sqs" and attrs["Endpoint"] == qarn and attrs["RawMessageDelivery"] == "false"
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                    AttributeValue=json.dumps({"a": ["b"]}))
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["FilterPolicyScope"] == \
        "MessageAttributes"
    for bad in ({"a": "not a list"}, {"a": [{"nonsense": 1}]}, {"a": [{"numeric": [">", "x"]}]},
                {f"k{i}": ["v"] for i in range(6)}):
        with pytest.raises(ClientError) as e:
            sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                            AttributeValue=json.dumps(bad))
        assert err(e) == ("InvalidParameter", 400), bad
    with pytest.raises(ClientError):
        sns.subscribe(TopicArn=arn, Protocol="carrier-pigeon", Endpoint="x")
    with pytest.raises(ClientError):
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint="not-an-arn")
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]] == [sub]
    sns.unsubscribe(SubscriptionArn=sub)
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_subscription_attributes(SubscriptionArn=sub)


def test_publish_errors(sns, account):
    arn = sns.create_topic(Name="strict")["TopicArn"]
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.publish(TopicArn=f"arn:aws:sns:us-east-1:{account}:missing", Message="x")
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=arn, Message="x" * 262145)
    assert err(e) == ("InvalidParameter", 400)
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=arn, Message="x", Subject="line\nbreak")
    assert err(e) == ("InvalidParameter", 400)
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=arn, Message="x", MessageAttributes={"n": {"DataType": "Number", "StringValue": "NaN?"}})
    assert err(e) == ("ParameterValueInvalid", 400)
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=arn, Message="x", MessageAttributes={"a": {"DataType": "String.Array",
                                                                        "StringValue": "not json"}})
    assert err(e) == ("ParameterValueInvalid", 400)


def test_sns_through_the_aws_cli(aws_cli, account):
    arn = json.loads(aws_cli("sns", "create-topic", "--name", "cli-topic").stdout)["TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:{account}:cli-topic"
    out = json.loads(aws_cli("sns", "publish", "--topic-arn", arn, "--message", "hello").stdout)
    assert out["MessageId"]
    topics = json.loads(aws_cli("sns", "list-topics").stdout)["Topics"]
    assert {"TopicArn": arn} in topics
