"""Identifiers in AWS's formats."""

from __future__ import annotations

import secrets
import string
import uuid

_UPPER_ALNUM = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits

# IAM unique-id prefixes, as AWS documents them.
IAM_PREFIXES = {
    "user": "AIDA",
    "role": "AROA",
    "policy": "ANPA",
    "instance-profile": "AIPA",
    "group": "AGPA",
    "access-key": "AKIA",
    "temporary-access-key": "ASIA",
}


def hex_id(prefix: str, length: int = 17) -> str:
    """EC2-style id, e.g. ``i-0123456789abcdef0``."""
    return f"{prefix}-{secrets.token_hex((length + 1) // 2)[:length]}"


def iam_id(kind: str, length: int = 17) -> str:
    return IAM_PREFIXES[kind] + "".join(secrets.choice(_UPPER_ALNUM) for _ in range(length))


def access_key_id(temporary: bool = False) -> str:
    return iam_id("temporary-access-key" if temporary else "access-key", 16)


def secret_access_key() -> str:
    return "".join(secrets.choice(_ALNUM + "/+") for _ in range(40))


def session_token() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(356))


def request_id() -> str:
    return str(uuid.uuid4())


def random_digits(n: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(n))
