"""Versions (immutable snapshots) and aliases, with weighted routing that really splits invocations."""

from __future__ import annotations

import collections
import json

import pytest

from .conftest import wait_active, zip_of

V = "VERSION = {v}\ndef handler(event, context):\n    return {{'version': VERSION, 'fv': context.function_version, " \
    "'arn': context.invoked_function_arn}}\n"


def _update_code(lam, name: str, source: str) -> None:
    lam.update_function_code(FunctionName=name, ZipFile=zip_of({"lambda_function.py": source}))
    wait_active(lam, name)


def test_versions_are_immutable_snapshots(fns, lam, account):
    fns.python("ver", V.format(v=1), Description="first")
    v1 = lam.publish_version(FunctionName="ver")
    assert v1["Version"] == "1"
    assert v1["FunctionArn"] == f"arn:aws:lambda:us-east-1:{account}:function:ver:1"
    again = lam.publish_version(FunctionName="ver")  # nothing changed: AWS returns the same version
    assert again["Version"] == "1"
    _update_code(lam, "ver", V.format(v=2))
    v2 = lam.publish_version(FunctionName="ver", Description="second")
    assert v2["Version"] == "2" and v2["Description"] == "second" and v2["CodeSha256"] != v1["CodeSha256"]
    _update_code(lam, "ver", V.format(v=3))  # $LATEST stays mutable
    assert fns.invoke("ver", Qualifier="1")[1]["version"] == 1
    resp, body = fns.invoke("ver:2")
    assert body == {"version": 2, "fv": "2", "arn": f"arn:aws:lambda:us-east-1:{account}:function:ver:2"}
    assert resp["ExecutedVersion"] == "2"
    assert fns.invoke("ver")[1]["version"] == 3
    assert fns.invoke(f"arn:aws:lambda:us-east-1:{account}:function:ver:$LATEST")[1]["fv"] == "$LATEST"
    assert fns.invoke(f"{account}:function:ver", Qualifier="1")[1]["version"] == 1
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.invoke(FunctionName="ver:1", Qualifier="2", Payload=b"{}")
    versions = lam.list_versions_by_function(FunctionName="ver")["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert lam.get_function(FunctionName="ver", Qualifier="1")["Configuration"]["Description"] == "first"
    assert len(lam.list_functions(FunctionVersion="ALL")["Functions"]) == 3
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_configuration(FunctionName="ver", Qualifier="9")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.publish_version(FunctionName="ver", CodeSha256="not-the-sha")
    lam.delete_function(FunctionName="ver", Qualifier="1")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName="ver")["Versions"]] == ["$LATEST", "2"]
    assert lam.publish_version(FunctionName="ver")["Version"] == "3"  # numbers never come back


def test_alias_weights_split_a_thousand_invocations(fns, lam):
    fns.python("weighted", V.format(v=1))
    lam.publish_version(FunctionName="weighted")
    _update_code(lam, "weighted", V.format(v=2))
    lam.publish_version(FunctionName="weighted")
    alias = lam.create_alias(FunctionName="weighted", Name="live", FunctionVersion="1",
                             RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    assert alias["AliasArn"].endswith(":function:weighted:live")
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.1}}
    seen = collections.Counter()
    for _ in range(1000):
        resp = lam.invoke(FunctionName="weighted", Qualifier="live", Payload=b"{}")
        body = json.loads(resp["Payload"].read())
        assert body["fv"] == resp["ExecutedVersion"]
        assert body["arn"].endswith(":weighted:live")
        seen[resp["ExecutedVersion"]] += 1
    assert abs(seen["1"] - 900) <= 30 and abs(seen["2"] - 100) <= 30, seen
    assert seen["1"] + seen["2"] == 1000


def test_alias_lifecycle_and_checks(fns, lam):
    fns.python("aliased", V.format(v=1))
    lam.publish_version(FunctionName="aliased")
    lam.create_alias(FunctionName="aliased", Name="prod", FunctionVersion="1", Description="p")
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.create_alias(FunctionName="aliased", Name="prod", FunctionVersion="1")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.create_alias(FunctionName="aliased", Name="bad", FunctionVersion="7")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.create_alias(FunctionName="aliased", Name="mix", FunctionVersion="$LATEST",
                         RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
    assert fns.invoke("aliased:prod")[1]["version"] == 1
    _update_code(lam, "aliased", V.format(v=2))
    lam.publish_version(FunctionName="aliased")
    updated = lam.update_alias(FunctionName="aliased", Name="prod", FunctionVersion="2")
    assert updated["FunctionVersion"] == "2"
    assert fns.invoke("aliased", Qualifier="prod")[1]["version"] == 2
    with pytest.raises(lam.exceptions.PreconditionFailedException):
        lam.update_alias(FunctionName="aliased", Name="prod", RevisionId="stale")
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.delete_function(FunctionName="aliased", Qualifier="2")  # the alias points at it
    assert [a["Name"] for a in lam.list_aliases(FunctionName="aliased")["Aliases"]] == ["prod"]
    lam.delete_alias(FunctionName="aliased", Name="prod")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_alias(FunctionName="aliased", Name="prod")
    lam.delete_function(FunctionName="aliased", Qualifier="2")


def test_provisioned_concurrency_keeps_environments_warm(fns, lam):
    source = "import os\ndef handler(e, c):\n    return os.environ['AWS_LAMBDA_INITIALIZATION_TYPE']\n"
    fns.python("warm", source)
    lam.publish_version(FunctionName="warm")
    lam.create_alias(FunctionName="warm", Name="live", FunctionVersion="1")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.put_provisioned_concurrency_config(FunctionName="warm", Qualifier="$LATEST",
                                               ProvisionedConcurrentExecutions=1)
    config = lam.put_provisioned_concurrency_config(FunctionName="warm", Qualifier="live",
                                                    ProvisionedConcurrentExecutions=2)
    assert config["Status"] == "IN_PROGRESS" and config["RequestedProvisionedConcurrentExecutions"] == 2
    from .conftest import wait_for

    ready = wait_for(lambda: (lambda c: c if c["Status"] == "READY" else None)(
        lam.get_provisioned_concurrency_config(FunctionName="warm", Qualifier="live")))
    assert ready["AvailableProvisionedConcurrentExecutions"] == 2
    resp, body = fns.invoke("warm", Qualifier="live", LogType="Tail")
    assert body == "provisioned-concurrency"
    import base64

    assert "Init Duration" not in base64.b64decode(resp["LogResult"]).decode()  # initialised beforehand
    assert fns.invoke("warm")[1] == "on-demand"  # $LATEST is not provisioned
    listed = lam.list_provisioned_concurrency_configs(FunctionName="warm")["ProvisionedConcurrencyConfigs"]
    assert listed[0]["FunctionArn"].endswith(":warm:live")
    lam.delete_provisioned_concurrency_config(FunctionName="warm", Qualifier="live")
    with pytest.raises(lam.exceptions.ProvisionedConcurrencyConfigNotFoundException):
        lam.get_provisioned_concurrency_config(FunctionName="warm", Qualifier="live")
