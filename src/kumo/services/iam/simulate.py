"""The IAM policy simulator: SimulatePrincipalPolicy, SimulateCustomPolicy, GetContextKeysFor*Policy.

It runs the same evaluator as ``--enforce-iam`` (kumo.services.iam.policy), on
the principal's own policies (or the given ones), the given resource policy and
the given context entries.  Like AWS's simulator it takes context only from
ContextEntries, except that keys describing the simulated principal
(aws:username, aws:PrincipalTag/*, aws:PrincipalArn ...) are filled in from it
when the entries do not name them.
"""

from __future__ import annotations

import re

from ...aws.authorize import TRUST_ACTIONS
from ...aws.errors import AwsError
from .internal import (
    Principal, boundary_of, find_group_by_arn, find_role_by_arn, find_user_by_arn, identity_policies, principal_of,
)
from .model import page
from .policy import Caller, Context, MalformedPolicy, PolicySet, Request, evaluate, parse

_VARIABLE = re.compile(r"\$\{([^},]+)")


def invalid(message: str) -> AwsError:
    return AwsError("InvalidInput", message)


def _policies(texts: list[str] | None, member: str, source_type: str = "none") -> list:
    out = []
    for i, text in enumerate(texts or [], 1):
        try:
            out.append(parse(text, f"{member}.{i}", source_type))
        except MalformedPolicy as exc:
            raise AwsError("MalformedPolicyDocument", f"{member}.{i}: {exc}")
    return out


def _source(ctx, arn: str) -> dict:
    """The user, group or role a PolicySourceArn names."""
    if ":group/" in arn:
        record = find_group_by_arn(ctx.store, arn)
    else:
        record = find_user_by_arn(ctx.store, arn) if ":user/" in arn else find_role_by_arn(ctx.store, arn)
    if record is None:
        if not re.match(r"^arn:aws:iam::\d{12}:(user|role|group)/", arn or ""):
            raise invalid(f"Invalid ARN {arn}: PolicySourceArn must be the ARN of a user, group or role.")
        raise AwsError("NoSuchEntity", f"PolicySourceArn {arn} does not exist.")
    return record


def _kind(source_arn: str) -> str:
    return "user" if ":user/" in source_arn else "group" if ":group/" in source_arn else "role"


def _caller(ctx, caller_arn: str | None, fallback: Caller | None, needed: bool):
    if caller_arn:
        if ":user/" not in caller_arn:
            raise invalid("CallerArn must be the ARN of an IAM user.")
        account = caller_arn.split(":")[4]
        return principal_of(ctx.store, caller_arn, account)
    if needed and fallback is None:
        raise invalid("CallerArn is required when a ResourcePolicy is simulated and the policy source "
                      "is not an IAM user.")
    return None


def _context(entries: list | None, principal) -> Context:
    context = Context()
    for entry in entries or []:
        if not entry.get("ContextKeyName"):
            # The model leaves every member optional; AWS refuses an entry that names no key.
            raise invalid("ContextKeyName is required in each ContextEntries entry.")
        values = entry.get("ContextKeyValues") or []
        if not (entry.get("ContextKeyType") or "").endswith("List") and len(values) == 1:
            values = values[0]
        context.set(entry["ContextKeyName"], values)
    if principal is not None:
        from ...aws.authorize import principal_keys

        for key, value in principal_keys(principal).items():
            context.setdefault(key, value)
    return context


def simulate_principal_policy(ctx, p):
    source = p["PolicySourceArn"]
    record = _source(ctx, source)
    kind = _kind(source)
    identity = identity_policies(ctx.store, record, kind) + _policies(p.get("PolicyInputList"), "PolicyInputList")
    boundary = (_policies(p.get("PermissionsBoundaryPolicyInputList"), "PermissionsBoundaryPolicyInputList")
                if p.get("PermissionsBoundaryPolicyInputList") else boundary_of(ctx.store, record))
    account = source.split(":")[4]
    if kind == "user":
        principal = principal_of(ctx.store, source, account)
    elif kind == "group":
        # A group is no principal: its policies are simulated as a member's would be.
        principal = Principal(Caller(source, account, "user"), user_id=record["GroupId"], entity_arn=source)
    else:
        # A role acts through a session; the simulator stands for any session of it.
        principal = principal_of(ctx.store, f"arn:aws:sts::{account}:assumed-role/{record['RoleName']}/simulation",
                                 account)
    override = _caller(ctx, p.get("CallerArn"), principal.caller if kind == "user" else None,
                       bool(p.get("ResourcePolicy")))
    shown = override or principal
    return _simulate(ctx, p, shown, identity, boundary)


def simulate_custom_policy(ctx, p):
    identity = _policies(p["PolicyInputList"], "PolicyInputList")
    boundary = (_policies(p["PermissionsBoundaryPolicyInputList"], "PermissionsBoundaryPolicyInputList")
                if p.get("PermissionsBoundaryPolicyInputList") else None)
    override = _caller(ctx, p.get("CallerArn"), None, bool(p.get("ResourcePolicy")))
    if override is None:
        override = principal_of(ctx.store, f"arn:aws:iam::{ctx.account}:user/simulated-caller", ctx.account)
        override.user_name = None
    return _simulate(ctx, p, override, identity, boundary, with_principal_keys=p.get("CallerArn") is not None)


def _simulate(ctx, p, principal, identity, boundary, with_principal_keys: bool = True) -> dict:
    resource_policy = None
    if p.get("ResourcePolicy"):
        try:
            resource_policy = parse(p["ResourcePolicy"], "ResourcePolicy", "resource")
        except MalformedPolicy as exc:
            raise AwsError("MalformedPolicyDocument", f"ResourcePolicy: {exc}")
    owner = p.get("ResourceOwner")
    owner_account = owner.split(":")[4] if owner and owner.count(":") >= 5 else None
    context = _context(p.get("ContextEntries"), principal if with_principal_keys else None)
    resources = p.get("ResourceArns") or []
    results = []
    for action in p["ActionNames"]:
        for resource in resources or ["*"]:
            request = Request(principal.caller, action, resource, context, resource_account=_owner(resource,
                                                                                                  owner_account))
            # A role's trust policy, given as the resource policy of sts:AssumeRole, must allow on its own
            # account too, as when the call is enforced.
            required = resource_policy is not None and action in TRUST_ACTIONS
            result = evaluate(request, PolicySet(identity=identity, boundary=boundary, resource=resource_policy,
                                                 resource_required=required))
            results.append(_result(action, resource, result, bool(resources)))
    fingerprint = "|".join(p["ActionNames"]) + "#" + "|".join(resources)
    indexed = list(enumerate(results))
    out = page(indexed, p, lambda item: f"{item[0]:08d}", "EvaluationResults", fingerprint)
    out["EvaluationResults"] = [r for _, r in out["EvaluationResults"]]
    return out


def _owner(resource: str, owner_account: str | None) -> str | None:
    parts = resource.split(":", 5)
    if len(parts) == 6 and parts[4].isdigit():
        return parts[4]
    return owner_account


def _statements(matched) -> list[dict]:
    return [{"SourcePolicyId": policy.source_id, "SourcePolicyType": policy.source_type,
             "StartPosition": {"Line": st.start[0], "Column": st.start[1]},
             "EndPosition": {"Line": st.end[0], "Column": st.end[1]}} for policy, st in matched]


def _result(action: str, resource: str, result, specific: bool) -> dict:
    """One EvaluationResult as AWS shapes it: with ResourceArns, the missing context values and the
    (then always present, empty within one account) decision details sit with the resource's result."""
    missing = sorted(result.missing)
    out = {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": result.decision,
        "MatchedStatements": _statements(result.matched),
        "MissingContextValues": [] if specific else missing,
        "OrganizationsDecisionDetail": {"AllowedByOrganizations": True},
    }
    if result.boundary_allowed is not None:
        out["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": result.boundary_allowed}
    if result.details or specific:
        out["EvalDecisionDetails"] = dict(result.details)
    if specific:
        rsr = {"EvalResourceName": resource, "EvalResourceDecision": result.decision,
               "MatchedStatements": out["MatchedStatements"], "MissingContextValues": missing,
               "EvalDecisionDetails": dict(result.details)}
        if "PermissionsBoundaryDecisionDetail" in out:
            rsr["PermissionsBoundaryDecisionDetail"] = out["PermissionsBoundaryDecisionDetail"]
        out["ResourceSpecificResults"] = [rsr]
    return out


# -- context keys ------------------------------------------------------------------------------------------


def _keys(policies) -> list[str]:
    keys: dict[str, str] = {}
    for policy in policies:
        for st in policy.statements:
            for cond in st.conditions:
                keys.setdefault(cond.key.lower(), cond.key)
                for value in cond.values:
                    for var in _VARIABLE.findall(value):
                        keys.setdefault(var.strip().lower(), var.strip())
            for element in (st.resources or ()) + (st.not_resources or ()):
                for var in _VARIABLE.findall(element):
                    keys.setdefault(var.strip().lower(), var.strip())
    return [keys[k] for k in sorted(keys)]


def get_context_keys_for_principal_policy(ctx, p):
    source = p["PolicySourceArn"]
    record = _source(ctx, source)
    kind = _kind(source)
    policies = identity_policies(ctx.store, record, kind) + _policies(p.get("PolicyInputList"), "PolicyInputList")
    return {"ContextKeyNames": _keys(policies)}


def get_context_keys_for_custom_policy(ctx, p):
    return {"ContextKeyNames": _keys(_policies(p["PolicyInputList"], "PolicyInputList"))}
