"""Lambda for the rest of kumo: a function's resource-based policy and tags, by ARN (IAM enforcement)."""

from __future__ import annotations

import json

from .model import FUNCTION, POLICY, scope


def _split(arn: str) -> tuple[str, str, str, str | None] | None:
    """(account, region, name, qualifier) of arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]."""
    parts = arn.split(":")
    if len(parts) not in (7, 8) or parts[2] != "lambda" or parts[5] != "function":
        return None
    return parts[4], parts[3], parts[6], parts[7] if len(parts) == 8 else None


def resource_policy(kumo, arn: str) -> str | None:
    """The policy AddPermission built for the function (or the version or alias the ARN qualifies)."""
    split = _split(arn)
    if split is None:
        return None
    account, region, name, qualifier = split
    record = kumo.store.table(scope(account, region), POLICY).get(f"{name}:{qualifier or ''}")
    if record is None:
        return None
    return json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": record["statements"]})


def resource_tags(kumo, arn: str) -> dict | None:
    split = _split(arn)
    if split is None:
        return None
    account, region, name, _qualifier = split
    fn = kumo.store.table(scope(account, region), FUNCTION).get(name)
    return dict(fn.get("_tags") or {}) if fn is not None else None
