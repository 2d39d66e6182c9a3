"""S3 under --enforce-iam: operations map to S3's IAM actions on bucket and object ARNs."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Clients

from .test_buckets import code


def test_identity_policy_on_object_and_bucket_arns(enforcing):
    root = Clients(enforcing.endpoint, "123412341234")
    s3 = root("s3")
    s3.create_bucket(Bucket="iam-bucket")
    s3.put_object(Bucket="iam-bucket", Key="reports/a", Body=b"allowed")
    s3.put_object(Bucket="iam-bucket", Key="private/b", Body=b"not allowed")
    iam = root("iam")
    iam.create_user(UserName="reader")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::iam-bucket/reports/*"},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::iam-bucket"}]}))
    reader = Clients(enforcing.endpoint, key["AccessKeyId"])("s3", secret_key=key["SecretAccessKey"])
    assert reader.get_object(Bucket="iam-bucket", Key="reports/a")["Body"].read() == b"allowed"
    assert reader.head_object(Bucket="iam-bucket", Key="reports/a")["ContentLength"] == 7  # s3:GetObject
    assert len(reader.list_objects_v2(Bucket="iam-bucket")["Contents"]) == 2  # s3:ListBucket
    with pytest.raises(ClientError) as exc:
        reader.get_object(Bucket="iam-bucket", Key="private/b")
    assert code(exc) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as exc:
        reader.put_object(Bucket="iam-bucket", Key="reports/new", Body=b"x")
    assert code(exc) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as exc:
        reader.delete_objects(Bucket="iam-bucket", Delete={"Objects": [{"Key": "reports/a"}]})
    assert code(exc) == ("AccessDenied", 403)
