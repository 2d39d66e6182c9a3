"""Console passwords: login profiles, ChangePassword, and the account password policy.

Passwords are kept only as PBKDF2 hashes (with the last few, for
PasswordReusePrevention).  Every new password is checked against the account's
policy, or AWS's default when none is set (at least 8 characters), and refused
with PasswordPolicyViolation naming the first rule it breaks.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import string

from ...aws.errors import AwsError
from .model import find_user, table, USER

ACCOUNT = "iam.account"
DEFAULT_MIN_LENGTH = 8
_FLAGS = ("RequireSymbols", "RequireNumbers", "RequireUppercaseCharacters", "RequireLowercaseCharacters",
          "AllowUsersToChangePassword", "HardExpiry")
_SYMBOLS = set("!@#$%^&*()_+-=[]{}|'")


def _hash(password: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 10_000)
    return salt.hex() + ":" + digest.hex()


def _matches(password: str, stored: str) -> bool:
    salt, _, digest = stored.partition(":")
    return hmac.compare_digest(_hash(password, bytes.fromhex(salt)).partition(":")[2], digest)


def password_policy(store, account: str) -> dict | None:
    return table(store, account, ACCOUNT).get("password-policy")


def check_password(store, account: str, password: str, history: list[str] = ()) -> None:
    policy = password_policy(store, account) or {}
    minimum = policy.get("MinimumPasswordLength", DEFAULT_MIN_LENGTH)
    rules = [
        (len(password) >= minimum, f"Password should have a minimum length of {minimum}"),
        (not policy.get("RequireUppercaseCharacters") or any(c in string.ascii_uppercase for c in password),
         "Password should have at least one uppercase letter"),
        (not policy.get("RequireLowercaseCharacters") or any(c in string.ascii_lowercase for c in password),
         "Password should have at least one lowercase letter"),
        (not policy.get("RequireNumbers") or any(c in string.digits for c in password),
         "Password should have at least one number"),
        (not policy.get("RequireSymbols") or any(c in _SYMBOLS for c in password),
         "Password should have at least one symbol"),
    ]
    reuse = policy.get("PasswordReusePrevention") or 0
    rules.append((not any(_matches(password, old) for old in list(history)[-reuse:]) if reuse else True,
                  "Password has been used before"))
    for ok, message in rules:
        if not ok:
            raise AwsError("PasswordPolicyViolation", message)


def _save_user(ctx, user):
    table(ctx.store, ctx.account, USER).put(user["UserName"], user)


def _profile_view(user: dict) -> dict:
    login = user["_login"]
    return {"UserName": user["UserName"], "CreateDate": login["CreateDate"],
            "PasswordResetRequired": login["PasswordResetRequired"]}


def _set_password(ctx, user: dict, password: str) -> None:
    login = user["_login"]
    check_password(ctx.store, ctx.account, password, login.get("_history", []))
    login["_hash"] = _hash(password)
    login["_history"] = (login.get("_history", []) + [login["_hash"]])[-24:]
    login["PasswordLastChanged"] = ctx.now()


def _user_name(ctx, p) -> str:
    """UserName, or the calling IAM user's own name when it is left out."""
    if p.get("UserName"):
        return p["UserName"]
    if ":user/" in ctx.identity.arn:
        return ctx.identity.arn.rsplit("/", 1)[-1]
    raise AwsError("ValidationError", "Must specify userName when calling with non-User credentials")


def create_login_profile(ctx, p):
    user = find_user(ctx.store, ctx.account, _user_name(ctx, p))
    if user.get("_login"):
        raise AwsError("EntityAlreadyExists", f"Login Profile for user {user['UserName']} already exists.")
    if p.get("Password") is None:
        raise AwsError("ValidationError", "Password is required when creating a login profile for a user.")
    user["_login"] = {"CreateDate": ctx.now(), "PasswordResetRequired": bool(p.get("PasswordResetRequired"))}
    _set_password(ctx, user, p["Password"])
    _save_user(ctx, user)
    return {"LoginProfile": _profile_view(user)}


def _login_of(ctx, name: str) -> dict:
    user = find_user(ctx.store, ctx.account, name)
    if not user.get("_login"):
        raise AwsError("NoSuchEntity", f"Login Profile for User {name} cannot be found.")
    return user


def get_login_profile(ctx, p):
    return {"LoginProfile": _profile_view(_login_of(ctx, _user_name(ctx, p)))}


def update_login_profile(ctx, p):
    user = _login_of(ctx, _user_name(ctx, p))
    if p.get("Password") is not None:
        _set_password(ctx, user, p["Password"])
    if p.get("PasswordResetRequired") is not None:
        user["_login"]["PasswordResetRequired"] = p["PasswordResetRequired"]
    _save_user(ctx, user)
    return {}


def delete_login_profile(ctx, p):
    user = _login_of(ctx, _user_name(ctx, p))
    user.pop("_login")
    _save_user(ctx, user)
    return {}


def change_password(ctx, p):
    arn = ctx.identity.arn
    if ":user/" not in arn:
        raise AwsError("InvalidUserType", "Only IAM users can change their own password.")
    user = _login_of(ctx, arn.rsplit("/", 1)[-1])
    if not _matches(p["OldPassword"], user["_login"]["_hash"]):
        raise AwsError("InvalidUserType", "The old password was incorrect.")  # IAM's code for a wrong old password
    _set_password(ctx, user, p["NewPassword"])
    user["_login"]["PasswordResetRequired"] = False
    _save_user(ctx, user)
    return {}


def update_account_password_policy(ctx, p):
    minimum = p.get("MinimumPasswordLength") or 6
    policy = {"MinimumPasswordLength": minimum}
    for flag in _FLAGS:
        policy[flag] = bool(p.get(flag))
    if p.get("MaxPasswordAge"):
        policy["MaxPasswordAge"] = p["MaxPasswordAge"]
    if p.get("PasswordReusePrevention"):
        policy["PasswordReusePrevention"] = p["PasswordReusePrevention"]
    policy["ExpirePasswords"] = bool(p.get("MaxPasswordAge"))
    table(ctx.store, ctx.account, ACCOUNT).put("password-policy", policy)
    return {}


def get_account_password_policy(ctx, p):
    policy = password_policy(ctx.store, ctx.account)
    if policy is None:
        raise AwsError("NoSuchEntity", f"The Password Policy with domain name {ctx.account} cannot be found.")
    return {"PasswordPolicy": policy}


def delete_account_password_policy(ctx, p):
    if not table(ctx.store, ctx.account, ACCOUNT).delete("password-policy"):
        raise AwsError("NoSuchEntity", "The account policy with name PasswordPolicy cannot be found.")
    return {}
