"""Lambda for the rest of kumo: invoke a function asynchronously (SNS, EventBridge, destinations), and a
function's resource-based policy and tags, by ARN (IAM enforcement)."""

from __future__ import annotations

import json

from .model import FUNCTION, POLICY, scope


class LambdaUnavailable(LookupError):
    """This kumo runs without Lambda."""


def _service(kumo):
    service = kumo.services.get("lambda_")
    if service is None:
        raise LambdaUnavailable("Lambda is not available in this kumo")
    return service


def queue_event(kumo, function_arn: str, payload, source_arn: str | None = None) -> str:
    """Queue an asynchronous (Event) invocation of a function ARN in the caller's transaction; its request id.

    ``payload`` is bytes or a JSON-able object.  Raises LookupError when the function does not exist (or
    LambdaUnavailable).  Retries, destinations and dead-letter queues then follow the function's configuration.
    """
    return _service(kumo).queue_event(function_arn, payload, source_arn)


async def invoke_async(kumo, function_arn: str, payload, source_arn: str | None = None) -> str:
    """``queue_event`` in a transaction of its own, for callers outside one."""
    return await _service(kumo).invoke_async(function_arn, payload, source_arn=source_arn)


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


def exists(kumo, arn: str) -> bool:
    """Whether the function an ARN names (qualified or not) exists (S3 checks notification destinations)."""
    split = _split(arn)
    if split is None:
        return False
    account, region, name, _qualifier = split
    return kumo.store.table(scope(account, region), FUNCTION).get(name) is not None
