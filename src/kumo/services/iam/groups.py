"""IAM groups: members, inline policies and attached managed policies.

A user's groups are kept on the user record (``_groups``, group names) and a
group lists its members from there, so renaming either side stays one write.
"""

from __future__ import annotations

from ...core import ids
from .entities import GROUPS
from .model import (
    GROUP, USER, by_path, check_name, check_path, conflict, exists, find_user, no_such, page, sort_by, table,
)
from .users import view as user_view

MAX_GROUPS_PER_USER = 10


def _groups(ctx):
    return table(ctx.store, ctx.account, GROUP)


def view(group: dict) -> dict:
    return {k: v for k, v in group.items() if not k.startswith("_")}


def members(ctx, group_name: str) -> list[dict]:
    return sort_by([u for u in table(ctx.store, ctx.account, USER).values() if group_name in u.get("_groups", [])],
                   "UserName")


def create_group(ctx, p):
    name = check_name(p["GroupName"], "groupName")
    if name.lower() in {g.lower() for g in _groups(ctx).keys()}:
        raise exists("Group", name)
    path = check_path(p.get("Path"))
    group = {"Path": path, "GroupName": name, "GroupId": ids.iam_id("group"),
             "Arn": f"arn:aws:iam::{ctx.account}:group{path}{name}", "CreateDate": ctx.now(),
             "_attached": [], "_inline": {}}
    _groups(ctx).put(name, group)
    return {"Group": view(group)}


def get_group(ctx, p):
    group = GROUPS.find(ctx, p["GroupName"])
    users = [user_view(u, listing=True) for u in members(ctx, group["GroupName"])]
    out = page(users, p, lambda u: u["UserName"], "Users", group["Arn"])
    out["Group"] = view(group)
    return out


def list_groups(ctx, p):
    groups = sort_by(by_path(_groups(ctx).values(), p.get("PathPrefix")), "GroupName")
    return page([view(g) for g in groups], p, lambda g: g["GroupName"], "Groups", ctx.account)


def update_group(ctx, p):
    group = GROUPS.find(ctx, p["GroupName"])
    old = group["GroupName"]
    new_name = p.get("NewGroupName")
    if p.get("NewPath"):
        group["Path"] = check_path(p["NewPath"], "newPath")
    if new_name and new_name != old:
        check_name(new_name, "newGroupName")
        if new_name in _groups(ctx):
            raise exists("Group", new_name)
        for user in members(ctx, old):
            user["_groups"] = [new_name if g == old else g for g in user["_groups"]]
            table(ctx.store, ctx.account, USER).put(user["UserName"], user)
        _groups(ctx).delete(old)
        group["GroupName"] = new_name
    group["Arn"] = f"arn:aws:iam::{ctx.account}:group{group['Path']}{group['GroupName']}"
    _groups(ctx).put(group["GroupName"], group)
    return {}


def delete_group(ctx, p):
    group = GROUPS.find(ctx, p["GroupName"])
    if members(ctx, group["GroupName"]):
        raise conflict("Cannot delete entity, must remove users from group first.")
    if group["_attached"]:
        raise conflict("Cannot delete entity, must detach all policies first.")
    if group["_inline"]:
        raise conflict("Cannot delete entity, must delete policies first.")
    _groups(ctx).delete(group["GroupName"])
    return {}


def add_user_to_group(ctx, p):
    group = GROUPS.find(ctx, p["GroupName"])
    user = find_user(ctx.store, ctx.account, p["UserName"])
    joined = user.setdefault("_groups", [])
    if group["GroupName"] in joined:
        return {}
    if len(joined) >= MAX_GROUPS_PER_USER:
        from ...aws.errors import AwsError

        raise AwsError("LimitExceeded", f"Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}")
    joined.append(group["GroupName"])
    table(ctx.store, ctx.account, USER).put(user["UserName"], user)
    return {}


def remove_user_from_group(ctx, p):
    group = GROUPS.find(ctx, p["GroupName"])
    user = find_user(ctx.store, ctx.account, p["UserName"])
    if group["GroupName"] not in user.get("_groups", []):
        raise no_such("user", p["UserName"])
    user["_groups"].remove(group["GroupName"])
    table(ctx.store, ctx.account, USER).put(user["UserName"], user)
    return {}


def list_groups_for_user(ctx, p):
    user = find_user(ctx.store, ctx.account, p["UserName"])
    groups = sort_by([g for g in _groups(ctx).values() if g["GroupName"] in user.get("_groups", [])], "GroupName")
    return page([view(g) for g in groups], p, lambda g: g["GroupName"], "Groups", user["Arn"])


put_group_policy = GROUPS.put_inline
get_group_policy = GROUPS.get_inline
delete_group_policy = GROUPS.delete_inline
list_group_policies = GROUPS.list_inline
attach_group_policy = GROUPS.attach
detach_group_policy = GROUPS.detach
list_attached_group_policies = GROUPS.list_attached
