"""The function API: create (Pending → Active), read, update, delete, tags, policies, AWS's errors."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

from .conftest import TRUST, wait_active, wait_for, zip_of

SOURCE = "def handler(event, context):\n    return 'v1'\n"


def test_create_goes_pending_then_active(fns, lam, account):
    package = zip_of({"lambda_function.py": SOURCE})
    created = fns.create("basic", {"lambda_function.py": SOURCE}, wait=False, Description="d", MemorySize=256,
                         Timeout=30, Tags={"team": "a"})
    assert created["State"] == "Pending" and created["StateReasonCode"] == "Creating"
    assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:{account}:function:basic"
    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(package).digest()).decode()
    assert created["CodeSize"] == len(package) and created["Version"] == "$LATEST"
    assert created["PackageType"] == "Zip" and created["Architectures"] == ["x86_64"]
    assert created["EphemeralStorage"] == {"Size": 512}
    assert created["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/basic"}
    active = wait_active(lam, "basic")
    assert active["LastUpdateStatus"] == "Successful" and "StateReason" not in active
    got = lam.get_function(FunctionName="basic")
    assert got["Tags"] == {"team": "a"}
    with urllib.request.urlopen(got["Code"]["Location"]) as resp:  # the deployment package, as stored
        assert resp.read() == package
    assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == ["basic"]


def test_create_checks(fns, lam, aws, account):
    zipped = {"ZipFile": zip_of({"lambda_function.py": SOURCE})}
    raw = aws("lambda", validate=False)  # what the SDK would refuse, kumo refuses too

    def create(**kw):
        args = dict(FunctionName="checked", Runtime="python3.12", Role=fns.role, Handler="lambda_function.handler",
                    Code=zipped)
        args.update(kw)
        return raw.create_function(**{k: v for k, v in args.items() if v is not None})

    def code_of(**kw) -> str:
        with pytest.raises(ClientError) as caught:
            create(**kw)
        return caught.value.response["Error"]["Code"] + ": " + caught.value.response["Error"].get("Message", "")

    assert code_of(Runtime="python2.7") == (
        "InvalidParameterValueException: The runtime parameter of python2.7 is no longer supported for creating or "
        "updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating "
        "functions.")
    assert code_of(Role=f"arn:aws:iam::{account}:role/missing") == (
        "InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda.")
    assert code_of(Code={"ZipFile": b"not a zip"}).startswith(
        "InvalidParameterValueException: Could not unzip uploaded file.")
    assert code_of(Handler=None).startswith("InvalidParameterValueException: Runtime and Handler are mandatory")
    assert code_of(MemorySize=64).startswith("ValidationException")
    assert code_of(Timeout=901).startswith("ValidationException")
    assert code_of(Environment={"Variables": {"AWS_REGION": "x"}}).startswith(
        "InvalidParameterValueException: Lambda was unable to configure your environment variables because the "
        "environment variables you have provided contains reserved keys")
    assert "exceeded the 4KB limit" in code_of(Environment={"Variables": {"BIG": "x" * 5000}})
    assert code_of(Layers=[f"arn:aws:lambda:us-east-1:{account}:layer:nope:1"]).startswith(
        "InvalidParameterValueException: Layer version")
    create()
    assert code_of().startswith("ResourceConflictException: Function already exist: checked")


def test_a_runtime_this_host_cannot_run_fails_the_function(fns, lam):
    fns.create("rubyist", {"lambda_function.rb": "def handler(event:, context:) 1 end"}, runtime="ruby3.3",
               wait=False)

    def failed():
        config = lam.get_function_configuration(FunctionName="rubyist")
        return config if config["State"] == "Failed" else None

    config = wait_for(failed)
    assert config["StateReasonCode"] == "InvalidRuntime"
    assert "ruby3.3" in config["StateReason"]
    with pytest.raises(lam.exceptions.ResourceConflictException) as caught:
        lam.invoke(FunctionName="rubyist", Payload=b"{}")
    assert "The function is currently in the following state: Failed" in str(caught.value)


def test_update_code_and_configuration(fns, lam):
    fns.python("upd", SOURCE)
    assert fns.invoke("upd")[1] == "v1"
    before = lam.get_function_configuration(FunctionName="upd")
    updated = lam.update_function_code(FunctionName="upd", ZipFile=zip_of(
        {"lambda_function.py": "import os\ndef handler(e, c):\n    return os.environ.get('MODE', 'v2')\n"}))
    assert updated["LastUpdateStatus"] == "InProgress" and updated["RevisionId"] != before["RevisionId"]
    wait_active(lam, "upd")
    assert fns.invoke("upd")[1] == "v2"
    config = lam.update_function_configuration(FunctionName="upd", Environment={"Variables": {"MODE": "v3"}},
                                               MemorySize=512, Description="changed")
    assert config["MemorySize"] == 512
    wait_active(lam, "upd")
    assert fns.invoke("upd")[1] == "v3"  # new configuration, new environments
    with pytest.raises(lam.exceptions.PreconditionFailedException):
        lam.update_function_configuration(FunctionName="upd", Timeout=5, RevisionId="stale")
    final = lam.get_function_configuration(FunctionName="upd")
    assert final["Description"] == "changed" and final["Environment"] == {"Variables": {"MODE": "v3"}}


def test_delete_and_not_found(fns, lam, account):
    fns.python("gone", SOURCE)
    lam.delete_function(FunctionName="gone")
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as caught:
        lam.get_function(FunctionName="gone")
    assert caught.value.response["Message"] == f"Function not found: arn:aws:lambda:us-east-1:{account}:function:gone"
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName="gone")


def test_tags(fns, lam):
    arn = fns.python("tagged", SOURCE)["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={"a": "1", "b": "2"})
    lam.untag_resource(Resource=arn, TagKeys=["a"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"b": "2"}


def test_permissions_form_the_resource_policy(fns, lam, account):
    arn = fns.python("policed", SOURCE)["FunctionArn"]
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_policy(FunctionName="policed")
    added = lam.add_permission(FunctionName="policed", StatementId="sns", Action="lambda:InvokeFunction",
                               Principal="sns.amazonaws.com",
                               SourceArn=f"arn:aws:sns:us-east-1:{account}:topic")
    statement = json.loads(added["Statement"])
    assert statement == {"Sid": "sns", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                         "Action": "lambda:InvokeFunction", "Resource": arn,
                         "Condition": {"ArnLike": {"AWS:SourceArn": f"arn:aws:sns:us-east-1:{account}:topic"}}}
    lam.add_permission(FunctionName="policed", StatementId="acct", Action="lambda:*", Principal="111122223333")
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.add_permission(FunctionName="policed", StatementId="sns", Action="lambda:InvokeFunction",
                           Principal="sns.amazonaws.com")
    policy = json.loads(lam.get_policy(FunctionName="policed")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["sns", "acct"]
    assert policy["Statement"][1]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    lam.remove_permission(FunctionName="policed", StatementId="sns")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.remove_permission(FunctionName="policed", StatementId="sns")


def test_pagination_and_unimplemented_operations(fns, lam):
    for i in range(3):
        fns.create(f"page-{i}", {"lambda_function.py": SOURCE}, wait=False)
    first = lam.list_functions(MaxItems=2)
    assert len(first["Functions"]) == 2 and first["NextMarker"]
    rest = lam.list_functions(Marker=first["NextMarker"])
    assert [f["FunctionName"] for f in first["Functions"] + rest["Functions"]] == ["page-0", "page-1", "page-2"]
    with pytest.raises(ClientError) as caught:
        lam.list_code_signing_configs()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert caught.value.response["Error"]["Code"] == "NotImplemented"


def test_function_role_must_trust_lambda(aws, lam):
    iam = aws("iam")
    ec2_trust = TRUST.replace("lambda.amazonaws.com", "ec2.amazonaws.com")
    arn = iam.create_role(RoleName="ec2-only", AssumeRolePolicyDocument=ec2_trust)["Role"]["Arn"]
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.create_function(FunctionName="x", Runtime="python3.12", Role=arn, Handler="a.b",
                            Code={"ZipFile": zip_of({"a.py": ""})})
