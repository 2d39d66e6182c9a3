"""A request that fails inside its handler puts back what it touched, and only that."""

from __future__ import annotations

import json
import types

import pytest
from botocore.exceptions import ClientError

from kumo.aws import specs

TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


@pytest.fixture
def broken_sts(kumo_server):
    """Swap STS's handlers for the test's own, through the gateway's module table."""
    gateway = kumo_server.kumo.gateway
    spec = specs.SERVICES["sts"]
    original = gateway.api_module(spec)
    module = types.ModuleType("broken_sts")
    gateway._modules["sts"] = module
    yield module
    gateway._modules["sts"] = original


def test_a_500_undoes_in_place_changes_and_reloads_nothing_else(kumo_server, aws, account, broken_sts):
    iam = aws("iam")
    for name in ("target", "bystander"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, Description="before")
    store = kumo_server.kumo.store
    roles = store.table(account, "iam.role")
    bystander = kumo_server.run(roles.get, "bystander")
    records_before = kumo_server.run(store.count)

    def get_caller_identity(ctx, params):
        role = ctx.store.table(ctx.account, "iam.role").get("target")
        role["Description"] = "half-applied"  # changed in place, never put
        role.setdefault("Tags", []).append({"Key": "k", "Value": "v"})
        raise RuntimeError("a handler bug")

    broken_sts.get_caller_identity = get_caller_identity
    with pytest.raises(ClientError) as e:
        aws("sts").get_caller_identity()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    role = iam.get_role(RoleName="target")["Role"]
    assert role["Description"] == "before" and "Tags" not in role
    assert kumo_server.run(roles.get, "bystander") is bystander  # not reloaded: the very same object
    assert kumo_server.run(store.count) == records_before
    assert kumo_server.kumo.gateway.internal_errors >= 1


def test_an_aws_error_after_an_in_place_change_undoes_it(kumo_server, aws, account, broken_sts):
    from kumo.aws.errors import AwsError

    iam = aws("iam")
    iam.create_role(RoleName="listed", AssumeRolePolicyDocument=TRUST, Description="before")

    def get_caller_identity(ctx, params):
        for role in ctx.store.table(ctx.account, "iam.role").values():
            role["Description"] = "changed while listing"
        raise AwsError("InvalidClientTokenId", "refused after the change", status=403)

    broken_sts.get_caller_identity = get_caller_identity
    with pytest.raises(ClientError) as e:
        aws("sts").get_caller_identity()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert iam.get_role(RoleName="listed")["Role"]["Description"] == "before"
