"""RotateSecret and CancelRotateSecret: rotation rules, the AWSPENDING version a rotation starts, and who may
invoke the rotation function.

RotateSecret records the configuration, attaches AWSPENDING to a new empty version whose id is the
ClientRequestToken, and leaves the rotation itself (the function's four steps) to the ``Rotator``
controller, as AWS starts an asynchronous rotation.  A rotation function must let
``secretsmanager.amazonaws.com`` invoke it (its resource policy, AddPermission), as on AWS.
"""

from __future__ import annotations

import fnmatch
import json
import re
import uuid

from ...aws.errors import AwsError, not_implemented
from ...core import schedules
from ..lambda_ import internal as lambda_internal
from .model import CURRENT, PENDING, detach, find, holder, invalid_parameter, invalid_request, save

ROTATION = "secretsmanager-rotation"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
PRINCIPAL = "secretsmanager.amazonaws.com"
_DURATION = re.compile(r"([0-9]+)h")


# -- rotation rules -------------------------------------------------------------------------------------


def parse_rules(rules: dict):
    """(schedule, window seconds) of RotationRules; InvalidParameterException for what AWS refuses."""
    days, expression, duration = rules.get("AutomaticallyAfterDays"), rules.get("ScheduleExpression"), \
        rules.get("Duration")
    if days is not None and expression:
        raise invalid_parameter("You can't specify both AutomaticallyAfterDays and ScheduleExpression in "
                                "RotationRules.")
    if days is None and not expression:
        raise invalid_parameter("RotationRules must specify AutomaticallyAfterDays or ScheduleExpression.")
    if days is not None:
        schedule = schedules.Rate(int(days) * 86400)
    else:
        try:
            schedule = schedules.parse(expression)
        except schedules.ScheduleError:
            raise invalid_parameter(f"Invalid ScheduleExpression format: {expression}") from None
        if isinstance(schedule, schedules.Rate):
            if schedule.seconds % 86400 == 0 and not 1 <= schedule.seconds // 86400 <= 1000:
                raise invalid_parameter("A rate expression in days must be between 1 and 1000 days.")
            if schedule.seconds % 86400 and not (schedule.seconds % 3600 == 0 and 4 <= schedule.seconds // 3600 <= 23):
                raise invalid_parameter("A rate expression must be in hours (4 to 23) or days (1 to 1000).")
    window = None
    if duration is not None:
        m = _DURATION.fullmatch(duration)
        hours = int(m.group(1)) if m else 0
        if not 1 <= hours <= 24:
            raise invalid_parameter("The Duration must be between 1h and 24h.")
        window = hours * 3600
        if isinstance(schedule, schedules.Rate) and window >= schedule.seconds:
            raise invalid_parameter("The rotation window (Duration) must be shorter than the rotation interval.")
    return schedule, window


def shown_rules(rules: dict) -> dict:
    out = {k: rules[k] for k in ("AutomaticallyAfterDays", "ScheduleExpression", "Duration") if rules.get(k)}
    m = re.fullmatch(r"rate\((\d+) days?\)", rules.get("ScheduleExpression") or "")
    if m:  # Describe reports the interval in days too, computed from the schedule
        out["AutomaticallyAfterDays"] = int(m.group(1))
    return out


def next_rotation(record: dict, now: float) -> float | None:
    """The start of the next rotation window, or None without rotation rules."""
    rules = record.get("RotationRules")
    if not record.get("RotationEnabled") or not rules:
        return None
    schedule, _window = parse_rules({k: v for k, v in rules.items() if not (
        k == "AutomaticallyAfterDays" and rules.get("ScheduleExpression"))})
    if isinstance(schedule, schedules.Rate):
        since = record.get("LastRotatedDate") or record.get("_rules_since") or now
        return schedule.next_after(now, since)
    return schedule.next_after(now)


# -- who may invoke the rotation function -----------------------------------------------------------


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict, facts: dict) -> bool:
    for operator, block in condition.items():
        for key, wanted in block.items():
            have = facts.get(key.lower())
            if have is None:
                return False
            op = operator.lower()
            if op in ("stringequals", "arnequals"):
                ok = have in _list(wanted)
            elif op in ("stringlike", "arnlike"):
                ok = any(fnmatch.fnmatchcase(have, w) for w in _list(wanted))
            else:
                ok = False  # an operator this check does not evaluate grants nothing
            if not ok:
                return False
    return True


def _statement_applies(st: dict, function_arn: str, facts: dict) -> bool:
    principal = st.get("Principal")
    if principal != "*" and not (isinstance(principal, dict) and (
            PRINCIPAL in _list(principal.get("Service")) or "*" in _list(principal.get("AWS")))):
        return False
    if not any(fnmatch.fnmatchcase("lambda:invokefunction", a.lower()) for a in _list(st.get("Action"))):
        return False
    if not any(r == "*" or fnmatch.fnmatchcase(function_arn, r) or function_arn.startswith(r + ":")
               for r in _list(st.get("Resource", "*"))):
        return False
    return _condition_holds(st.get("Condition") or {}, facts)


def may_invoke(kumo, function_arn: str, secret_arn: str, account: str) -> bool:
    """Whether the function exists and its resource policy lets Secrets Manager invoke it for this secret."""
    if lambda_internal.resource_tags(kumo, function_arn) is None:
        return False
    text = lambda_internal.resource_policy(kumo, function_arn)
    if not text:
        return False
    facts = {"aws:sourcearn": secret_arn, "aws:sourceaccount": account}
    statements = json.loads(text).get("Statement") or []
    applying = [st for st in statements if _statement_applies(st, function_arn, facts)]
    return any(st.get("Effect") == "Allow" for st in applying) and \
        not any(st.get("Effect") == "Deny" for st in applying)


def cannot_invoke() -> AwsError:
    return AwsError("AccessDeniedException", "Secrets Manager cannot invoke the specified Lambda function. Ensure that "
                                             f"the function policy grants access to the principal {PRINCIPAL}.",
                    status=400)


# -- the API ------------------------------------------------------------------------------------------


def rotate_secret(ctx, p):
    record = find(ctx, p["SecretId"])
    if p.get("ExternalSecretRotationMetadata") or p.get("ExternalSecretRotationRoleArn"):
        raise not_implemented("secretsmanager", "RotateSecret of managed external secrets")
    function = p.get("RotationLambdaARN") or record.get("RotationLambdaARN")
    if not function:
        raise invalid_request("No Lambda rotation function ARN is associated with this secret.")
    now = ctx.now()
    if p.get("RotationRules"):
        parse_rules(p["RotationRules"])
    if not may_invoke(ctx.kumo, function, record["ARN"], ctx.account):
        raise cannot_invoke()
    token = p.get("ClientRequestToken") or str(uuid.uuid4())
    versions = record["_versions"]
    pending, current = holder(record, PENDING), holder(record, CURRENT)
    if pending is not None and pending != current and pending != token:
        raise invalid_request("A previous rotation isn't complete. That rotation will be reattempted.")
    if token in versions and token != pending:
        raise AwsError("ResourceExistsException", f"A version with the ClientRequestToken {token} already exists.")
    if pending is not None and pending != token:
        detach(record, pending, PENDING)
    if token not in versions:
        versions[token] = {"created": now, "stages": [PENDING], "value": None}
    if p.get("RotationRules"):
        record["RotationRules"] = shown_rules(p["RotationRules"])
        record["_rules_since"] = now
    record["RotationLambdaARN"] = function
    record["RotationEnabled"] = True
    immediately = p.get("RotateImmediately", True)
    # Without an immediate rotation AWS tests the configuration: testSecret on an AWSPENDING version it removes.
    record["_rotation"] = {"token": token, "function": function, "steps": list(STEPS if immediately else
                                                                            ("testSecret",)),
                           "trial": not immediately}
    record["NextRotationDate"] = next_rotation(record, now)
    record["LastChangedDate"] = now
    save(ctx, record)
    ctx.controllers.enqueue(ROTATION, (ctx.scope, record["Name"]))
    return {"ARN": record["ARN"], "Name": record["Name"], "VersionId": token}


def cancel_rotate_secret(ctx, p):
    record = find(ctx, p["SecretId"])
    out = {"ARN": record["ARN"], "Name": record["Name"]}
    pending, current = holder(record, PENDING), holder(record, CURRENT)
    if pending is not None and pending != current:
        out["VersionId"] = pending  # the version an unfinished rotation left, for the caller to look at
    record["RotationEnabled"] = False
    record.pop("NextRotationDate", None)
    record.pop("_rotation", None)
    record["LastChangedDate"] = ctx.now()
    save(ctx, record)
    return out
