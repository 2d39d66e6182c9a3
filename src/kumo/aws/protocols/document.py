"""Shape-driven conversion between values and JSON or CBOR documents.

The json, rest-json and smithy-rpc-v2-cbor protocols all carry a structure as
a document; they differ in how scalars look (JSON has no bytes or dates, so
blobs are base64 and timestamps epoch numbers) and in whether ``locationName``
renames members (JSON does, RPCv2 does not).
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

from cbor2 import CBORTag

from ..errors import ProtocolError
from .base import REQUEST_LOCATIONS, RESPONSE_LOCATIONS, b64decode, b64encode, format_timestamp, json_float, member_value_check, parse_timestamp, to_epoch


class Codec:
    def __init__(self, cbor: bool = False, rename: bool = True):
        self.cbor = cbor
        self.rename = rename

    def key(self, member_shape, member_name: str) -> str:
        if self.rename:
            return member_shape.serialization.get("name", member_name)
        return member_name

    # -- reading ---------------------------------------------------------------
    def read(self, shape, value: Any) -> Any:
        if value is None:
            return None
        t = shape.type_name
        if t == "structure":
            if shape.is_document_type:
                return value
            if not isinstance(value, dict):
                raise ProtocolError(f"Expected an object for {shape.name}, got {type(value).__name__}")
            out = {}
            for member_name, member_shape in shape.members.items():
                if member_shape.serialization.get("location") in REQUEST_LOCATIONS:
                    continue
                raw = value.get(self.key(member_shape, member_name))
                if raw is not None:
                    out[member_name] = self.read(member_shape, raw)
            return out
        if t == "list":
            if not isinstance(value, list):
                raise ProtocolError(f"Expected a list for {shape.name}, got {type(value).__name__}")
            return [self.read(shape.member, v) for v in value]
        if t == "map":
            if not isinstance(value, dict):
                raise ProtocolError(f"Expected a map for {shape.name}, got {type(value).__name__}")
            return {k: self.read(shape.value, v) for k, v in value.items()}
        if t == "timestamp":
            if isinstance(value, _dt.datetime):
                return to_epoch(value)
            if isinstance(value, CBORTag):
                value = value.value
            if isinstance(value, bool):
                raise ProtocolError("Expected a timestamp, got a boolean")
            if isinstance(value, (int, float)):
                return value
            if isinstance(value, str):
                return parse_timestamp(value, shape.serialization.get("timestampFormat"))
            raise ProtocolError(f"Expected a timestamp, got {type(value).__name__}")
        if t == "blob":
            if isinstance(value, (bytes, bytearray)):
                return bytes(value)
            if isinstance(value, str):
                return b64decode(value)
            raise ProtocolError(f"Expected a blob, got {type(value).__name__}")
        return member_value_check(shape, value)

    # -- writing ---------------------------------------------------------------
    def write(self, shape, value: Any) -> Any:
        t = shape.type_name
        if t == "structure":
            if shape.is_document_type:
                return value
            out = {}
            for member_name, member_shape in shape.members.items():
                v = value.get(member_name)
                if v is None or member_shape.serialization.get("location") in RESPONSE_LOCATIONS:
                    continue
                out[self.key(member_shape, member_name)] = self.write(member_shape, v)
            return out
        if t == "list":
            return [None if v is None else self.write(shape.member, v) for v in value]
        if t == "map":
            return {k: (None if v is None else self.write(shape.value, v)) for k, v in value.items()}
        if t == "timestamp":
            if self.cbor:
                return CBORTag(1, _epoch_number(value))
            fmt = shape.serialization.get("timestampFormat") or "unixTimestamp"
            return format_timestamp(value, fmt)
        if t == "blob":
            if self.cbor:
                return value.encode() if isinstance(value, str) else bytes(value)
            return b64encode(value)
        if t in ("float", "double"):
            if self.cbor:
                return float(value)
            return json_float(value)
        if t in ("integer", "long", "short", "byte"):
            return int(value)
        if t == "boolean":
            return bool(value)
        return value


def _epoch_number(value: Any) -> float | int:
    epoch = to_epoch(value)
    if isinstance(epoch, float) and epoch.is_integer():
        return int(epoch)
    return round(epoch, 3) if isinstance(epoch, float) and not math.isnan(epoch) else epoch
