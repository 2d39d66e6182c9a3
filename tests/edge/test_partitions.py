"""ARNs carry their region's partition: aws-cn, aws-iso, aws-iso-b ... (issue 16: every ARN said arn:aws:)."""

import json

import pytest

from kumo.core.arns import partition


@pytest.mark.parametrize("region, expected", [
    ("us-east-1", "aws"), ("cn-north-1", "aws-cn"), ("cn-northwest-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"),
    ("us-iso-east-1", "aws-iso"), ("us-isob-east-1", "aws-iso-b"), ("eu-isoe-west-1", "aws-iso-e"),
    ("us-isof-south-1", "aws-iso-f"), ("", "aws")])
def test_partition_of_region(region, expected):
    assert partition(region) == expected


def test_resources_in_other_partitions_get_their_arns(aws, account):
    sqs = aws("sqs", region="cn-north-1")
    url = sqs.create_queue(QueueName="cn-queue")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert queue_arn == f"arn:aws-cn:sqs:cn-north-1:{account}:cn-queue"
    topic = aws("sns", region="us-iso-east-1").create_topic(Name="iso-topic")["TopicArn"]
    assert topic == f"arn:aws-iso:sns:us-iso-east-1:{account}:iso-topic"
    events = aws("events", region="us-isob-east-1")
    rule = events.put_rule(Name="isob", EventPattern=json.dumps({"source": ["x"]}))["RuleArn"]
    assert rule == f"arn:aws-iso-b:events:us-isob-east-1:{account}:rule/isob"
    assert events.describe_event_bus()["Arn"] == f"arn:aws-iso-b:events:us-isob-east-1:{account}:event-bus/default"
    # Delivery works across the partition's own ARNs: an event reaches the cn queue through a cn rule.
    cn_events = aws("events", region="cn-north-1")
    cn_events.put_rule(Name="to-q", EventPattern=json.dumps({"source": ["x"]}))
    cn_events.put_targets(Rule="to-q", Targets=[{"Id": "q", "Arn": queue_arn}])
    cn_events.put_events(Entries=[{"Source": "x", "DetailType": "d", "Detail": "{}"}])
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(msgs[0]["Body"])["region"] == "cn-north-1"
