"""Customer managed policies and their versions."""

from __future__ import annotations

from ...aws.errors import AwsError
from ...core import ids
from . import aws_managed
from .model import (
    GROUP, POLICY, ROLE, USER, by_path, check_name, check_path, check_policy_document, conflict,
    encode_document, invalid, page, sort_by, table, tags_in, untag,
)

MAX_VERSIONS = 5


def view(policy: dict, listing: bool = False) -> dict:
    out = {k: v for k, v in policy.items() if not k.startswith("_")}
    if listing or not out.get("Tags"):
        out.pop("Tags", None)
    return out


def _owner(policy_arn: str) -> str:
    parts = policy_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("policy/"):
        raise invalid(f"ARN {policy_arn} is not valid.")
    return parts[4]


def find_policy(ctx, policy_arn: str) -> dict:
    owner = _owner(policy_arn)
    if owner == "aws":
        policy = aws_managed.find(policy_arn)
        if policy is not None:
            # The catalogue is shared; the attachment count is this account's.
            policy = {**policy, "AttachmentCount": _attachments(ctx, policy_arn),
                      "_versions": [{"VersionId": policy["DefaultVersionId"], "Document": policy["_document"],
                                     "IsDefaultVersion": True, "CreateDate": policy["CreateDate"]}]}
    else:
        policy = table(ctx.store, owner, POLICY).get(policy_arn)
    if policy is None:
        raise AwsError("NoSuchEntity", f"Policy {policy_arn} was not found.")
    return policy


def _attachments(ctx, policy_arn: str) -> int:
    return sum(1 for kind in (ROLE, USER, GROUP) for e in table(ctx.store, ctx.account, kind).values()
               if policy_arn in e["_attached"])


def _customer(ctx, policy_arn: str) -> dict:
    """A policy the caller may change: AWS managed ones are AWS's."""
    if _owner(policy_arn) == "aws":
        find_policy(ctx, policy_arn)
        raise AwsError("InvalidInput", f"The policy {policy_arn} is an AWS managed policy and cannot be changed.")
    return find_policy(ctx, policy_arn)


def _save(ctx, policy: dict) -> None:
    table(ctx.store, _owner(policy["Arn"]), POLICY).put(policy["Arn"], policy)


def create_policy(ctx, p):
    name = check_name(p["PolicyName"], "policyName")
    path = check_path(p.get("Path"))
    arn = f"arn:aws:iam::{ctx.account}:policy{path}{name}"
    policies = table(ctx.store, ctx.account, POLICY)
    if any(x["PolicyName"] == name for x in policies.values()):
        raise AwsError("EntityAlreadyExists", f"A policy called {name} already exists. Duplicate names are not allowed.")
    now = ctx.now()
    policy = {
        "PolicyName": name,
        "PolicyId": ids.iam_id("policy"),
        "Arn": arn,
        "Path": path,
        "DefaultVersionId": "v1",
        "AttachmentCount": 0,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "CreateDate": now,
        "UpdateDate": now,
        "Tags": tags_in(p),
        "_versions": [{"VersionId": "v1", "Document": check_policy_document(p["PolicyDocument"], "managed"),
                       "IsDefaultVersion": True, "CreateDate": now}],
        "_next_version": 2,
    }
    if p.get("Description") is not None:
        policy["Description"] = p["Description"]
    policies.put(arn, policy)
    return {"Policy": view(policy)}


def get_policy(ctx, p):
    return {"Policy": view(find_policy(ctx, p["PolicyArn"]))}


def _attached_arns(ctx) -> set[str]:
    arns: set[str] = set()
    for kind in (ROLE, USER, GROUP):
        for entity in table(ctx.store, ctx.account, kind).values():
            arns.update(entity["_attached"])
    return arns


def list_policies(ctx, p):
    scope = p.get("Scope") or "All"
    items: list[dict] = []
    if scope in ("AWS", "All"):
        items += [{**policy, "AttachmentCount": _attachments(ctx, arn)}
                  for arn, policy in aws_managed.catalogue().items()]
    if scope in ("Local", "All"):
        items += table(ctx.store, ctx.account, POLICY).values()
    items = by_path(items, p.get("PathPrefix"))
    if p.get("OnlyAttached"):
        items = [i for i in items if i.get("AttachmentCount", 0) > 0]
    items = sort_by(items, "PolicyName")
    return page([view(i, listing=True) for i in items], p, lambda i: i["Arn"], "Policies", f"{ctx.account}/{scope}")


def delete_policy(ctx, p):
    policy = _customer(ctx, p["PolicyArn"])
    if policy.get("AttachmentCount", 0) > 0 or policy["Arn"] in _attached_arns(ctx):
        raise conflict("Cannot delete a policy attached to entities.")
    if len(policy["_versions"]) > 1:
        raise conflict("This policy has more than one version. Before you delete a policy, "
                       "you must delete the policy's versions. The default version is deleted with the policy.")
    table(ctx.store, _owner(policy["Arn"]), POLICY).delete(policy["Arn"])
    return {}


def _version_view(v: dict) -> dict:
    return {**v, "Document": encode_document(v["Document"])}


def create_policy_version(ctx, p):
    policy = _customer(ctx, p["PolicyArn"])
    if len(policy["_versions"]) >= MAX_VERSIONS:
        raise AwsError("LimitExceeded",
                       f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new version, "
                       "you must delete an existing version.")
    document = check_policy_document(p["PolicyDocument"], "managed")
    version = {"VersionId": f"v{policy['_next_version']}", "Document": document,
               "IsDefaultVersion": False, "CreateDate": ctx.now()}
    policy["_next_version"] += 1
    policy["_versions"].append(version)
    if p.get("SetAsDefault"):
        _set_default(policy, version["VersionId"])
    policy["UpdateDate"] = ctx.now()
    _save(ctx, policy)
    return {"PolicyVersion": _version_view(version)}


def _find_version(policy: dict, version_id: str) -> dict:
    for v in policy["_versions"]:
        if v["VersionId"] == version_id:
            return v
    raise AwsError("NoSuchEntity", f"Policy {policy['Arn']} version {version_id} does not exist or is not attachable.")


def _set_default(policy: dict, version_id: str) -> None:
    _find_version(policy, version_id)
    for v in policy["_versions"]:
        v["IsDefaultVersion"] = v["VersionId"] == version_id
    policy["DefaultVersionId"] = version_id


def get_policy_version(ctx, p):
    policy = find_policy(ctx, p["PolicyArn"])
    return {"PolicyVersion": _version_view(_find_version(policy, p["VersionId"]))}


def list_policy_versions(ctx, p):
    policy = find_policy(ctx, p["PolicyArn"])
    versions = [{k: v for k, v in ver.items() if k != "Document"} for ver in reversed(policy["_versions"])]
    return page(versions, p, lambda v: v["VersionId"], "Versions", policy["Arn"])


def delete_policy_version(ctx, p):
    policy = _customer(ctx, p["PolicyArn"])
    version = _find_version(policy, p["VersionId"])
    if version["IsDefaultVersion"]:
        raise conflict("Cannot delete the default version of a policy.")
    policy["_versions"].remove(version)
    _save(ctx, policy)
    return {}


def set_default_policy_version(ctx, p):
    policy = _customer(ctx, p["PolicyArn"])
    _set_default(policy, p["VersionId"])
    policy["UpdateDate"] = ctx.now()
    _save(ctx, policy)
    return {}


def tag_policy(ctx, p):
    policy = _customer(ctx, p["PolicyArn"])
    policy["Tags"] = tags_in(p, policy.get("Tags"))
    _save(ctx, policy)
    return {}


def untag_policy(ctx, p):
    policy = _customer(ctx, p["PolicyArn"])
    policy["Tags"] = untag(policy.get("Tags"), p["TagKeys"])
    _save(ctx, policy)
    return {}


def list_policy_tags(ctx, p):
    policy = find_policy(ctx, p["PolicyArn"])
    return page(list(policy.get("Tags") or []), p, lambda t: t["Key"], "Tags", policy["Arn"])


def list_entities_for_policy(ctx, p):
    arn = p["PolicyArn"]
    find_policy(ctx, arn)
    wanted = p.get("EntityFilter")
    prefix = p.get("PathPrefix") or "/"
    roles = [{"RoleName": r["RoleName"], "RoleId": r["RoleId"]}
             for r in sort_by(table(ctx.store, ctx.account, ROLE).values(), "RoleName")
             if arn in r["_attached"] and r["Path"].startswith(prefix)] if wanted in (None, "Role") else []
    users = [{"UserName": u["UserName"], "UserId": u["UserId"]}
             for u in sort_by(table(ctx.store, ctx.account, USER).values(), "UserName")
             if arn in u["_attached"] and u["Path"].startswith(prefix)] if wanted in (None, "User") else []
    groups = [{"GroupName": g["GroupName"], "GroupId": g["GroupId"]}
              for g in sort_by(table(ctx.store, ctx.account, GROUP).values(), "GroupName")
              if arn in g["_attached"] and g["Path"].startswith(prefix)] if wanted in (None, "Group") else []
    return {"PolicyGroups": groups, "PolicyUsers": users, "PolicyRoles": roles, "IsTruncated": False}
