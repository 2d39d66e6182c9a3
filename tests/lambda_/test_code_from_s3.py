"""Lambda deployment packages read from S3 (Code.S3Bucket/S3Key/S3ObjectVersion, layers' Content)."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from .conftest import wait_active, zip_of


@pytest.fixture
def code_bucket(aws):
    s3 = aws("s3")
    name = f"code-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    return s3, name


def test_function_from_s3_runs_and_updates_from_a_version(lam, role, code_bucket):
    s3, bucket = code_bucket
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="fn.zip", Body=zip_of(
        {"app.py": "def handler(e, c):\n    return {'from': 's3', 'n': e['n']}\n"}))["VersionId"]
    s3.put_object(Bucket=bucket, Key="fn.zip", Body=zip_of({"app.py": "def handler(e, c):\n    return 'v2'\n"}))
    lam.create_function(FunctionName="from-s3", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"S3Bucket": bucket, "S3Key": "fn.zip", "S3ObjectVersion": first})
    wait_active(lam, "from-s3")
    out = lam.invoke(FunctionName="from-s3", Payload=b'{"n": 7}')
    assert out["Payload"].read() == b'{"from": "s3", "n": 7}'
    lam.update_function_code(FunctionName="from-s3", S3Bucket=bucket, S3Key="fn.zip")
    wait_active(lam, "from-s3")
    assert lam.invoke(FunctionName="from-s3", Payload=b"{}")["Payload"].read() == b'"v2"'


def test_missing_key_and_bucket_are_lambda_errors(lam, role, code_bucket):
    _s3, bucket = code_bucket
    with pytest.raises(ClientError) as err:
        lam.create_function(FunctionName="nope", Runtime="python3.12", Role=role, Handler="app.handler",
                            Code={"S3Bucket": bucket, "S3Key": "missing.zip"})
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert err.value.response["Error"]["Message"].startswith(
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message:")
    with pytest.raises(ClientError) as err:
        lam.create_function(FunctionName="nope", Runtime="python3.12", Role=role, Handler="app.handler",
                            Code={"S3Bucket": f"no-{uuid.uuid4().hex[:12]}", "S3Key": "fn.zip"})
    assert "S3 Error Code: NoSuchBucket" in err.value.response["Error"]["Message"]


def test_layer_from_s3(lam, role, code_bucket):
    s3, bucket = code_bucket
    s3.put_object(Bucket=bucket, Key="layer.zip", Body=zip_of({"python/shared.py": "VALUE = 'from layer'\n"}))
    layer = lam.publish_layer_version(LayerName="shared", Content={"S3Bucket": bucket, "S3Key": "layer.zip"},
                                      CompatibleRuntimes=["python3.12"])
    lam.create_function(FunctionName="with-layer", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": zip_of({"app.py": "import shared\ndef handler(e, c):\n"
                                                           "    return shared.VALUE\n"})},
                        Layers=[layer["LayerVersionArn"]])
    wait_active(lam, "with-layer")
    assert lam.invoke(FunctionName="with-layer", Payload=b"{}")["Payload"].read() == b'"from layer"'
