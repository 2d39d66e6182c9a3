"""SQS and SNS encryption attributes: recorded as set, and the key checked when a message is sent, as AWS does."""

import pytest
from botocore.exceptions import ClientError

from .conftest import error_code


def test_sqs_queue_key_checked_at_send(aws, kms, key):
    sqs = aws("sqs")
    # AWS takes any KmsMasterKeyId when it is set; the send is what fails.
    url = sqs.create_queue(QueueName="enc", Attributes={"KmsMasterKeyId": "alias/missing",
                                                          "KmsDataKeyReusePeriodSeconds": "120"})["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["KmsMasterKeyId"] == "alias/missing" and attrs["KmsDataKeyReusePeriodSeconds"] == "120"
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=url, MessageBody="m")
    assert error_code(exc) == "KMS.NotFoundException"
    with pytest.raises(ClientError) as exc:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "m"}])
    assert error_code(exc) == "KMS.NotFoundException"

    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": key["KeyId"]})
    sqs.send_message(QueueUrl=url, MessageBody="m")
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=url, MessageBody="m")
    assert error_code(exc) == "KMS.DisabledException"
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["m"]


def test_sqs_aws_managed_key(aws, kms):
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName="managed", Attributes={"KmsMasterKeyId": "alias/aws/sqs"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    assert kms.describe_key(KeyId="alias/aws/sqs")["KeyMetadata"]["KeyManager"] == "AWS"


def test_sns_topic_key_checked_at_publish(aws, kms, key):
    sns = aws("sns")
    arn = sns.create_topic(Name="enc", Attributes={"KmsMasterKeyId": "alias/missing"})["TopicArn"]
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["KmsMasterKeyId"] == "alias/missing"
    with pytest.raises(ClientError) as exc:
        sns.publish(TopicArn=arn, Message="m")
    assert error_code(exc) == "KMSNotFound"
    sns.set_topic_attributes(TopicArn=arn, AttributeName="KmsMasterKeyId", AttributeValue=key["Arn"])
    assert sns.publish(TopicArn=arn, Message="m")["MessageId"]
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    with pytest.raises(ClientError) as exc:
        sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[{"Id": "a", "Message": "m"}])
    assert error_code(exc) == "KMSInvalidState"
