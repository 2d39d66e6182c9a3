"""IAM roles, their trust policies, tags, and their inline and attached policies."""

from __future__ import annotations

from ...aws.errors import AwsError
from ...core import ids
from .model import (
    AWS_MANAGED_PREFIX, POLICY, PROFILE, ROLE, check_name, check_path, check_policy_document, conflict,
    encode_document, exists, find_role, invalid, no_such, page, policy_name_from_arn, sort_by, table, tags_in,
    untag, by_path,
)

_HIDDEN_IN_LIST = ("Tags", "PermissionsBoundary", "RoleLastUsed")


def view(role: dict, listing: bool = False) -> dict:
    out = {k: v for k, v in role.items() if not k.startswith("_")}
    out["AssumeRolePolicyDocument"] = encode_document(role["AssumeRolePolicyDocument"])
    if listing:
        for key in _HIDDEN_IN_LIST:
            out.pop(key, None)
    elif not out.get("Tags"):
        out.pop("Tags", None)
    return out


def create_role(ctx, p):
    name = check_name(p["RoleName"], "roleName")
    roles = table(ctx.store, ctx.account, ROLE)
    if name in roles:
        raise exists("Role", name)
    path = check_path(p.get("Path"))
    role = {
        "Path": path,
        "RoleName": name,
        "RoleId": ids.iam_id("role"),
        "Arn": f"arn:aws:iam::{ctx.account}:role{path}{name}",
        "CreateDate": ctx.now(),
        "AssumeRolePolicyDocument": check_policy_document(p["AssumeRolePolicyDocument"]),
        "MaxSessionDuration": p.get("MaxSessionDuration") or 3600,
        "Tags": tags_in(p),
        "RoleLastUsed": {},
        "_attached": [],
        "_inline": {},
    }
    if p.get("Description") is not None:
        role["Description"] = p["Description"]
    if p.get("PermissionsBoundary"):
        role["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                       "PermissionsBoundaryArn": p["PermissionsBoundary"]}
    roles.put(name, role)
    return {"Role": view(role)}


def get_role(ctx, p):
    return {"Role": view(find_role(ctx.store, ctx.account, p["RoleName"]))}


def list_roles(ctx, p):
    roles = sort_by(by_path(table(ctx.store, ctx.account, ROLE).values(), p.get("PathPrefix")), "RoleName")
    return page([view(r, listing=True) for r in roles], p, lambda r: r["RoleName"], "Roles", ctx.account)


def delete_role(ctx, p):
    role = find_role(ctx.store, ctx.account, p["RoleName"])
    if role["_attached"]:
        raise conflict("Cannot delete entity, must detach all policies first.")
    if role["_inline"]:
        raise conflict("Cannot delete entity, must delete policies first.")
    for profile in table(ctx.store, ctx.account, PROFILE).values():
        if role["RoleName"] in profile["_roles"]:
            raise conflict("Cannot delete entity, must remove roles from instance profile first.")
    table(ctx.store, ctx.account, ROLE).delete(role["RoleName"])
    return {}


def update_role(ctx, p):
    role = find_role(ctx.store, ctx.account, p["RoleName"])
    if p.get("Description") is not None:
        role["Description"] = p["Description"]
    if p.get("MaxSessionDuration") is not None:
        role["MaxSessionDuration"] = p["MaxSessionDuration"]
    table(ctx.store, ctx.account, ROLE).put(role["RoleName"], role)
    return {}


def update_role_description(ctx, p):
    role = find_role(ctx.store, ctx.account, p["RoleName"])
    role["Description"] = p["Description"]
    table(ctx.store, ctx.account, ROLE).put(role["RoleName"], role)
    return {"Role": view(role)}


def update_assume_role_policy(ctx, p):
    role = find_role(ctx.store, ctx.account, p["RoleName"])
    role["AssumeRolePolicyDocument"] = check_policy_document(p["PolicyDocument"])
    table(ctx.store, ctx.account, ROLE).put(role["RoleName"], role)
    return {}


def tag_role(ctx, p):
    role = find_role(ctx.store, ctx.account, p["RoleName"])
    role["Tags"] = tags_in(p, role.get("Tags"))
    table(ctx.store, ctx.account, ROLE).put(role["RoleName"], role)
    return {}


def untag_role(ctx, p):
    role = find_role(ctx.store, ctx.account, p["RoleName"])
    role["Tags"] = untag(role.get("Tags"), p["TagKeys"])
    table(ctx.store, ctx.account, ROLE).put(role["RoleName"], role)
    return {}


def list_role_tags(ctx, p):
    role = find_role(ctx.store, ctx.account, p["RoleName"])
    return page(list(role.get("Tags") or []), p, lambda t: t["Key"], "Tags", role["RoleName"])


# -- attached (managed) policies ------------------------------------------------------


def managed_policy(ctx, policy_arn: str) -> dict | None:
    """The customer managed policy behind an ARN, or None for an AWS managed one."""
    if policy_arn.startswith(AWS_MANAGED_PREFIX + "/"):
        return None
    parts = policy_arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("policy/"):
        raise invalid(f"ARN {policy_arn} is not valid.")
    policy = table(ctx.store, parts[4], POLICY).get(policy_arn)
    if policy is None:
        raise AwsError("NoSuchEntity", f"Policy {policy_arn} does not exist or is not attachable.")
    return policy


def attach(ctx, entity: dict, entities_table, key: str, policy_arn: str, quota: str = "PoliciesPerRole") -> None:
    policy = managed_policy(ctx, policy_arn)
    if policy_arn in entity["_attached"]:
        return
    if len(entity["_attached"]) >= 10:
        raise AwsError("LimitExceeded", f"Cannot exceed quota for {quota}: 10")
    entity["_attached"].append(policy_arn)
    entities_table.put(key, entity)
    if policy is not None:
        policy["AttachmentCount"] = policy.get("AttachmentCount", 0) + 1
        table(ctx.store, policy["Arn"].split(":")[4], POLICY).put(policy["Arn"], policy)


def detach(ctx, entity: dict, entities_table, key: str, policy_arn: str) -> None:
    if policy_arn not in entity["_attached"]:
        raise AwsError("NoSuchEntity", f"Policy {policy_arn} was not found.")
    entity["_attached"].remove(policy_arn)
    entities_table.put(key, entity)
    if not policy_arn.startswith(AWS_MANAGED_PREFIX + "/"):
        owner = policy_arn.split(":")[4]
        policy = table(ctx.store, owner, POLICY).get(policy_arn)
        if policy is not None:
            policy["AttachmentCount"] = max(0, policy.get("AttachmentCount", 1) - 1)
            table(ctx.store, owner, POLICY).put(policy_arn, policy)


def attached_list(ctx, entity: dict, p: dict) -> dict:
    items = [{"PolicyName": policy_name_from_arn(a), "PolicyArn": a} for a in entity["_attached"]]
    prefix = p.get("PathPrefix")
    if prefix:
        items = [i for i in items if ("/" + i["PolicyArn"].split(":policy", 1)[1].lstrip("/")).startswith(prefix)]
    return page(items, p, lambda i: i["PolicyArn"], "AttachedPolicies", entity["Arn"])


def attach_role_policy(ctx, p):
    role = find_role(ctx.store, ctx.account, p["RoleName"])
    attach(ctx, role, table(ctx.store, ctx.account, ROLE), role["RoleName"], p["PolicyArn"])
    return {}


def detach_role_policy(ctx, p):
    role = find_role(ctx.store, ctx.account, p["RoleName"])
    detach(ctx, role, table(ctx.store, ctx.account, ROLE), role["RoleName"], p["PolicyArn"])
    return {}


def list_attached_role_policies(ctx, p):
    return attached_list(ctx, find_role(ctx.store, ctx.account, p["RoleName"]), p)


# -- inline policies --------------------------------------------------------------------


def put_role_policy(ctx, p):
    role = find_role(ctx.store, ctx.account, p["RoleName"])
    check_name(p["PolicyName"], "policyName")
    role["_inline"][p["PolicyName"]] = check_policy_document(p["PolicyDocument"])
    table(ctx.store, ctx.account, ROLE).put(role["RoleName"], role)
    return {}


def get_role_policy(ctx, p):
    role = find_role(ctx.store, ctx.account, p["RoleName"])
    doc = role["_inline"].get(p["PolicyName"])
    if doc is None:
        raise no_such("role policy", p["PolicyName"])
    return {"RoleName": role["RoleName"], "PolicyName": p["PolicyName"], "PolicyDocument": encode_document(doc)}


def delete_role_policy(ctx, p):
    role = find_role(ctx.store, ctx.account, p["RoleName"])
    if p["PolicyName"] not in role["_inline"]:
        raise no_such("role policy", p["PolicyName"])
    del role["_inline"][p["PolicyName"]]
    table(ctx.store, ctx.account, ROLE).put(role["RoleName"], role)
    return {}


def list_role_policies(ctx, p):
    role = find_role(ctx.store, ctx.account, p["RoleName"])
    return page(sorted(role["_inline"]), p, lambda n: n, "PolicyNames", role["RoleName"])
