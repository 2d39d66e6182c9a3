"""Shape-driven conversion between values and JSON or CBOR documents.

The json, rest-json and smithy-rpc-v2-cbor protocols all carry a structure as
a document; they differ in how scalars look (JSON has no bytes or dates, so
blobs are base64 and timestamps epoch numbers) and in whether ``locationName``
renames members (JSON does, RPCv2 does not).

Readers and writers are compiled once per shape: walking botocore's shape
objects for every value cost most of a large response's server time (1,440
datapoints took 10 of 12 ms of GetMetricStatistics's serialization). A
compiled function does only what its values need: a structure is a
precomputed tuple of (member, key, function) where the function is None for
values that pass through unchanged, so a list of strings costs nothing.
"""

from __future__ import annotations

import datetime as _dt
import math
import weakref
from typing import Any, Callable

from cbor2 import CBORTag

from ..errors import ProtocolError
from .base import (REQUEST_LOCATIONS, RESPONSE_LOCATIONS, b64decode, b64encode, iso8601, json_float,
                   member_value_check, parse_timestamp, rfc822, to_epoch, unix)

# A compiled function, or None where the value passes through as it is.
Fn = Callable[[Any], Any] | None


class Codec:
    def __init__(self, cbor: bool = False, rename: bool = True):
        self.cbor = cbor
        self.rename = rename
        self._writers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._readers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def key(self, member_shape, member_name: str) -> str:
        if self.rename:
            return member_shape.serialization.get("name", member_name)
        return member_name

    # -- reading ---------------------------------------------------------------
    def read(self, shape, value: Any) -> Any:
        if value is None:
            return None
        fn = self.reader(shape)
        return value if fn is None else fn(value)

    def reader(self, shape) -> Fn:
        try:
            return self._readers[shape]
        except KeyError:
            pass
        if shape.type_name == "structure" and not shape.is_document_type:
            # Registered before its members compile: recursive shapes find it.
            fn = self._readers[shape] = _read_structure(self, shape)
            return fn
        fn = self._readers[shape] = self._compile_reader(shape)
        return fn

    def _compile_reader(self, shape) -> Fn:
        t = shape.type_name
        if t == "structure":  # a document type: any JSON value
            return None
        if t == "list":
            return _read_list(shape, self.reader(shape.member))
        if t == "map":
            return _read_map(shape, self.reader(shape.value))
        if t == "timestamp":
            fmt = shape.serialization.get("timestampFormat")
            return lambda value: _read_timestamp(value, fmt)
        if t == "blob":
            return _read_blob
        if t in ("string", "character"):
            return lambda value: value if type(value) is str else member_value_check(shape, value)
        if t in ("integer", "long", "short", "byte"):
            return lambda value: value if type(value) is int else member_value_check(shape, value)
        if t in ("float", "double"):
            return lambda value: value if type(value) is float or type(value) is int \
                else member_value_check(shape, value)
        if t == "boolean":
            return lambda value: value if value is True or value is False else member_value_check(shape, value)
        return None

    # -- writing ---------------------------------------------------------------
    def write(self, shape, value: Any) -> Any:
        fn = self.writer(shape)
        return value if fn is None else fn(value)

    def writer(self, shape) -> Fn:
        try:
            return self._writers[shape]
        except KeyError:
            pass
        if shape.type_name == "structure" and not shape.is_document_type:
            fn = self._writers[shape] = _write_structure(self, shape)
            return fn
        fn = self._writers[shape] = self._compile_writer(shape)
        return fn

    def _compile_writer(self, shape) -> Fn:
        t = shape.type_name
        if t == "structure":  # a document type: written as it is
            return None
        if t == "list":
            return _write_list(self.writer(shape.member))
        if t == "map":
            return _write_map(self.writer(shape.value))
        if t == "timestamp":
            if self.cbor:
                return _cbor_timestamp
            fmt = (shape.serialization.get("timestampFormat") or "unixTimestamp").lower()
            return iso8601 if fmt == "iso8601" else rfc822 if fmt == "rfc822" else _unix
        if t == "blob":
            return _cbor_blob if self.cbor else b64encode
        if t in ("float", "double"):
            return _cbor_float if self.cbor else _json_float
        if t in ("integer", "long", "short", "byte"):
            return _int
        if t == "boolean":
            return _bool
        return None


# -- compiled pieces -------------------------------------------------------------


def _write_structure(codec: Codec, shape) -> Callable[[dict], dict]:
    plan: tuple | None = None  # built on first use, once every member's writer can be looked up

    def write_structure(value: dict) -> dict:
        nonlocal plan
        if plan is None:
            plan = tuple((name, codec.key(member, name), codec.writer(member))
                         for name, member in shape.members.items()
                         if member.serialization.get("location") not in RESPONSE_LOCATIONS)
        out = {}
        get = value.get
        for name, key, fn in plan:
            v = get(name)
            if v is not None:
                out[key] = v if fn is None else fn(v)
        return out
    return write_structure


def _write_list(fn: Fn) -> Callable[[Any], list]:
    if fn is None:
        return lambda value: value if type(value) is list else list(value)
    return lambda value: [None if v is None else fn(v) for v in value]


def _write_map(fn: Fn) -> Callable[[Any], dict]:
    if fn is None:
        return lambda value: value if type(value) is dict else dict(value.items())
    return lambda value: {k: (None if v is None else fn(v)) for k, v in value.items()}


def _unix(value: Any) -> Any:
    if type(value) is int:
        return value
    if type(value) is float:
        value = round(value, 3)
        return int(value) if value.is_integer() else value
    return unix(value)


def _cbor_timestamp(value: Any) -> CBORTag:
    return CBORTag(1, _epoch_number(value))


def _epoch_number(value: Any) -> float | int:
    epoch = value if type(value) is int or type(value) is float else to_epoch(value)
    if isinstance(epoch, float) and epoch.is_integer():
        return int(epoch)
    return round(epoch, 3) if isinstance(epoch, float) and not math.isnan(epoch) else epoch


def _cbor_blob(value: Any) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)


def _json_float(value: Any) -> Any:
    if type(value) is float and value - value == 0.0:  # finite: NaN and the infinities become AWS's strings
        return value
    return json_float(value)


def _cbor_float(value: Any) -> float:
    return value if type(value) is float else float(value)


def _int(value: Any) -> int:
    return value if type(value) is int else int(value)


def _bool(value: Any) -> bool:
    return value if value is True or value is False else bool(value)


def _read_structure(codec: Codec, shape) -> Callable[[Any], dict]:
    plan: tuple | None = None

    def read_structure(value: Any) -> dict:
        nonlocal plan
        if not isinstance(value, dict):
            raise ProtocolError(f"Expected an object for {shape.name}, got {type(value).__name__}")
        if plan is None:
            plan = tuple((name, codec.key(member, name), codec.reader(member))
                         for name, member in shape.members.items()
                         if member.serialization.get("location") not in REQUEST_LOCATIONS)
        out = {}
        get = value.get
        for name, key, fn in plan:
            raw = get(key)
            if raw is not None:
                out[name] = raw if fn is None else fn(raw)
        return out
    return read_structure


def _read_list(shape, fn: Fn) -> Callable[[Any], list]:
    def read_list(value: Any) -> list:
        if not isinstance(value, list):
            raise ProtocolError(f"Expected a list for {shape.name}, got {type(value).__name__}")
        if fn is None:
            return list(value)
        return [None if v is None else fn(v) for v in value]
    return read_list


def _read_map(shape, fn: Fn) -> Callable[[Any], dict]:
    def read_map(value: Any) -> dict:
        if not isinstance(value, dict):
            raise ProtocolError(f"Expected a map for {shape.name}, got {type(value).__name__}")
        if fn is None:
            return dict(value)
        return {k: (None if v is None else fn(v)) for k, v in value.items()}
    return read_map


def _read_timestamp(value: Any, fmt: str | None) -> Any:
    if isinstance(value, _dt.datetime):
        return to_epoch(value)
    if isinstance(value, CBORTag):
        value = value.value
    if isinstance(value, bool):
        raise ProtocolError("Expected a timestamp, got a boolean")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        return parse_timestamp(value, fmt)
    raise ProtocolError(f"Expected a timestamp, got {type(value).__name__}")


def _read_blob(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return b64decode(value)
    raise ProtocolError(f"Expected a blob, got {type(value).__name__}")
