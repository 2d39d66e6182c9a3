"""Regressions of issue 16's SQS bugs, through boto3."""

import pytest
from botocore.exceptions import ClientError


def test_bare_queue_name_as_queue_url(aws):
    sqs = aws("sqs")
    sqs.create_queue(QueueName="by-name")
    sqs.send_message(QueueUrl="by-name", MessageBody="hello")
    attrs = sqs.get_queue_attributes(QueueUrl="by-name", AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "1"
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl="no-such-queue", MessageBody="x")
    assert e.value.response["Error"]["Code"] in ("AWS.SimpleQueueService.NonExistentQueue",
                                                 "QueueDoesNotExist")


@pytest.mark.parametrize("op, entry", [("delete_message_batch", "DeleteMessageBatchRequestEntry"),
                                       ("change_message_visibility_batch", "ChangeMessageVisibilityBatchRequestEntry"),
                                       ("send_message_batch", "SendMessageBatchRequestEntry")])
def test_empty_batch_names_its_own_entry_type(aws, op, entry):
    sqs = aws("sqs", validate=False)
    url = sqs.create_queue(QueueName="batches")["QueueUrl"]
    with pytest.raises(ClientError) as e:
        getattr(sqs, op)(QueueUrl=url, Entries=[])
    assert e.value.response["Error"]["Message"] == f"There should be at least one {entry} in the request."
