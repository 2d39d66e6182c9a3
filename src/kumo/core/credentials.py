"""Access keys kumo has issued, and whom they belong to.

IAM access keys and STS temporary credentials are written here, so the edge
can tell which account and principal signed a request.  Keys kumo never
issued still work: a 12-digit key names its account, anything else is the
default account's root (so any SDK configuration just works).
"""

from __future__ import annotations

from typing import Any

SCOPE = ""
KIND = "credentials"


def table(store):
    return store.table(SCOPE, KIND)


def register(store, access_key: str, *, account: str, arn: str, user_id: str, secret: str,
             session_token: str | None = None, expiration: float | None = None, **extra: Any) -> dict:
    record = {
        "AccessKeyId": access_key,
        "Account": account,
        "Arn": arn,
        "UserId": user_id,
        "SecretAccessKey": secret,
        "SessionToken": session_token,
        "Expiration": expiration,
        **extra,
    }
    table(store).put(access_key, record)
    return record


def lookup(store, access_key: str) -> dict | None:
    return table(store).get(access_key)


def forget(store, access_key: str) -> None:
    table(store).delete(access_key)
