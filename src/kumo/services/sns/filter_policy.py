"""SNS filter policies: AWS's pattern language (kumo.services.events.internal) over attributes or payload.

With FilterPolicyScope ``MessageAttributes`` (the default) the policy's keys
name message attributes: String values match as strings, Number values as
numbers, String.Array values as arrays (any element), Binary ones never.
With ``MessageBody`` the policy matches the message itself, which must be a
JSON object; nested keys then reach into it.
"""

from __future__ import annotations

import json

from ...aws.errors import AwsError
from ..events import internal as events

MAX_KEYS = 5
MAX_COMBINATIONS = 150


def check(text: str, scope: str) -> dict:
    try:
        policy = events.parse_pattern(text)
    except events.PatternError as exc:
        raise AwsError("InvalidParameter", f"Invalid parameter: FilterPolicy: {exc}")
    if scope == "MessageAttributes" and any(isinstance(v, dict) for k, v in policy.items() if k != "$or"):
        raise AwsError("InvalidParameter", "Invalid parameter: FilterPolicy: Filter policy scope MessageAttributes "
                                           "does not support nested filter policy")
    keys, combinations = _size(policy)
    if keys > MAX_KEYS:
        raise AwsError("InvalidParameter", "Invalid parameter: FilterPolicy: Filter policy can not have more than "
                                           f"{MAX_KEYS} keys")
    if combinations > MAX_COMBINATIONS:
        raise AwsError("InvalidParameter", "Invalid parameter: FilterPolicy: Filter policy is too complex")
    return policy


def _size(policy: dict) -> tuple[int, int]:
    """(keys, combinations): AWS counts the product of the value counts of each key."""
    keys, combinations = 0, 1
    for key, value in policy.items():
        if key == "$or":
            sizes = [_size(alt) for alt in value]
            keys += max(k for k, _ in sizes)
            combinations *= sum(c for _, c in sizes)
        elif isinstance(value, dict):
            k, c = _size(value)
            keys += k
            combinations *= c
        else:
            keys += 1
            combinations *= len(value)
    return keys, combinations


def attribute_values(attributes: dict | None) -> dict:
    out = {}
    for name, value in (attributes or {}).items():
        dtype = value.get("DataType", "String")
        text = value.get("StringValue")
        if dtype.startswith("Binary") or text is None:
            continue
        if dtype.startswith("Number"):
            try:
                number = float(text)
                out[name] = int(number) if number.is_integer() and "." not in text and "e" not in text.lower() \
                    else number
            except ValueError:
                continue
        elif dtype.startswith("String.Array"):
            try:
                array = json.loads(text)
            except ValueError:
                continue
            out[name] = array if isinstance(array, list) else [array]
        else:
            out[name] = text
    return out


def matches(policy: dict, scope: str, attributes: dict | None, message: str) -> bool:
    if scope == "MessageBody":
        try:
            body = json.loads(message)
        except ValueError:
            return False
        return isinstance(body, dict) and events.matches(policy, body)
    return events.matches(policy, attribute_values(attributes))
