"""Where asynchronous results go: destinations (invocation records) and dead-letter queues.

The invocation record is AWS's (version 1.0): requestContext (requestId,
functionArn, condition, approximateInvokeCount), requestPayload,
responseContext (statusCode, executedVersion, functionError) and
responsePayload.  SQS and SNS destinations receive it as the message; a
Lambda destination is invoked asynchronously with it; an EventBridge bus
receives it as the detail of a "Lambda Function Invocation Result - Success"
or "- Failure" event from source "lambda".  A dead-letter queue (the
function's DeadLetterConfig) receives the original event with the RequestID,
ErrorCode and ErrorMessage attributes.
"""

from __future__ import annotations

import json
import logging

from ...core.arns import parse_arn
from .telemetry import iso_ms

log = logging.getLogger("kumo.lambda")


def _json_or_text(data: bytes | str | None):
    if data is None:
        return None
    text = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data
    try:
        return json.loads(text)
    except ValueError:
        return text


def record(now: float, request_id: str, function_arn: str, condition: str, attempts: int, request_payload: bytes,
           response: dict | None) -> dict:
    """AWS's invocation record; ``response`` is {"version", "error", "payload"} when the function ran."""
    doc = {
        "version": "1.0",
        "timestamp": iso_ms(now),
        "requestContext": {"requestId": request_id, "functionArn": function_arn, "condition": condition,
                           "approximateInvokeCount": attempts},
        "requestPayload": _json_or_text(request_payload),
    }
    if response is not None:
        context = {"statusCode": 200, "executedVersion": response["version"]}
        if response.get("error"):
            context["functionError"] = "Unhandled"
        doc["responseContext"] = context
        doc["responsePayload"] = _json_or_text(response.get("payload"))
    return doc


def destination_problem(arn: str, own_function: str | None = None) -> str | None:
    """Why AWS would refuse ``arn`` as a destination; None when it is fine."""
    parsed = parse_arn(arn)
    if parsed is None:
        return f"The provided destination config DestinationConfig is invalid: {arn} is not an ARN."
    if parsed.service == "sqs" or parsed.service == "sns":
        return None
    if parsed.service == "lambda" and parsed.resource.startswith("function:"):
        if own_function and parsed.resource.split(":")[1] == own_function:
            return "You can't specify the function as a destination for itself."
        return None
    if parsed.service == "events" and parsed.resource.startswith("event-bus/"):
        return None
    if parsed.service == "s3":
        return "kumo has no S3 yet: use an SQS queue, SNS topic, Lambda function or EventBridge bus."
    return f"The destination ARN {arn} is invalid."


async def deliver(kumo, arn: str, doc: dict, success: bool) -> None:
    """Send an invocation record to a destination; raises when the destination refuses it."""
    parsed = parse_arn(arn)
    body = json.dumps(doc, separators=(",", ":"))
    if parsed.service == "lambda":
        await kumo.services["lambda_"].invoke_async(arn, doc, source_arn=doc["requestContext"]["functionArn"])
        return
    with kumo.store.transaction():
        if parsed.service == "sqs":
            from ..sqs import internal as sqs

            sqs.send(kumo, arn, body)
        elif parsed.service == "sns":
            from ..sns import internal as sns

            sns.publish(kumo, arn, body)
        elif parsed.service == "events":
            from ..events import internal as events

            events.put_event(kumo, arn, source="lambda", detail=doc,
                             detail_type="Lambda Function Invocation Result - " + ("Success" if success else "Failure"),
                             resources=[arn, doc["requestContext"]["functionArn"]])
        else:
            raise LookupError(f"kumo cannot deliver to {arn}")


def dead_letter(kumo, arn: str, request_id: str, payload: bytes, error_message: str) -> None:
    """The original event to the function's dead-letter queue or topic, with AWS's three attributes."""
    attrs = {
        "RequestID": {"DataType": "String", "StringValue": request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": (error_message or "Unhandled")[:1024]},
    }
    body = payload.decode("utf-8", "replace")
    parsed = parse_arn(arn)
    with kumo.store.transaction():
        if parsed and parsed.service == "sqs":
            from ..sqs import internal as sqs

            sqs.send(kumo, arn, body, attrs)
        elif parsed and parsed.service == "sns":
            from ..sns import internal as sns

            sns.publish(kumo, arn, body, attributes=attrs)
        else:
            raise LookupError(f"{arn} is not a queue or topic")


def error_message(payload: bytes | None) -> str:
    doc = _json_or_text(payload)
    if isinstance(doc, dict):
        return str(doc.get("errorMessage") or doc.get("errorType") or "")
    return str(doc or "")
