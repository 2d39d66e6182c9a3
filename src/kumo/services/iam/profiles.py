"""Instance profiles: the container that hands a role to an EC2 instance."""

from __future__ import annotations

from ...aws.errors import AwsError
from ...core import ids
from .entities import PROFILES
from .model import (
    PROFILE, by_path, check_name, check_path, conflict, exists, find_role, no_such, page, sort_by, table, tags_in,
)
from .roles import view as role_view


def _profiles(ctx):
    return table(ctx.store, ctx.account, PROFILE)


def find_profile(store, account: str, name: str) -> dict:
    profile = table(store, account, PROFILE).get(name)
    if profile is None:
        raise no_such("instance profile", name)
    return profile


def view(ctx, profile: dict, listing: bool = False) -> dict:
    out = {k: v for k, v in profile.items() if not k.startswith("_")}
    roles = []
    for role_name in profile["_roles"]:
        role = table(ctx.store, ctx.account, "iam.role").get(role_name)
        if role is not None:
            roles.append(role_view(role, listing=True))
    out["Roles"] = roles
    if listing or not out.get("Tags"):
        out.pop("Tags", None)
    return out


def create_instance_profile(ctx, p):
    name = check_name(p["InstanceProfileName"], "instanceProfileName")
    if name in _profiles(ctx):
        raise exists("Instance Profile", name)
    path = check_path(p.get("Path"))
    profile = {
        "Path": path,
        "InstanceProfileName": name,
        "InstanceProfileId": ids.iam_id("instance-profile"),
        "Arn": f"arn:aws:iam::{ctx.account}:instance-profile{path}{name}",
        "CreateDate": ctx.now(),
        "Tags": tags_in(p),
        "_roles": [],
    }
    _profiles(ctx).put(name, profile)
    return {"InstanceProfile": view(ctx, profile)}


def get_instance_profile(ctx, p):
    return {"InstanceProfile": view(ctx, find_profile(ctx.store, ctx.account, p["InstanceProfileName"]))}


def list_instance_profiles(ctx, p):
    items = sort_by(by_path(_profiles(ctx).values(), p.get("PathPrefix")), "InstanceProfileName")
    return page([view(ctx, i, listing=True) for i in items], p, lambda i: i["InstanceProfileName"],
                "InstanceProfiles", ctx.account)


def delete_instance_profile(ctx, p):
    profile = find_profile(ctx.store, ctx.account, p["InstanceProfileName"])
    if profile["_roles"]:
        raise conflict("Cannot delete entity, must remove roles from instance profile first.")
    _profiles(ctx).delete(profile["InstanceProfileName"])
    return {}


def add_role_to_instance_profile(ctx, p):
    profile = find_profile(ctx.store, ctx.account, p["InstanceProfileName"])
    role = find_role(ctx.store, ctx.account, p["RoleName"])
    if profile["_roles"]:  # a profile holds one role, even the same one twice is over quota
        raise AwsError("LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
    profile["_roles"].append(role["RoleName"])
    _profiles(ctx).put(profile["InstanceProfileName"], profile)
    return {}


def remove_role_from_instance_profile(ctx, p):
    profile = find_profile(ctx.store, ctx.account, p["InstanceProfileName"])
    if p["RoleName"] not in profile["_roles"]:
        raise no_such("role", p["RoleName"])
    profile["_roles"].remove(p["RoleName"])
    _profiles(ctx).put(profile["InstanceProfileName"], profile)
    return {}


def list_instance_profiles_for_role(ctx, p):
    role = find_role(ctx.store, ctx.account, p["RoleName"])
    items = [i for i in sort_by(_profiles(ctx).values(), "InstanceProfileName") if role["RoleName"] in i["_roles"]]
    return page([view(ctx, i, listing=True) for i in items], p, lambda i: i["InstanceProfileName"],
                "InstanceProfiles", role["Arn"])


tag_instance_profile = PROFILES.tag
untag_instance_profile = PROFILES.untag
list_instance_profile_tags = PROFILES.list_tags
