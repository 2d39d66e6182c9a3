"""Rotation by a real Lambda rotation function (python3.11, AWS's four-step handler) that calls kumo's Secrets
Manager with boto3 from inside the function: success, failure, a schedule on kumo's clock, and the permission
the function must give Secrets Manager."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.exceptions import ClientError

from tests.lambda_.conftest import wait_for
from tests.own_kumo import endpoint, kumo_server  # noqa: F401  (days pass on this module's own kumo)

# The standard rotation handler: createSecret puts an AWSPENDING value, finishSecret moves AWSCURRENT to it.
# FAIL_AT names a step that raises (a failing rotation).
HANDLER = r'''
import os
import boto3

def handler(event, context):
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    client = boto3.client("secretsmanager")
    metadata = client.describe_secret(SecretId=arn)
    if not metadata["RotationEnabled"]:
        raise ValueError("Secret %s is not enabled for rotation" % arn)
    versions = metadata["VersionIdsToStages"]
    if token not in versions:
        raise ValueError("Secret version %s has no stage for rotation of secret %s." % (token, arn))
    if "AWSCURRENT" in versions[token]:
        return
    if "AWSPENDING" not in versions[token]:
        raise ValueError("Secret version %s not set as AWSPENDING for rotation of secret %s." % (token, arn))
    if os.environ.get("FAIL_AT") == step:
        raise RuntimeError("the %s step failed" % step)
    if step == "createSecret":
        client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
        try:
            client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        except client.exceptions.ResourceNotFoundException:
            password = client.get_random_password(ExcludeCharacters="/@\"'\\")["RandomPassword"]
            client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=password,
                                    VersionStages=["AWSPENDING"])
    elif step == "setSecret":
        pass  # a real function sets the password on the database here
    elif step == "testSecret":
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
    elif step == "finishSecret":
        current = None
        for version, stages in metadata["VersionIdsToStages"].items():
            if "AWSCURRENT" in stages:
                if version == token:
                    return
                current = version
        client.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token,
                                           RemoveFromVersionId=current)
    else:
        raise ValueError("Invalid step parameter")
'''


@pytest.fixture
def sm(aws):
    return aws("secretsmanager")


def rotator(fns, lam, name: str, fail_at: str | None = None, permit: bool = True) -> str:
    env = {"Variables": {"FAIL_AT": fail_at}} if fail_at else {}
    arn = fns.python(name, HANDLER, runtime="python3.11", Timeout=30, Environment=env)["FunctionArn"]
    if permit:
        lam.add_permission(FunctionName=name, StatementId="secretsmanager", Action="lambda:InvokeFunction",
                           Principal="secretsmanager.amazonaws.com")
    return arn


def stages(sm, secret: str) -> dict:
    return sm.describe_secret(SecretId=secret)["VersionIdsToStages"]


def reports(aws, function: str) -> int:
    """How many invocations of the function have ended (REPORT lines in its log)."""
    logs = aws("logs")
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{function}", filterPattern="REPORT")["events"]
    except ClientError:
        return 0
    return sum(1 for e in events if e["message"].startswith("REPORT"))


def test_rotation_moves_current_to_the_new_version_and_previous_to_the_old(sm, fns, lam):
    fn = rotator(fns, lam, "rotate-ok")
    old = sm.create_secret(Name="db", SecretString="initial")["VersionId"]
    out = sm.rotate_secret(SecretId="db", RotationLambdaARN=fn, RotationRules={"AutomaticallyAfterDays": 30})
    new = out["VersionId"]
    assert new != old
    wait_for(lambda: sm.describe_secret(SecretId="db").get("LastRotatedDate"), timeout=60)
    versions = stages(sm, "db")
    assert "AWSCURRENT" in versions[new] and versions[old] == ["AWSPREVIOUS"]
    value = sm.get_secret_value(SecretId="db")
    assert value["VersionId"] == new and value["SecretString"] != "initial" and len(value["SecretString"]) == 32
    assert sm.get_secret_value(SecretId="db", VersionStage="AWSPREVIOUS")["SecretString"] == "initial"
    desc = sm.describe_secret(SecretId="db")
    assert desc["RotationEnabled"] is True and desc["RotationLambdaARN"] == fn
    assert desc["RotationRules"]["AutomaticallyAfterDays"] == 30
    assert (desc["NextRotationDate"] - desc["LastRotatedDate"]).total_seconds() == pytest.approx(30 * 86400, abs=1)
    # A rotation that finished leaves nothing pending: another may start at once.
    again = sm.rotate_secret(SecretId="db")["VersionId"]
    wait_for(lambda: "AWSCURRENT" in stages(sm, "db").get(again, []), timeout=60)
    assert stages(sm, "db")[new] == ["AWSPREVIOUS"]


def test_failed_rotation_leaves_pending_and_is_reattempted_on_schedule(sm, fns, lam, aws, kumo_server):
    fn = rotator(fns, lam, "rotate-fails", fail_at="setSecret")
    old = sm.create_secret(Name="flaky", SecretString="initial")["VersionId"]
    pending = sm.rotate_secret(SecretId="flaky", RotationLambdaARN=fn,
                               RotationRules={"ScheduleExpression": "rate(4 hours)"})["VersionId"]
    wait_for(lambda: reports(aws, "rotate-fails") >= 2, timeout=60)  # createSecret, then setSecret raised
    wait_for(lambda: sm.describe_secret(SecretId="flaky").get("NextRotationDate"))
    desc = sm.describe_secret(SecretId="flaky")
    assert desc["RotationEnabled"] is True and "LastRotatedDate" not in desc
    assert desc["VersionIdsToStages"] == {old: ["AWSCURRENT"], pending: ["AWSPENDING"]}
    assert sm.get_secret_value(SecretId="flaky")["SecretString"] == "initial"
    assert sm.get_secret_value(SecretId="flaky", VersionStage="AWSPENDING")["VersionId"] == pending
    with pytest.raises(ClientError) as e:
        sm.rotate_secret(SecretId="flaky")
    assert e.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "previous rotation isn't complete" in e.value.response["Error"]["Message"]
    # The function is fixed; the next scheduled rotation takes the pending version up again.
    lam.update_function_configuration(FunctionName="rotate-fails", Environment={"Variables": {}})
    wait_for(lambda: lam.get_function_configuration(FunctionName="rotate-fails")["LastUpdateStatus"] == "Successful")
    kumo_server.advance(4 * 3600 + 1)
    wait_for(lambda: sm.describe_secret(SecretId="flaky").get("LastRotatedDate"), timeout=60)
    assert stages(sm, "flaky") == {old: ["AWSPREVIOUS"], pending: ["AWSPENDING", "AWSCURRENT"]}


def test_scheduled_rotation_fires_on_kumos_clock(sm, fns, lam, kumo_server):
    fn = rotator(fns, lam, "rotate-scheduled")
    old = sm.create_secret(Name="sched", SecretString="initial")["VersionId"]
    trial = sm.rotate_secret(SecretId="sched", RotationLambdaARN=fn, RotateImmediately=False,
                             RotationRules={"AutomaticallyAfterDays": 2, "Duration": "3h"})["VersionId"]
    # Without an immediate rotation only testSecret runs, on an AWSPENDING version that is then removed.
    wait_for(lambda: trial not in stages(sm, "sched"), timeout=60)
    desc = sm.describe_secret(SecretId="sched")
    assert desc["VersionIdsToStages"] == {old: ["AWSCURRENT"]} and "LastRotatedDate" not in desc
    assert desc["RotationRules"] == {"AutomaticallyAfterDays": 2, "Duration": "3h"}
    kumo_server.advance(86400)
    assert sm.get_secret_value(SecretId="sched")["VersionId"] == old  # not due yet
    kumo_server.advance(86400 + 1)
    wait_for(lambda: sm.describe_secret(SecretId="sched").get("LastRotatedDate"), timeout=60)
    versions = stages(sm, "sched")
    assert versions[old] == ["AWSPREVIOUS"]
    assert sm.get_secret_value(SecretId="sched")["VersionId"] != old


def test_cron_schedule_and_rules_validation(sm, fns, lam):
    fn = rotator(fns, lam, "rotate-rules")
    sm.create_secret(Name="rules", SecretString="x")
    for rules in ({"AutomaticallyAfterDays": 1, "ScheduleExpression": "rate(1 day)"},
                  {"ScheduleExpression": "rate(5 minutes)"}, {"ScheduleExpression": "cron(bad)"},
                  {"ScheduleExpression": "rate(4 hours)", "Duration": "5h"}):
        with pytest.raises(ClientError) as e:
            sm.rotate_secret(SecretId="rules", RotationLambdaARN=fn, RotationRules=rules, RotateImmediately=False)
        assert e.value.response["Error"]["Code"] == "InvalidParameterException", rules
    sm.rotate_secret(SecretId="rules", RotationLambdaARN=fn, RotateImmediately=False,
                     RotationRules={"ScheduleExpression": "cron(0 16 1,15 * ? *)", "Duration": "2h"})
    nxt = sm.describe_secret(SecretId="rules")["NextRotationDate"].astimezone(dt.timezone.utc)
    assert (nxt.hour, nxt.minute) == (16, 0) and nxt.day in (1, 15)
    out = sm.cancel_rotate_secret(SecretId="rules")
    assert out["Name"] == "rules"
    desc = sm.describe_secret(SecretId="rules")
    assert desc["RotationEnabled"] is False and "NextRotationDate" not in desc


def test_rotation_needs_the_functions_permission(sm, fns, lam):
    fn = rotator(fns, lam, "rotate-private", permit=False)
    sm.create_secret(Name="locked", SecretString="x")
    with pytest.raises(ClientError) as e:
        sm.rotate_secret(SecretId="locked", RotationLambdaARN=fn)
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert sm.describe_secret(SecretId="locked")["RotationEnabled"] is False
    with pytest.raises(ClientError) as e:
        sm.rotate_secret(SecretId="locked")
    assert e.value.response["Error"]["Code"] == "InvalidRequestException"  # no function configured
