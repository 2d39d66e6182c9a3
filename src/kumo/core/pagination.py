"""Opaque pagination tokens shared by every service.

A token names the position after the last item returned, by the item's key
rather than by offset, so a page stays correct when items before it are
created or deleted between calls.  It carries a short digest of the request
it belongs to, so a token from one listing is refused by another.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Callable, Sequence


class InvalidToken(ValueError):
    pass


def _fingerprint(context: str) -> str:
    return hashlib.sha1(context.encode()).hexdigest()[:8]


def encode(last_key: str, context: str = "") -> str:
    raw = json.dumps({"k": last_key, "c": _fingerprint(context)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str, context: str = "") -> str:
    try:
        pad = "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(token + pad))
        key, fp = data["k"], data["c"]
    except Exception as exc:  # any malformed token is the caller's error
        raise InvalidToken("The pagination token is invalid.") from exc
    if fp != _fingerprint(context):
        raise InvalidToken("The pagination token does not belong to this request.")
    return key


def paginate(
    items: Sequence[Any],
    limit: int | None,
    token: str | None,
    key: Callable[[Any], str],
    context: str = "",
    default_limit: int = 100,
) -> tuple[list[Any], str | None]:
    """One page of ``items`` (already in their listing order).

    Returns the page and the token for the next one (None on the last page).
    """
    start = 0
    if token:
        last = decode(token, context)
        keys = [key(i) for i in items]
        # Resume after the remembered key; if it was deleted, after where it sorted.
        if last in keys:
            start = keys.index(last) + 1
        else:
            start = next((n for n, k in enumerate(keys) if k > last), len(keys))
    size = default_limit if not limit or limit <= 0 else limit
    page = list(items[start:start + size])
    more = start + size < len(items)
    return page, (encode(key(page[-1]), context) if more and page else None)
