"""Malformed and hostile input gets an AWS-shaped 4xx, never a 500, and loses nothing."""

import json

import pytest
from botocore.exceptions import ClientError

from .http import auth_header, send

FORM = "application/x-www-form-urlencoded; charset=utf-8"


def json_headers(target: str, service: str, version: str = "1.0") -> dict:
    return {"X-Amz-Target": target, "Content-Type": f"application/x-amz-json-{version}",
            "Authorization": auth_header(service)}


def test_truncated_json_body(endpoint):
    status, headers, body = send(endpoint, body=b'{"QueueNamePrefix": "ab',
                                 headers=json_headers("AmazonSQS.ListQueues", "sqs"))
    assert status == 400
    assert json.loads(body)["__type"] == "SerializationException"


def test_xml_where_json_is_expected(endpoint):
    status, _, body = send(endpoint, body=b"<ListQueues><QueueNamePrefix>a</QueueNamePrefix></ListQueues>",
                           headers=json_headers("AmazonSQS.ListQueues", "sqs"))
    assert status == 400
    assert json.loads(body)["__type"] == "SerializationException"


def test_json_array_where_an_object_belongs(endpoint):
    status, _, body = send(endpoint, body=b"[1, 2]", headers=json_headers("AmazonSQS.ListQueues", "sqs"))
    assert status == 400 and json.loads(body)["__type"] == "SerializationException"


def test_string_where_an_integer_belongs_json(endpoint):
    body = json.dumps({"QueueUrl": "http://x/1/q", "MaxNumberOfMessages": "ten"}).encode()
    status, _, out = send(endpoint, body=body, headers=json_headers("AmazonSQS.ReceiveMessage", "sqs"))
    assert status == 400 and json.loads(out)["__type"] == "SerializationException"
    assert "integer" in json.loads(out)["message"]


def test_string_where_an_integer_belongs_query(endpoint):
    status, _, body = send(endpoint, body=b"Action=ListRoles&Version=2010-05-08&MaxItems=abc",
                           headers={"Content-Type": FORM, "Authorization": auth_header("iam")})
    assert status == 400
    assert b"<Code>ValidationError</Code>" in body


def test_missing_required_member(aws):
    iam = aws("iam", validate=False)
    with pytest.raises(ClientError) as e:
        iam.create_role(AssumeRolePolicyDocument="{}")
    err = e.value.response["Error"]
    assert err["Code"] == "ValidationError"
    assert "Value null at 'roleName' failed to satisfy constraint: Member must not be null" in err["Message"]
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_twenty_megabyte_body(endpoint, aws):
    big = b"Action=ListRoles&Version=2010-05-08&Marker=" + b"a" * (20 * 1024 * 1024)
    status, _, body = send(endpoint, body=big, headers={"Content-Type": FORM, "Authorization": auth_header("iam")})
    assert status == 413
    assert b"<Code>RequestEntityTooLarge</Code>" in body
    # The server is unharmed.
    assert aws("sts").get_caller_identity()["Account"]


def test_unknown_action(endpoint):
    status, _, body = send(endpoint, body=b"Action=StealEverything&Version=2010-05-08",
                           headers={"Content-Type": FORM, "Authorization": auth_header("iam")})
    assert status == 400 and b"<Code>InvalidAction</Code>" in body


def test_missing_action(endpoint):
    status, _, body = send(endpoint, body=b"Version=2010-05-08",
                           headers={"Content-Type": FORM, "Authorization": auth_header("iam")})
    assert status == 400 and b"<Code>MissingAction</Code>" in body


def test_unknown_json_target(endpoint):
    status, _, body = send(endpoint, body=b"{}", headers=json_headers("AmazonSQS.FlyToTheMoon", "sqs"))
    assert status == 400 and json.loads(body)["__type"] == "UnknownOperationException"


def test_unknown_service(endpoint):
    status, _, body = send(endpoint, body=b"Action=X&Version=1", headers={"Content-Type": FORM,
                                                                          "Authorization": auth_header("nosuchsvc")})
    assert status == 400 and b"UnknownServiceException" in body


def test_bad_enum_value(aws):
    iam = aws("iam", validate=False)
    iam.create_user(UserName="u")
    key = iam.create_access_key(UserName="u")["AccessKey"]
    with pytest.raises(ClientError) as e:
        iam.update_access_key(UserName="u", AccessKeyId=key["AccessKeyId"], Status="Sleeping")
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert "enum value set: [Active, Inactive" in e.value.response["Error"]["Message"]


def test_bad_input_loses_nothing(aws):
    iam = aws("iam")
    iam.create_role(RoleName="keep", AssumeRolePolicyDocument='{"Statement": []}')
    bad = aws("iam", validate=False)
    for call in (
        lambda: bad.create_role(RoleName="keep", AssumeRolePolicyDocument='{"Statement": []}'),
        lambda: bad.update_role(RoleName="keep", MaxSessionDuration=1),
        lambda: bad.create_role(RoleName="new", AssumeRolePolicyDocument="{broken"),
    ):
        with pytest.raises(ClientError):
            call()
    roles = iam.list_roles()["Roles"]
    assert [r["RoleName"] for r in roles] == ["keep"] and roles[0]["MaxSessionDuration"] == 3600


def test_a_path_that_decodes_to_a_newline_gets_the_services_error(endpoint):
    # Found by the fuzz suite: the catch-all route missed paths holding %0A and aiohttp answered a plain 404.
    status, headers, body = send(endpoint, "/2017-03-31/tags/%0Afn", body=b'{"Tags": {}}',
                                 headers={"Authorization": auth_header("lambda"), "Content-Type": "application/json"})
    assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException"
    assert "functionName" in json.loads(body)["message"]
