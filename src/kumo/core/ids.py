"""Identifiers in AWS's formats."""

from __future__ import annotations

import os
import secrets
import string

_UPPER_ALNUM = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits

# IAM unique-id prefixes, as AWS documents them.
IAM_PREFIXES = {
    "user": "AIDA",
    "role": "AROA",
    "policy": "ANPA",
    "instance-profile": "AIPA",
    "group": "AGPA",
    "server-certificate": "ASCA",
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
    """A random (version 4) UUID as text, as uuid4() writes it, without building a UUID object per request."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


# The variant bits of RFC 4122 (10xx) over the first hex digit of the fourth group.
_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}


def random_digits(n: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(n))
