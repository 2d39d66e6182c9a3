"""IAM's records and the rules every IAM call shares.

Records are plain dicts shaped like IAM's own structures (Role, User, Policy,
InstanceProfile, AccessKey), so Get and List return them as they are.  IAM is
global: its state is per account, not per region.  Policy documents are kept
as the JSON text the caller sent; IAM returns them URL-encoded.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable
from urllib.parse import quote, unquote

from ...aws.errors import AwsError
from ...core import pagination
from ...core import tags as tagging

ROLE, USER, POLICY, PROFILE = "iam.role", "iam.user", "iam.policy", "iam.instance-profile"
ACCESS_KEY = "iam.access-key"
GROUP = "iam.group"

_NAME = re.compile(r"^[\w+=,.@-]+$")
AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy"


def tables(store, account: str):
    return {kind: store.table(account, kind) for kind in (ROLE, USER, POLICY, PROFILE, ACCESS_KEY, GROUP)}


def table(store, account: str, kind: str):
    return store.table(account, kind)


# -- errors in IAM's words ---------------------------------------------------------


def no_such(kind: str, name: str) -> AwsError:
    return AwsError("NoSuchEntity", f"The {kind} with name {name} cannot be found.")


def exists(kind: str, name: str) -> AwsError:
    return AwsError("EntityAlreadyExists", f"{kind} with name {name} already exists.")


def conflict(message: str) -> AwsError:
    return AwsError("DeleteConflict", message)


def invalid(message: str) -> AwsError:
    return AwsError("ValidationError", message)


def caller_user_name(ctx) -> str:
    """The calling IAM user's name, for operations whose UserName defaults to the caller's."""
    arn = ctx.identity.arn
    if ":user/" in arn:
        return arn.rsplit("/", 1)[-1]
    raise invalid("Must specify userName when calling with non-User credentials")


# -- checks -------------------------------------------------------------------------


def check_name(value: str, member: str) -> str:
    if not _NAME.match(value or ""):
        raise invalid(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        )
    return value


def check_path(path: str | None, member: str = "path") -> str:
    path = path or "/"
    if not (path.startswith("/") and path.endswith("/")) or "//" in path:
        raise invalid(
            f"1 validation error detected: Value '{path}' at '{member}' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"
        )
    return path


MAX_MANAGED_SIZE = 6144  # characters, whitespace outside strings not counted
MAX_TRUST_SIZE = 2048  # ACLSizePerRole's default
MAX_INLINE_SIZE = {"user": 2048, "group": 5120, "role": 10240}  # all of an entity's inline policies together


def check_policy_document(text: str, kind: str = "inline") -> str:
    """The document as sent, if IAM's grammar takes it for this kind of policy (policy/grammar.py)."""
    from .policy import MalformedPolicy, parse
    from .policy.grammar import PolicyGrammarError, size_without_whitespace, validate

    try:
        validate(text, kind)
        parse(text)  # what the evaluator could not read, IAM refuses, so no stored policy is silently ignored
    except (PolicyGrammarError, MalformedPolicy) as exc:
        raise AwsError("MalformedPolicyDocument", str(exc))
    size = size_without_whitespace(text)
    if kind == "managed" and size > MAX_MANAGED_SIZE:
        raise AwsError("LimitExceeded", f"Cannot exceed quota for PolicySize: {MAX_MANAGED_SIZE}")
    if kind == "trust" and size > MAX_TRUST_SIZE:
        raise AwsError("LimitExceeded", f"Cannot exceed quota for ACLSizePerRole: {MAX_TRUST_SIZE}")
    return text


def check_inline_size(documents: dict, label: str, name: str) -> None:
    limit = MAX_INLINE_SIZE.get(label)
    if limit is None:
        return
    from .policy.grammar import size_without_whitespace

    if sum(size_without_whitespace(d) for d in documents.values()) > limit:
        raise AwsError("LimitExceeded", f"Maximum policy size of {limit} bytes exceeded for {label} {name}")


@lru_cache(maxsize=512)
def encode_document(text: str) -> str:
    """IAM sends policy documents URL-encoded; SDKs decode them.

    Cached: quote() works a character at a time (~10 us for a trust policy), and a listing of 100 roles
    encodes the same few documents again on every call."""
    return quote(text, safe="")


def decode_document(text: str) -> str:
    return unquote(text)


def tags_in(params: dict, existing: list | None = None) -> list[dict]:
    new = tagging.to_dict(params.get("Tags"))
    try:
        tagging.validate(new, tagging.to_dict(existing))
    except tagging.TagError as exc:
        raise AwsError("LimitExceeded" if "exceeds" in str(exc) else "InvalidInput", str(exc))
    merged = tagging.to_dict(existing)
    merged.update(new)
    return tagging.to_list(merged)


def untag(existing: list | None, keys: list[str]) -> list[dict]:
    drop = set(keys or [])
    return [t for t in existing or [] if t["Key"] not in drop]


# -- listing --------------------------------------------------------------------------


def page(items: list, params: dict, key: Callable[[Any], str], result_key: str, context: str = "") -> dict:
    """IAM's Marker / MaxItems / IsTruncated pagination."""
    try:
        chunk, marker = pagination.paginate(items, params.get("MaxItems"), params.get("Marker"), key, context)
    except pagination.InvalidToken as exc:
        raise invalid(str(exc))
    out: dict[str, Any] = {result_key: chunk, "IsTruncated": marker is not None}
    if marker:
        out["Marker"] = marker
    return out


def by_path(items: list[dict], prefix: str | None) -> list[dict]:
    prefix = prefix or "/"
    return [i for i in items if i.get("Path", "/").startswith(prefix)]


def sort_by(items: list[dict], key: str) -> list[dict]:
    return sorted(items, key=lambda i: i[key].lower())


# -- lookups shared by several files ---------------------------------------------------


def find_role(store, account: str, name: str) -> dict:
    role = table(store, account, ROLE).get(name)
    if role is None:
        raise no_such("role", name)
    return role


def find_user(store, account: str, name: str) -> dict:
    user = table(store, account, USER).get(name)
    if user is None:
        raise no_such("user", name)
    return user


def role_from_arn(store, role_arn: str) -> tuple[str, dict | None]:
    """(account, role record or None) for ``arn:aws:iam::<account>:role/<path><name>``."""
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("role/"):
        raise invalid(f"{role_arn} is invalid")
    account = parts[4]
    name = parts[5].rsplit("/", 1)[-1]
    return account, table(store, account, ROLE).get(name)


def policy_name_from_arn(policy_arn: str) -> str:
    return policy_arn.rsplit("/", 1)[-1]
