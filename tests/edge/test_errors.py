"""Unimplemented operations answer 501 in each protocol's own error shape; bugs answer 500 without a trace."""

import json
import types

import cbor2
import pytest
from botocore.exceptions import ClientError

from .http import auth_header, send


@pytest.mark.parametrize("service, call", [
    ("sts", lambda c: c.assume_root(TargetPrincipal="111122223333",
                                    TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"})),
    ("ec2", lambda c: c.describe_capacity_reservation_fleets()),
    ("logs", lambda c: c.describe_deliveries()),
    ("lambda", lambda c: c.list_code_signing_configs()),
    ("route53", lambda c: c.list_cidr_collections()),
    ("cloudwatch", lambda c: c.describe_insight_rules()),
])
def test_not_implemented_is_a_501_client_error(aws, service, call):
    """query, ec2, json, rest-json, rest-xml and smithy-rpc-v2-cbor in turn."""
    with pytest.raises(ClientError) as e:
        call(aws(service))
    assert e.value.response["Error"]["Code"] == "NotImplemented"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert "not implemented by kumo" in e.value.response["Error"]["Message"]


def test_cloudwatch_answers_all_three_of_its_protocols(endpoint):
    op = "DescribeInsightRules"
    # smithy-rpc-v2-cbor
    status, headers, body = send(endpoint, f"/service/GraniteServiceVersion20100801/operation/{op}", cbor2.dumps({}),
                                 {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor",
                                  "Authorization": auth_header("monitoring")})
    assert status == 501 and cbor2.loads(body)["__type"].endswith("#NotImplemented")
    assert headers["smithy-protocol"] == "rpc-v2-cbor"
    # json 1.0
    status, _, body = send(endpoint, "/", b"{}", {"X-Amz-Target": f"GraniteServiceVersion20100801.{op}",
                                                  "Content-Type": "application/x-amz-json-1.0",
                                                  "Authorization": auth_header("monitoring")})
    assert status == 501 and json.loads(body)["__type"] == "NotImplemented"
    # query, as awscli 1.x and older SDKs send it
    status, _, body = send(endpoint, "/", f"Action={op}&Version=2010-08-01".encode(),
                           {"Content-Type": "application/x-www-form-urlencoded",
                            "Authorization": auth_header("monitoring")})
    assert status == 501 and b"<Code>NotImplemented</Code>" in body


def test_internal_error_is_a_500_without_a_trace(kumo_server, aws):
    gateway = kumo_server.kumo.gateway
    broken = types.ModuleType("broken_sts")

    def get_caller_identity(ctx, params):
        raise RuntimeError("secret internals")

    broken.get_caller_identity = get_caller_identity
    spec = next(s for s in __import__("kumo.aws.specs", fromlist=["SERVICES"]).SERVICES.values() if s.name == "sts")
    original = gateway.api_module(spec)
    gateway._modules["sts"] = broken
    try:
        with pytest.raises(ClientError) as e:
            aws("sts").get_caller_identity()
    finally:
        gateway._modules["sts"] = original
    err = e.value.response
    assert err["Error"]["Code"] == "InternalFailure"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "secret internals" not in json.dumps(err, default=str)
    assert "Traceback" not in err["Error"]["Message"]
    assert aws("sts").get_caller_identity()["Account"]
