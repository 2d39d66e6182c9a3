"""Under ``--enforce-iam``: bucket policies are evaluated, and S3 checks that a notification's destination
lets it deliver."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.conftest import new_account
from tests.security.policies import client


def test_a_queue_must_let_s3_send_before_a_notification_names_it(iam_server):
    account = new_account()
    s3, sqs = client(iam_server, "s3", account), client(iam_server, "sqs", account)
    bucket = f"notify-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    url = sqs.create_queue(QueueName="events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    config = {"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]}
    with pytest.raises(ClientError) as err:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    assert err.value.response["Error"]["Code"] == "InvalidArgument"
    assert err.value.response["Error"]["Message"] == "Unable to validate the following destination configurations"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": arn, "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"}}}]})})
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    bodies = []
    for _ in range(10):
        bodies += [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2,
                                                                      MaxNumberOfMessages=10).get("Messages", [])]
        if len(bodies) >= 2:
            break
    assert bodies[0]["Event"] == "s3:TestEvent" and bodies[1]["Records"][0]["s3"]["object"]["key"] == "k"


def test_bucket_policies_are_evaluated(iam_server):
    from tests.security.policies import doc

    account = new_account()
    iam, s3 = client(iam_server, "iam", account), client(iam_server, "s3", account)
    bucket = f"shared-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="report.txt", Body=b"numbers")
    iam.create_user(UserName="reader")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    reader = client(iam_server, "s3", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as err:
        reader.get_object(Bucket=bucket, Key="report.txt")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:user/reader"}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    assert reader.get_object(Bucket=bucket, Key="report.txt")["Body"].read() == b"numbers"
    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket=bucket, Key="report.txt")  # the account's root too, by the explicit deny
    assert err.value.response["Error"]["Code"] == "AccessDenied"
