"""Resource-based policies: AddPermission, RemovePermission, GetPolicy.

Statements are stored as AWS writes them (Principal, Condition with
AWS:SourceArn / AWS:SourceAccount / aws:PrincipalOrgID /
lambda:FunctionUrlAuthType) per qualifier.  With ``--enforce-iam`` they are
evaluated as the function's resource-based policy (kumo.services.lambda_.internal).
"""

from __future__ import annotations

import json
import re

from ...aws.errors import AwsError
from .functions import ref_of, require
from .model import ALIAS, POLICY, VERSION, conflict, function_not_found, not_found, precondition, revision

_ACTION = re.compile(r"^(lambda:[*]|lambda:[a-zA-Z]+|[*])$")


def _key(ctx, p) -> tuple[str, str, str | None]:
    ref = ref_of(ctx, p)
    require(ctx, ref)
    q = ref.qualifier
    if q and q != "$LATEST":
        table = VERSION if q.isdigit() else ALIAS
        if f"{ref.name}:{q}" not in ctx.store.table(ctx.scope, table):
            raise function_not_found(ref.arn(q))
    return f"{ref.name}:{q or ''}", ref.arn(q), q


def _principal(text: str):
    if text == "*":
        return "*"
    if text.isdigit() and len(text) == 12:
        return {"AWS": f"arn:aws:iam::{text}:root"}
    if text.startswith("arn:"):
        return {"AWS": text}
    return {"Service": text}


def add_permission(ctx, p):
    key, resource, _q = _key(ctx, p)
    if not _ACTION.match(p["Action"]):
        raise AwsError("ValidationException",
                       f"1 validation error detected: Value '{p['Action']}' at 'action' failed to satisfy constraint: "
                       "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])")
    table = ctx.store.table(ctx.scope, POLICY)
    policy = table.get(key) or {"statements": [], "RevisionId": revision()}
    if p.get("RevisionId") and p["RevisionId"] != policy["RevisionId"]:
        raise precondition()
    if any(s["Sid"] == p["StatementId"] for s in policy["statements"]):
        raise conflict(f"The statement id ({p['StatementId']}) provided already exists. Please provide a new "
                       "statement id, or remove the existing statement.")
    statement = {"Sid": p["StatementId"], "Effect": "Allow", "Principal": _principal(p["Principal"]),
                 "Action": p["Action"], "Resource": resource}
    condition: dict = {}
    if p.get("SourceAccount"):
        condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = p["SourceAccount"]
    if p.get("PrincipalOrgID"):
        condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = p["PrincipalOrgID"]
    if p.get("FunctionUrlAuthType"):
        condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = p["FunctionUrlAuthType"]
    if p.get("EventSourceToken"):
        condition.setdefault("StringEquals", {})["lambda:EventSourceToken"] = p["EventSourceToken"]
    if p.get("SourceArn"):
        condition["ArnLike"] = {"AWS:SourceArn": p["SourceArn"]}
    if p.get("InvokedViaFunctionUrl"):
        condition.setdefault("Bool", {})["lambda:InvokedViaFunctionUrl"] = "true"
    if condition:
        statement["Condition"] = condition
    policy["statements"].append(statement)
    policy["RevisionId"] = revision()
    table.put(key, policy)
    return {"Statement": json.dumps(statement, separators=(",", ":"))}


def remove_permission(ctx, p):
    key, _resource, _q = _key(ctx, p)
    table = ctx.store.table(ctx.scope, POLICY)
    policy = table.get(key)
    if policy is None:
        raise not_found("No policy is associated with the given resource.")
    if p.get("RevisionId") and p["RevisionId"] != policy["RevisionId"]:
        raise precondition()
    kept = [s for s in policy["statements"] if s["Sid"] != p["StatementId"]]
    if len(kept) == len(policy["statements"]):
        raise not_found(f"Statement {p['StatementId']} is not found in resource policy.")
    if kept:
        policy.update(statements=kept, RevisionId=revision())
        table.put(key, policy)
    else:
        table.delete(key)
    return {}


def get_policy(ctx, p):
    key, _resource, _q = _key(ctx, p)
    policy = ctx.store.table(ctx.scope, POLICY).get(key)
    if policy is None:
        raise not_found("The resource you requested does not exist.")
    doc = {"Version": "2012-10-17", "Id": "default", "Statement": policy["statements"]}
    return {"Policy": json.dumps(doc, separators=(",", ":")), "RevisionId": policy["RevisionId"]}
