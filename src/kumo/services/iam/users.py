"""IAM users, their policies, and their access keys."""

from __future__ import annotations

from ...aws.errors import AwsError
from ...core import credentials, ids
from .entities import customer_policy, USERS
from .model import (
    ACCESS_KEY, USER, by_path, caller_user_name, check_name, check_path, conflict, exists, find_user, page, sort_by,
    table, tags_in,
)

MAX_KEYS_PER_USER = 2


def view(user: dict, listing: bool = False) -> dict:
    out = {k: v for k, v in user.items() if not k.startswith("_")}
    if listing or not out.get("Tags"):
        out.pop("Tags", None)
    return out


def _users(ctx):
    return table(ctx.store, ctx.account, USER)


def create_user(ctx, p):
    name = check_name(p["UserName"], "userName")
    if name in _users(ctx):
        raise exists("User", name)
    path = check_path(p.get("Path"))
    user = {
        "Path": path,
        "UserName": name,
        "UserId": ids.iam_id("user"),
        "Arn": f"arn:aws:iam::{ctx.account}:user{path}{name}",
        "CreateDate": ctx.now(),
        "Tags": tags_in(p),
        "_attached": [],
        "_inline": {},
    }
    if p.get("PermissionsBoundary"):
        customer_policy(ctx, p["PermissionsBoundary"])  # a boundary must be a policy that exists
        user["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                       "PermissionsBoundaryArn": p["PermissionsBoundary"]}
    _users(ctx).put(name, user)
    return {"User": view(user)}


def get_user(ctx, p):
    name = p.get("UserName")
    if not name:
        if ":user/" not in ctx.identity.arn:
            # The root user: IAM answers with the account's own identity.
            return {"User": {"Path": "/", "UserName": "root", "UserId": ctx.account, "Arn": ctx.identity.arn,
                             "CreateDate": ctx.kumo.started_at}}
        name = caller_user_name(ctx)
    return {"User": view(find_user(ctx.store, ctx.account, name))}


def list_users(ctx, p):
    users = sort_by(by_path(_users(ctx).values(), p.get("PathPrefix")), "UserName")
    return page([view(u, listing=True) for u in users], p, lambda u: u["UserName"], "Users", ctx.account)


def update_user(ctx, p):
    user = find_user(ctx.store, ctx.account, p["UserName"])
    new_name = p.get("NewUserName")
    if p.get("NewPath"):
        user["Path"] = check_path(p["NewPath"], "newPath")
    if new_name and new_name != user["UserName"]:
        check_name(new_name, "newUserName")
        if new_name in _users(ctx):
            raise exists("User", new_name)
        _users(ctx).delete(user["UserName"])
        for key in table(ctx.store, ctx.account, ACCESS_KEY).values():
            if key["UserName"] == user["UserName"]:
                key["UserName"] = new_name
                table(ctx.store, ctx.account, ACCESS_KEY).put(key["AccessKeyId"], key)
        user["UserName"] = new_name
    user["Arn"] = f"arn:aws:iam::{ctx.account}:user{user['Path']}{user['UserName']}"
    _users(ctx).put(user["UserName"], user)
    for key in table(ctx.store, ctx.account, ACCESS_KEY).values():
        if key["UserName"] == user["UserName"]:
            _register_key(ctx, key, user)
    return {}


def delete_user(ctx, p):
    user = find_user(ctx.store, ctx.account, p["UserName"])
    if user["_attached"]:
        raise conflict("Cannot delete entity, must detach all policies first.")
    if user["_inline"]:
        raise conflict("Cannot delete entity, must delete policies first.")
    if any(k["UserName"] == user["UserName"] for k in table(ctx.store, ctx.account, ACCESS_KEY).values()):
        raise conflict("Cannot delete entity, must delete access keys first.")
    from .certificates import SIGNING, SSH, user_has

    if user.get("_login"):
        raise conflict("Cannot delete entity, must delete login profile first.")
    if user.get("_mfa"):
        raise conflict("Cannot delete entity, must delete MFA device first.")
    if user.get("_groups"):
        raise conflict("Cannot delete entity, must remove user from all groups first.")
    if user_has(ctx, SIGNING, user["UserName"]):
        raise conflict("Cannot delete entity, must delete signing certificates first.")
    if user_has(ctx, SSH, user["UserName"]):
        raise conflict("Cannot delete entity, must delete SSH public keys first.")
    from .service_access import CREDENTIAL

    if user_has(ctx, CREDENTIAL, user["UserName"]):
        raise conflict("Cannot delete entity, must delete service specific credentials first.")
    _users(ctx).delete(user["UserName"])
    return {}


tag_user = USERS.tag
untag_user = USERS.untag
list_user_tags = USERS.list_tags
attach_user_policy = USERS.attach
detach_user_policy = USERS.detach
list_attached_user_policies = USERS.list_attached
put_user_policy = USERS.put_inline
get_user_policy = USERS.get_inline
delete_user_policy = USERS.delete_inline
list_user_policies = USERS.list_inline


# -- access keys ------------------------------------------------------------------------


def _register_key(ctx, key: dict, user: dict) -> None:
    credentials.register(ctx.store, key["AccessKeyId"], account=ctx.account, arn=user["Arn"],
                         user_id=user["UserId"], secret=key["SecretAccessKey"], Status=key["Status"])


def create_access_key(ctx, p):
    name = p.get("UserName") or caller_user_name(ctx)
    user = find_user(ctx.store, ctx.account, name)
    keys = table(ctx.store, ctx.account, ACCESS_KEY)
    if sum(1 for k in keys.values() if k["UserName"] == name) >= MAX_KEYS_PER_USER:
        raise AwsError("LimitExceeded", f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}")
    key = {
        "UserName": name,
        "AccessKeyId": ids.access_key_id(),
        "Status": "Active",
        "SecretAccessKey": ids.secret_access_key(),
        "CreateDate": ctx.now(),
    }
    keys.put(key["AccessKeyId"], key)
    _register_key(ctx, key, user)
    return {"AccessKey": key}


def _find_key(ctx, key_id: str, user_name: str | None) -> dict:
    key = table(ctx.store, ctx.account, ACCESS_KEY).get(key_id)
    if key is None or (user_name and key["UserName"] != user_name):
        raise AwsError("NoSuchEntity", f"The Access Key with id {key_id} cannot be found.")
    return key


def list_access_keys(ctx, p):
    name = p.get("UserName") or caller_user_name(ctx)
    find_user(ctx.store, ctx.account, name)
    keys = [
        {k: v for k, v in key.items() if k != "SecretAccessKey"}
        for key in table(ctx.store, ctx.account, ACCESS_KEY).values()
        if key["UserName"] == name
    ]
    return page(keys, p, lambda k: k["AccessKeyId"], "AccessKeyMetadata", name)


def update_access_key(ctx, p):
    key = _find_key(ctx, p["AccessKeyId"], p.get("UserName"))
    key["Status"] = p["Status"]
    table(ctx.store, ctx.account, ACCESS_KEY).put(key["AccessKeyId"], key)
    _register_key(ctx, key, find_user(ctx.store, ctx.account, key["UserName"]))
    return {}


def delete_access_key(ctx, p):
    key = _find_key(ctx, p["AccessKeyId"], p.get("UserName"))
    table(ctx.store, ctx.account, ACCESS_KEY).delete(key["AccessKeyId"])
    credentials.forget(ctx.store, key["AccessKeyId"])
    return {}


def get_access_key_last_used(ctx, p):
    key = table(ctx.store, ctx.account, ACCESS_KEY).get(p["AccessKeyId"])
    if key is None:
        raise AwsError("AccessDenied", "The access key does not exist in this account.", status=403)
    # Noted by the gateway on each use (activity.py); a key never used has no date and "N/A".
    used = key.get("_last_used") or {"ServiceName": "N/A", "Region": "N/A"}
    return {"UserName": key["UserName"], "AccessKeyLastUsed": used}
put_user_permissions_boundary = USERS.put_boundary
delete_user_permissions_boundary = USERS.delete_boundary
