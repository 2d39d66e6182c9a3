"""Rule targets: what a target receives (Input, InputPath, InputTransformer) and delivering it.

SQS and SNS targets are kumo's own queues and topics, and Lambda targets go
to the Lambda service's durable queue of asynchronous invocations: either
way the event is written in the same transaction as the PutEvents (or
scheduled firing) that caused it, so an acknowledged event has reached its
targets.  Whenever a delivery fails, the event goes to the target's
DeadLetterConfig queue when it has one.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from ...core.arns import parse_arn

log = logging.getLogger("kumo.events")
_PATH_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


class TransformError(ValueError):
    pass


# -- what a target receives -----------------------------------------------------------------


def json_path(doc: Any, path: str) -> Any:
    """A JSONPath of the simple kind EventBridge takes: $, $.a.b, $.a[0], $['a b']; None when absent."""
    path = path.strip()
    if not path.startswith("$"):
        raise TransformError(f"Invalid JSONPath {path}")
    pos, value = 1, doc
    while pos < len(path):
        m = _PATH_PART.match(path, pos)
        if not m:
            raise TransformError(f"Invalid JSONPath {path}")
        key = next(g for g in (m.group(1), m.group(3), m.group(4)) if g is not None) if m.group(2) is None else None
        if key is not None:
            value = value.get(key) if isinstance(value, dict) else None
        else:
            index = int(m.group(2))
            value = value[index] if isinstance(value, list) and index < len(value) else None
        pos = m.end()
    return value


def public(event: dict) -> dict:
    """The event as targets see it (without kumo's own routing marks)."""
    return {k: v for k, v in event.items() if not k.startswith("_")}


def render(target: dict, event: dict, rule_arn: str, rule_name: str) -> str:
    """The text delivered to the target for ``event``."""
    if target.get("Input") is not None:
        return target["Input"]
    if target.get("InputPath"):
        return json.dumps(json_path(public(event), target["InputPath"]), separators=(",", ":"))
    transformer = target.get("InputTransformer")
    if transformer:
        values = {name: json_path(public(event), path) for name, path in (transformer.get("InputPathsMap") or {}).items()}
        values.update({
            "aws.events.rule-arn": rule_arn,
            "aws.events.rule-name": rule_name,
            "aws.events.event.ingestion-time": event.get("time"),
            "aws.events.event": public(event),
            "aws.events.event.json": public(event),
        })
        return fill_template(transformer["InputTemplate"], values)
    return json.dumps(public(event), separators=(",", ":"))


def fill_template(template: str, values: dict) -> str:
    """Replace <name>: inside a JSON string with the value's text, elsewhere with its JSON."""
    out, quoted, i = [], False, 0
    while i < len(template):
        c = template[i]
        if c == "\\" and quoted:
            out.append(template[i:i + 2])
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif c == "<":
            m = _PLACEHOLDER.match(template, i)
            if m and m.group(1) in values:
                value = values[m.group(1)]
                if quoted:
                    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
                    out.append(json.dumps(text)[1:-1] if value is not None else "")
                else:
                    out.append(json.dumps(value, separators=(",", ":")))
                i = m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


# -- delivery ----------------------------------------------------------------------------------


def deliver(kumo, rule: dict, target: dict, event: dict) -> None:
    """Deliver one event to one target now; failures go to the target's dead-letter queue."""
    try:
        payload = render(target, event, rule["Arn"], rule["Name"])
    except TransformError as exc:
        dead_letter(kumo, rule, target, event, "INVALID_PARAMETER", str(exc))
        return
    arn = parse_arn(target["Arn"])
    service = arn.service if arn else ""
    try:
        if service == "sqs":
            from ..sqs import internal as sqs

            params = target.get("SqsParameters") or {}
            sqs.send(kumo, target["Arn"], payload, group_id=params.get("MessageGroupId"),
                     dedup_id=event.get("id") if params.get("MessageGroupId") else None, sender_id=None)
        elif service == "sns":
            from ..sns import internal as sns

            sns.publish(kumo, target["Arn"], payload)
        elif service == "lambda":
            _invoke_lambda(kumo, rule, target, event, payload)
        elif service == "events" and arn.resource.startswith("api-destination/"):
            from . import apidestinations

            apidestinations.queue(kumo, rule, target, event, payload)
        elif service == "events" and arn.resource.startswith("event-bus/"):
            _to_bus(kumo, rule, target, event)
        else:
            raise LookupError(f"kumo cannot deliver to {target['Arn']} yet")
    except Exception as exc:  # any failure to deliver is the target's, as AWS reports it
        log.info("rule %s: delivery to %s failed: %s", rule["Arn"], target["Arn"], exc)
        code = ("RESOURCE_NOT_FOUND" if isinstance(exc, LookupError) else
                "NO_PERMISSIONS" if isinstance(exc, _NoPermission) else "SDK_CLIENT_ERROR")
        dead_letter(kumo, rule, target, event, code, str(exc))


class _NoPermission(Exception):
    pass


def _to_bus(kumo, rule, target, event) -> None:
    """Another bus, of this account or another one whose policy lets this account put events on it.

    The event goes on unchanged (its account stays the sender's), and only one hop: an event that came from
    another bus is not forwarded again, as AWS does not.
    """
    from . import buses, permissions, routing

    if event.get("_forwarded"):
        return
    parts = target["Arn"].split(":")
    region, account = parts[3], parts[4]
    try:
        bus = buses.find(kumo.store, account, region, target["Arn"], kumo.clock.now())
    except Exception:
        raise LookupError(f"Event bus {target['Arn']} does not exist")
    sender = rule["Arn"].split(":")[4]
    if not permissions.allows(bus, sender):
        raise _NoPermission(f"Account {sender} is not authorized to put events on {target['Arn']}")
    routing.route(kumo, account, region, bus["Name"], {**event, "_forwarded": True})


def _invoke_lambda(kumo, rule, target, event, payload: str) -> None:
    from ..lambda_ import internal as lambda_

    # Queued in the same transaction as the PutEvents (or firing) that caused it: acknowledged means delivered.
    lambda_.queue_event(kumo, target["Arn"], json.loads(payload), source_arn=rule["Arn"])


def dead_letter(kumo, rule, target, event, code: str, message: str) -> None:
    dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
    if not dlq:
        return
    from ..sqs import internal as sqs

    attrs = {name: {"DataType": "String", "StringValue": value} for name, value in (
        ("RULE_ARN", rule["Arn"]), ("TARGET_ARN", target["Arn"]), ("ERROR_CODE", code),
        ("ERROR_MESSAGE", message[:256] or code))}
    try:
        sqs.send(kumo, dlq, json.dumps(public(event), separators=(",", ":")), attrs)
    except Exception as exc:
        log.warning("rule %s: dead-letter queue %s refused the event: %s", rule["Arn"], dlq, exc)
