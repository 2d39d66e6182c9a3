"""Lambda for the rest of kumo: invoke a function asynchronously (SNS, EventBridge, destinations) or
synchronously (Secrets Manager's rotation), and a function's resource-based policy and tags, by ARN (IAM
enforcement)."""

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


class InvokeRefused(LookupError):
    """Lambda refused a synchronous invocation before running it: ``code`` is the Invoke API's error code
    (ResourceNotFoundException, ResourceConflictException, TooManyRequestsException)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


async def invoke(kumo, function_arn: str, payload) -> tuple[int, bytes, str | None]:
    """A RequestResponse invocation, as the Invoke API runs it: (status code, payload, FunctionError or None).

    Call it outside a transaction (the function may call kumo back).  ``payload`` is bytes or a JSON-able
    object.  Raises InvokeRefused when the function does not exist, is not Active, or is throttled.
    """
    from ...aws.errors import AwsError
    from ...core import ids
    from .invoke import SYNC_LIMIT, Throttled, check_payload
    from .model import parse_arn_function

    service = _service(kumo)
    parts = parse_arn_function(function_arn)
    if parts is None:
        raise InvokeRefused("ResourceNotFoundException", f"Function not found: {function_arn}")
    body = payload if isinstance(payload, (bytes, bytearray)) else json.dumps(payload).encode()
    try:
        r = service.engine.resolve(*parts)
        service.engine.check_state(r)
        outcome = await service.engine.run(r, check_payload(bytes(body), SYNC_LIMIT), ids.request_id())
    except AwsError as exc:
        raise InvokeRefused(exc.code, exc.message) from None
    except Throttled as exc:
        raise InvokeRefused("TooManyRequestsException", f"Rate Exceeded ({exc.reason})") from None
    return 200, outcome.payload, "Unhandled" if outcome.failed else None


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
