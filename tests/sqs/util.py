"""Queue helpers for tests that deliver into SQS (SNS subscriptions, EventBridge targets)."""


def queue_with_arn(sqs, name: str, **attrs) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def drain(sqs, url: str) -> list[dict]:
    """Every message now in the queue (received and deleted)."""
    out = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
            "Messages", [])
        if not msgs:
            return out
        out += msgs
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for i, m in enumerate(msgs)])
