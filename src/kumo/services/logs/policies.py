"""Policies kept on Logs: resource policies (who may write to this account's groups), data protection
policies and field index policies per group, and a group's deletion protection.

They are stored and returned as AWS returns them.  kumo does not mask data under a data protection policy
(docs/cloudwatch.md says so); field indexes change no query result on AWS either, only its cost.
"""

from __future__ import annotations

import json
import re
import uuid

from ...aws.errors import AwsError
from .model import group_name, groups, invalid, need_group

RESOURCE_KIND, DATA_KIND, INDEX_KIND = "logs.resourcepolicy", "logs.dataprotection", "logs.indexpolicy"
MAX_RESOURCE_POLICIES = 10
MAX_POLICY_CHARS = 5120


def _json(text: str, what: str) -> dict:
    try:
        doc = json.loads(text)
    except ValueError:
        raise invalid(f"{what} is not valid JSON.")
    if not isinstance(doc, dict):
        raise invalid(f"{what} must be a JSON object.")
    return doc


# -- resource policies ----------------------------------------------------------------------------


def put_resource_policy(ctx, p):
    name, text = p.get("policyName"), p.get("policyDocument")
    if not name or not text:
        raise invalid("policyName and policyDocument are required.")
    if len(text) > MAX_POLICY_CHARS:
        raise invalid(f"Policy document exceeds the maximum length of {MAX_POLICY_CHARS} characters.")
    doc = _json(text, "Policy document")
    if not isinstance(doc.get("Statement"), (list, dict)):
        raise invalid("Policy document must contain a Statement.")
    table = ctx.table("resourcepolicy")
    if name not in table and len(table) >= MAX_RESOURCE_POLICIES:
        raise AwsError("LimitExceededException", "Resource limit exceeded.")
    old = table.get(name)
    if p.get("expectedRevisionId") and (old is None or old["revisionId"] != p["expectedRevisionId"]):
        raise AwsError("OperationAbortedException", "The revision id does not match the current revision.")
    record = {"policyName": name, "policyDocument": text, "lastUpdatedTime": int(ctx.now() * 1000),
              "policyScope": "ACCOUNT", "revisionId": uuid.uuid4().hex}
    table.put(name, record)
    return {"resourcePolicy": dict(record), "revisionId": record["revisionId"]}


def describe_resource_policies(ctx, p):
    items = sorted(ctx.table("resourcepolicy").values(), key=lambda r: r["policyName"])
    return {"resourcePolicies": [dict(r) for r in items[:p.get("limit") or 50]]}


def delete_resource_policy(ctx, p):
    table = ctx.table("resourcepolicy")
    name = p.get("policyName")
    if not name or name not in table:
        raise AwsError("ResourceNotFoundException", "Policy with name [%s] does not exist" % name)
    if p.get("expectedRevisionId") and table.get(name)["revisionId"] != p["expectedRevisionId"]:
        raise AwsError("OperationAbortedException", "The revision id does not match the current revision.")
    table.delete(name)
    return {}


# -- data protection ------------------------------------------------------------------------------


def put_data_protection_policy(ctx, p):
    name = group_name(ctx, p)
    group = need_group(ctx, name)
    doc = _json(p["policyDocument"], "Data protection policy")
    statements = doc.get("Statement")
    if not isinstance(statements, list) or not statements:
        raise invalid("Data protection policy must contain a Statement list.")
    if not all(isinstance(s, dict) and s.get("DataIdentifier") for s in statements):
        raise invalid("Every statement of a data protection policy must name its DataIdentifier.")
    record = {"logGroupIdentifier": p["logGroupIdentifier"], "policyDocument": p["policyDocument"],
              "lastUpdatedTime": int(ctx.now() * 1000)}
    ctx.table("dataprotection").put(name, record)
    group["dataProtectionStatus"] = "ACTIVATED"
    groups(ctx).put(name, group)
    return dict(record)


def get_data_protection_policy(ctx, p):
    name = group_name(ctx, p)
    need_group(ctx, name)
    record = ctx.table("dataprotection").get(name)
    return dict(record) if record else {"logGroupIdentifier": p["logGroupIdentifier"]}


def delete_data_protection_policy(ctx, p):
    name = group_name(ctx, p)
    group = need_group(ctx, name)
    table = ctx.table("dataprotection")
    if name not in table:
        raise AwsError("ResourceNotFoundException", "The specified data protection policy does not exist.")
    table.delete(name)
    group.pop("dataProtectionStatus", None)
    groups(ctx).put(name, group)
    return {}


# -- field index policies ---------------------------------------------------------------------------


def put_index_policy(ctx, p):
    name = group_name(ctx, p)
    need_group(ctx, name)
    doc = _json(p["policyDocument"], "Index policy")
    fields = doc.get("Fields")
    if not isinstance(fields, list) or not all(isinstance(f, str) and f for f in fields):
        raise invalid("Index policy must contain a Fields list of field names.")
    if len(fields) > 20:
        raise invalid("An index policy can index at most 20 fields.")
    record = {"logGroupIdentifier": p["logGroupIdentifier"], "policyDocument": p["policyDocument"],
              "lastUpdateTime": int(ctx.now() * 1000), "policyName": "default",
              "source": "LOG_GROUP", "_group": name}
    ctx.table("indexpolicy").put(name, record)
    return {"indexPolicy": {k: v for k, v in record.items() if not k.startswith("_")}}


def describe_index_policies(ctx, p):
    out = []
    for ident in p["logGroupIdentifiers"]:
        name = group_name(ctx, {"logGroupIdentifier": ident})
        need_group(ctx, name)
        record = ctx.table("indexpolicy").get(name)
        if record:
            out.append({k: v for k, v in record.items() if not k.startswith("_")})
    return {"indexPolicies": out}


def delete_index_policy(ctx, p):
    name = group_name(ctx, p)
    need_group(ctx, name)
    table = ctx.table("indexpolicy")
    if name not in table:
        raise AwsError("ResourceNotFoundException", "The specified index policy does not exist.")
    table.delete(name)
    return {}


def describe_field_indexes(ctx, p):
    from .runtime import service

    out = []
    for ident in p["logGroupIdentifiers"]:
        name = group_name(ctx, {"logGroupIdentifier": ident})
        need_group(ctx, name)
        record = ctx.table("indexpolicy").get(name)
        if not record:
            continue
        rows = service(ctx).events.store.select(
            "SELECT MIN(ts), MAX(ts) FROM logs_event WHERE scope=? AND grp=?", (ctx.scope, name))
        first, last = rows[0] if rows else (None, None)
        for field in json.loads(record["policyDocument"])["Fields"]:
            item = {"logGroupIdentifier": ident, "fieldIndexName": field, "lastScanTime": int(ctx.now() * 1000)}
            if first is not None:
                item.update(firstEventTime=first, lastEventTime=last)
            out.append(item)
    return {"fieldIndexes": out}


# -- deletion protection ------------------------------------------------------------------------------


def put_log_group_deletion_protection(ctx, p):
    name = group_name(ctx, p)
    group = need_group(ctx, name)
    group["deletionProtectionEnabled"] = bool(p["deletionProtectionEnabled"])
    groups(ctx).put(name, group)
    return {}


# -- account policies -------------------------------------------------------------------------------

ACCOUNT_KIND = "logs.accountpolicy"
ACCOUNT_TYPES = ("DATA_PROTECTION_POLICY", "SUBSCRIPTION_FILTER_POLICY", "FIELD_INDEX_POLICY")
_NOT_IN = re.compile(r'^\s*LogGroupName\s+NOT\s+IN\s*\[(.*)\]\s*$', re.IGNORECASE | re.DOTALL)
_PREFIX_IN = re.compile(r'^\s*LogGroupNamePrefix\s+IN\s*\[(.*)\]\s*$', re.IGNORECASE | re.DOTALL)


def _criteria(policy_type: str, text: str | None) -> None:
    if not text:
        return
    rule = _NOT_IN if policy_type == "SUBSCRIPTION_FILTER_POLICY" else _PREFIX_IN
    m = rule.match(text)
    if not m or policy_type == "DATA_PROTECTION_POLICY":
        raise invalid(f"Invalid selection criteria for {policy_type}: {text}")
    try:
        names = json.loads(f"[{m.group(1)}]")
    except ValueError:
        raise invalid(f"Invalid selection criteria: {text}")
    if not all(isinstance(n, str) for n in names) or len(names) > 50:
        raise invalid(f"Invalid selection criteria: {text}")


def _selected(policy: dict, group: str) -> bool:
    text = policy.get("selectionCriteria")
    if not text:
        return True
    m = _NOT_IN.match(text)
    if m:
        return group not in json.loads(f"[{m.group(1)}]")
    m = _PREFIX_IN.match(text)
    return bool(m) and any(group.startswith(prefix) for prefix in json.loads(f"[{m.group(1)}]"))


def account_subscription_filters(store, scope: str, group: str) -> list[dict]:
    """The account's subscription filter policy as filter records, if it selects ``group``."""
    out = []
    for p in store.table(scope, ACCOUNT_KIND).values():
        if p["policyType"] == "SUBSCRIPTION_FILTER_POLICY" and _selected(p, group):
            doc = json.loads(p["policyDocument"])
            out.append({"filterName": p["policyName"], "filterPattern": doc.get("FilterPattern", ""),
                        "destinationArn": doc["DestinationArn"]})
    return out


def put_account_policy(ctx, p):
    from .subscriptions import check_destination

    kind, name = p["policyType"], p["policyName"]
    if kind not in ACCOUNT_TYPES:
        raise invalid(f"kumo does not support account policies of type {kind}.")
    doc = _json(p["policyDocument"], "Policy document")
    if kind == "DATA_PROTECTION_POLICY" and not isinstance(doc.get("Statement"), list):
        raise invalid("Data protection policy must contain a Statement list.")
    if kind == "FIELD_INDEX_POLICY" and not isinstance(doc.get("Fields"), list):
        raise invalid("Index policy must contain a Fields list of field names.")
    if kind == "SUBSCRIPTION_FILTER_POLICY":
        if not doc.get("DestinationArn"):
            raise invalid("A subscription filter policy needs a DestinationArn.")
        check_destination(ctx, doc["DestinationArn"])
    _criteria(kind, p.get("selectionCriteria"))
    table = ctx.table("accountpolicy")
    same = [k for k in table.keys() if k.startswith(f"{kind}:") and k != f"{kind}:{name}"]
    if same and kind in ("DATA_PROTECTION_POLICY", "SUBSCRIPTION_FILTER_POLICY"):
        raise AwsError("LimitExceededException", "Resource limit exceeded.")
    record = {"policyName": name, "policyDocument": p["policyDocument"], "lastUpdatedTime": int(ctx.now() * 1000),
              "policyType": kind, "scope": p.get("scope") or "ALL", "accountId": ctx.account}
    if p.get("selectionCriteria"):
        record["selectionCriteria"] = p["selectionCriteria"]
    table.put(f"{kind}:{name}", record)
    return {"accountPolicy": dict(record)}


def describe_account_policies(ctx, p):
    kind = p["policyType"]
    items = [r for k, r in sorted(ctx.table("accountpolicy").items()) if r["policyType"] == kind
             and (not p.get("policyName") or r["policyName"] == p["policyName"])]
    return {"accountPolicies": [dict(r) for r in items]}


def delete_account_policy(ctx, p):
    table = ctx.table("accountpolicy")
    key = f"{p['policyType']}:{p['policyName']}"
    if key not in table:
        raise AwsError("ResourceNotFoundException", f"Policy with name [{p['policyName']}] does not exist")
    table.delete(key)
    return {}
