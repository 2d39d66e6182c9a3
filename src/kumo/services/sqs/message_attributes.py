"""Message bodies and attributes: AWS's checks, their MD5 digests, and which ones a receive returns."""

from __future__ import annotations

import base64
import hashlib
import re
import struct

from ...aws.errors import AwsError

MAX_ATTRIBUTES = 10
# The characters SQS accepts in a body or string value (XML 1.0's Char production).
_BAD_CHAR = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_TYPE = re.compile(r"^(String|Number|Binary)(\..+)?$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def md5_of_body(body: str) -> str:
    return md5_hex(body.encode("utf-8"))


def check_body(body: str) -> None:
    bad = _BAD_CHAR.search(body)
    if bad:
        raise AwsError("InvalidMessageContents",
                       f"Invalid binary character '#x{ord(bad.group()):X}' was found in the message body, the set of "
                       "allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to "
                       "#x10FFFF")


def check(attrs: dict | None, system: bool = False) -> None:
    """Validate message attributes (or, with ``system``, message system attributes)."""
    if not attrs:
        return
    what = "message system attribute" if system else "message attribute"
    if len(attrs) > MAX_ATTRIBUTES and not system:
        raise AwsError("InvalidParameterValue",
                       f"Number of message attributes [{len(attrs)}] exceeds the allowed maximum [{MAX_ATTRIBUTES}].")
    for name, value in attrs.items():
        if not system:
            lower = name.lower()
            if (not _NAME.match(name) or name.startswith(".") or name.endswith(".") or ".." in name
                    or lower.startswith("aws.") or lower.startswith("amazon.")):
                raise AwsError("InvalidParameterValue", f"Message attribute name '{name}' is invalid.")
        dtype = value.get("DataType") or ""
        if not _TYPE.match(dtype) or len(dtype) > 256:
            raise AwsError("InvalidParameterValue",
                           f"The {what} '{name}' has an invalid message attribute type, the set of supported type "
                           "prefixes is Binary, Number, and String.")
        if value.get("StringListValues") or value.get("BinaryListValues"):
            raise AwsError("InvalidParameterValue",
                           f"The {what} '{name}' uses list values, which are reserved for future use.")
        if dtype.startswith("Binary"):
            if not value.get("BinaryValue"):
                raise AwsError("InvalidParameterValue",
                               f"The {what} '{name}' with type 'Binary' must use field 'Binary'.")
        else:
            text = value.get("StringValue")
            if text is None or text == "":
                raise AwsError("InvalidParameterValue",
                               f"The {what} '{name}' must contain non-empty message attribute value for message "
                               f"attribute type '{dtype.split('.')[0]}'.")
            if _BAD_CHAR.search(text):
                raise AwsError("InvalidParameterValue",
                               f"The {what} '{name}' contains characters outside the allowed set.")
            if dtype.startswith("Number") and not _NUMBER.match(text.strip()):
                raise AwsError("InvalidParameterValue",
                               f"Can't cast the value of message attribute '{name}' to a number.")
    if system:
        unknown = set(attrs) - {"AWSTraceHeader"}
        if unknown:
            raise AwsError("InvalidParameterValue",
                           f"Message system attribute name '{sorted(unknown)[0]}' is invalid.")


def size(attrs: dict | None) -> int:
    """Bytes that count toward the message size limit: name, type and value of each attribute."""
    total = 0
    for name, value in (attrs or {}).items():
        total += len(name.encode()) + len(value.get("DataType", "").encode())
        if value.get("BinaryValue") is not None:
            total += len(value["BinaryValue"])
        else:
            total += len((value.get("StringValue") or "").encode())
    return total


def md5_of(attrs: dict | None) -> str | None:
    """AWS's digest: per attribute, sorted by name, length-prefixed name, type, transport byte and value."""
    if not attrs:
        return None
    out = bytearray()
    for name in sorted(attrs):
        value = attrs[name]
        dtype = value["DataType"]
        out += _prefixed(name.encode()) + _prefixed(dtype.encode())
        if dtype.startswith("Binary"):
            out += b"\x02" + _prefixed(bytes(value["BinaryValue"]))
        else:
            out += b"\x01" + _prefixed(value["StringValue"].encode())
    return md5_hex(bytes(out))


def _prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def to_storage(attrs: dict | None) -> dict | None:
    """JSON-able form: only the value members SQS keeps, binary values in base64."""
    if not attrs:
        return None
    out = {}
    for name, value in attrs.items():
        kept = {"DataType": value["DataType"]}
        if value.get("BinaryValue") is not None:
            kept["BinaryValue"] = base64.b64encode(bytes(value["BinaryValue"])).decode()
        else:
            kept["StringValue"] = value["StringValue"]
        out[name] = kept
    return out


def from_storage(attrs: dict) -> dict:
    out = {}
    for name, value in attrs.items():
        value = dict(value)
        if "BinaryValue" in value:
            value["BinaryValue"] = base64.b64decode(value["BinaryValue"])
        out[name] = value
    return out


def select(attrs: dict, wanted: list[str] | None) -> dict:
    """The attributes a receive asked for: names, ``All``, ``.*`` or ``prefix.*``."""
    if not attrs or not wanted:
        return {}
    if "All" in wanted or ".*" in wanted:
        return dict(attrs)
    prefixes = [w[:-1] for w in wanted if w.endswith(".*")]
    return {k: v for k, v in attrs.items() if k in wanted or any(k.startswith(p) for p in prefixes)}
