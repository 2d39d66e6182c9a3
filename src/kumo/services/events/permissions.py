"""Bus permissions (PutPermission, RemovePermission): the bus's resource policy, and judging it.

The policy is the bus's ``Policy`` (JSON text, as DescribeEventBus answers it).  ``allows`` decides whether
an account may put events on the bus, which is what a rule of another account delivering to this bus
(cross-account delivery, targets.py) needs: an Allow statement for events:PutEvents whose Principal names
that account (or ``*``) and whose Resource covers the bus, and no such Deny.  Conditions on
aws:PrincipalAccount / aws:SourceAccount are judged; one on aws:PrincipalOrgID never holds (kumo has no
organizations), nor does any other condition key.
"""

from __future__ import annotations

import fnmatch
import json
import re

from ...aws.errors import AwsError
from ...core.arns import partition
from . import buses

MAX_POLICY = 10240
_ACCOUNT = re.compile(r"^(\d{12}|\*)$")
_IAM_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):")
_SID = re.compile(r"^[a-zA-Z0-9\-_]{1,64}$")


def _bus(ctx, p) -> dict:
    return buses.find(ctx.store, ctx.account, ctx.region, p.get("EventBusName"), ctx.now())


def _save(ctx, bus: dict, doc: dict | None) -> None:
    if doc is None or not doc.get("Statement"):
        bus.pop("Policy", None)
    else:
        text = json.dumps(doc, separators=(",", ":"))
        if len(text) > MAX_POLICY:
            raise AwsError("PolicyLengthExceededException", "The policy is too long.")
        bus["Policy"] = text
    bus["LastModifiedTime"] = ctx.now()
    buses.table(ctx.store, ctx.account, ctx.region).put(bus["Name"], bus)


def put_permission(ctx, p):
    bus = _bus(ctx, p)
    if p.get("Policy"):
        try:
            doc = json.loads(p["Policy"])
        except ValueError:
            raise AwsError("ValidationException", "Parameter Policy is not valid JSON.")
        if not isinstance(doc, dict) or not isinstance(doc.get("Statement"), (list, dict)):
            raise AwsError("ValidationException", "Parameter Policy is not valid. Reason: it has no Statement.")
        _save(ctx, bus, doc)
        return {}
    for field in ("Action", "Principal", "StatementId"):
        if not p.get(field):
            raise AwsError("ValidationException", f"Parameter {field} is required when Policy is not given.")
    if p["Action"] != "events:PutEvents":
        raise AwsError("ValidationException", f"Provided value in parameter 'action' is not supported: "
                                              f"{p['Action']}.")
    if not _ACCOUNT.match(p["Principal"]):
        raise AwsError("ValidationException", f"Parameter Principal is not valid: {p['Principal']}.")
    if not _SID.match(p["StatementId"]):
        raise AwsError("ValidationException", f"Parameter StatementId is not valid: {p['StatementId']}.")
    condition = p.get("Condition")
    statement = {"Sid": p["StatementId"], "Effect": "Allow",
                 "Principal": "*" if p["Principal"] == "*" else {"AWS": f"arn:{partition(ctx.region)}:iam::{p['Principal']}:root"},
                 "Action": p["Action"], "Resource": bus["Arn"]}
    if condition:
        statement["Condition"] = {condition["Type"]: {condition["Key"]: condition["Value"]}}
    doc = json.loads(bus["Policy"]) if bus.get("Policy") else {"Version": "2012-10-17", "Statement": []}
    doc["Statement"] = [s for s in _statements(doc) if s.get("Sid") != p["StatementId"]] + [statement]
    _save(ctx, bus, doc)
    return {}


def remove_permission(ctx, p):
    bus = _bus(ctx, p)
    if p.get("RemoveAllPermissions"):
        _save(ctx, bus, None)
        return {}
    sid = p.get("StatementId")
    if not sid:
        raise AwsError("ValidationException", "Parameter StatementId is required unless RemoveAllPermissions is "
                                              "true.")
    doc = json.loads(bus["Policy"]) if bus.get("Policy") else {"Statement": []}
    kept = [s for s in _statements(doc) if s.get("Sid") != sid]
    if len(kept) == len(_statements(doc)):
        raise buses.not_found("Statement with the provided id does not exist.")
    doc["Statement"] = kept
    _save(ctx, bus, doc)
    return {}


def _statements(doc: dict) -> list:
    statements = doc.get("Statement") or []
    return [statements] if isinstance(statements, dict) else list(statements)


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _principal_matches(principal, account: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return any(p == "*" or p == account or (isinstance(p, str) and _IAM_ACCOUNT.match(p) is not None
                                            and _IAM_ACCOUNT.match(p).group(1) == account)
               for p in _listed(principal.get("AWS", [])))


def _condition_holds(condition: dict | None, account: str) -> bool:
    for op, pairs in (condition or {}).items():
        for key, values in pairs.items():
            if key.lower() not in ("aws:principalaccount", "aws:sourceaccount") or op not in ("StringEquals",
                                                                                            "StringLike"):
                return False
            if not any(fnmatch.fnmatchcase(account, v) if op == "StringLike" else account == v
                       for v in _listed(values)):
                return False
    return True


def _applies(statement: dict, account: str, bus_arn: str) -> bool:
    actions = _listed(statement.get("Action", []))
    return (any(fnmatch.fnmatchcase("events:PutEvents", a) for a in actions)
            and _principal_matches(statement.get("Principal"), account)
            and any(fnmatch.fnmatchcase(bus_arn, r) for r in _listed(statement.get("Resource", bus_arn)))
            and _condition_holds(statement.get("Condition"), account))


def allows(bus: dict, account: str) -> bool:
    """Whether ``account`` may put events on ``bus`` (its own account always may)."""
    if bus["Arn"].split(":")[4] == account:
        return True
    if not bus.get("Policy"):
        return False
    statements = [s for s in _statements(json.loads(bus["Policy"])) if _applies(s, account, bus["Arn"])]
    return any(s.get("Effect") == "Allow" for s in statements) and not any(s.get("Effect") == "Deny"
                                                                           for s in statements)
