"""Key policies: stored and returned as written, not evaluated (kumo does not enforce them)."""

from __future__ import annotations

from .keys import check_policy
from .model import KmsError, finder


def _policy_name(p) -> str:
    name = p.get("PolicyName") or "default"
    if name != "default":
        raise KmsError("NotFoundException", "No such policy exists")
    return name


def get_key_policy(ctx, p):
    record = finder(ctx).key(p["KeyId"], aliases=False)
    name = _policy_name(p)
    return {"Policy": record["_policy"], "PolicyName": name}


def put_key_policy(ctx, p):
    record = finder(ctx).key(p["KeyId"], aliases=False, other_accounts=False)
    _policy_name(p)
    if record["KeyManager"] == "AWS":
        raise KmsError("AccessDeniedException", f"You cannot change the key policy of AWS managed key "
                                                f"{record['Arn']}.")
    check_policy(p["Policy"])
    record["_policy"] = p["Policy"]
    finder(ctx).save(record)
    return {}


def list_key_policies(ctx, p):
    finder(ctx).key(p["KeyId"], aliases=False)
    return {"PolicyNames": ["default"], "Truncated": False}
