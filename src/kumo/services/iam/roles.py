"""IAM roles, their trust policies, tags, and their inline and attached policies."""

from __future__ import annotations

from ...core import ids
from .entities import customer_policy, ROLES
from .service_roles import refuse_if_service_linked
from .model import (
    PROFILE, ROLE, by_path, check_name, check_path, check_policy_document, conflict, encode_document, exists,
    find_role, page, sort_by, table, tags_in,
)

_HIDDEN_IN_LIST = ("Tags", "PermissionsBoundary", "RoleLastUsed")


def view(role: dict, listing: bool = False) -> dict:
    # A shallow copy: the serializer writes only the model's members, never internal "_" fields.
    out = dict(role)
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
        "AssumeRolePolicyDocument": check_policy_document(p["AssumeRolePolicyDocument"], "trust"),
        "MaxSessionDuration": p.get("MaxSessionDuration") or 3600,
        "Tags": tags_in(p),
        "RoleLastUsed": {},
        "_attached": [],
        "_inline": {},
    }
    if p.get("Description") is not None:
        role["Description"] = p["Description"]
    if p.get("PermissionsBoundary"):
        customer_policy(ctx, p["PermissionsBoundary"])  # a boundary must be a policy that exists
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
    refuse_if_service_linked(role)
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
    refuse_if_service_linked(role)
    role["AssumeRolePolicyDocument"] = check_policy_document(p["PolicyDocument"], "trust")
    table(ctx.store, ctx.account, ROLE).put(role["RoleName"], role)
    return {}


tag_role = ROLES.tag
untag_role = ROLES.untag
list_role_tags = ROLES.list_tags
attach_role_policy = ROLES.attach
detach_role_policy = ROLES.detach
list_attached_role_policies = ROLES.list_attached
put_role_policy = ROLES.put_inline
get_role_policy = ROLES.get_inline
delete_role_policy = ROLES.delete_inline
list_role_policies = ROLES.list_inline
put_role_permissions_boundary = ROLES.put_boundary
delete_role_permissions_boundary = ROLES.delete_boundary
