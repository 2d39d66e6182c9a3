"""Fixtures for Parameter Store tests: a client for the test's account, and kumo's clock."""

import json

import pytest


@pytest.fixture
def ssm(aws):
    return aws("ssm")


@pytest.fixture
def advance(kumo_server):
    """Push kumo's simulated clock forward (policies fall due on it, never on the wall clock)."""
    return kumo_server.advance


@pytest.fixture
def kumo_now(kumo_server):
    return lambda: kumo_server.run(kumo_server.kumo.clock.now)


@pytest.fixture
def ssm_events(aws):
    """Every aws.ssm event the account's default bus routes, delivered to an SQS queue by a rule."""
    sqs, events = aws("sqs"), aws("events")
    url = sqs.create_queue(QueueName="ssm-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="ssm", EventPattern=json.dumps({"source": ["aws.ssm"]}))
    events.put_targets(Rule="ssm", Targets=[{"Id": "q", "Arn": arn}])

    def drain() -> list[dict]:
        out = []
        for _ in range(20):  # bounded: each receive takes what is there, without waiting
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            if not got:
                break
            for m in got:
                out.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return out

    return drain
