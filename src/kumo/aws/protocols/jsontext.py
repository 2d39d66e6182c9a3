"""JSON response text written straight from a shape, without building the document first.

Building a dict per structure and handing it to ``json.dumps`` walks every value twice; for a large answer
(GetMetricStatistics's 1,440 datapoints) that was most of the server's time. Here a function is generated
once per structure shape that writes each member's text itself, with the common value types inlined (a
finite float is its ``repr``, a str goes through json's own C escaper). The text is exactly what
``json.dumps(Codec.write(shape, value), separators=(",", ":"), allow_nan=False)`` gives:
tests/unit/test_document_codec.py compares the two on every operation of several services.
"""

from __future__ import annotations

import json as _json
import weakref
from functools import partial
from typing import Any, Callable

from .base import RESPONSE_LOCATIONS, b64encode, iso8601, json_float, rfc822
from .document import _unix

_enc = _json.encoder.encode_basestring_ascii  # json's own escaper (its C version where there is one)
_dumps = partial(_json.dumps, separators=(",", ":"), allow_nan=False)

Text = Callable[[Any], str]


def _any(value: Any) -> str:
    return _enc(value) if type(value) is str else _dumps(value)


def _number(value: Any) -> str:
    if type(value) is int or (type(value) is float and value - value == 0.0):
        return repr(value)
    return _dumps(value)  # NaN or an infinity: refused, as json.dumps(allow_nan=False) refuses it


def _float(value: Any) -> str:
    if type(value) is float and value - value == 0.0:
        return repr(value)
    return _dumps(json_float(value))


def _int(value: Any) -> str:
    return repr(value if type(value) is int else int(value))


def _bool(value: Any) -> str:
    return "true" if value else "false"


def _unix_text(value: Any) -> str:
    return _number(_unix(value))


def _iso_text(value: Any) -> str:
    return _enc(iso8601(value))


def _rfc_text(value: Any) -> str:
    return _enc(rfc822(value))


def _blob_text(value: Any) -> str:
    return _enc(b64encode(value))


def _key(key: Any) -> str:
    if type(key) is str:
        return _enc(key)
    return _dumps({key: 0})[1:-3]  # json's own text for a non-str key ("1", "true" ...)


# The inlined fast path of a member whose function is one of these (else the function is called).
_INLINE = {
    _any: "_enc({v}) if type({v}) is str else {f}({v})",
    _float: "repr({v}) if type({v}) is float and {v} - {v} == 0.0 else {f}({v})",
    _int: "repr({v}) if type({v}) is int else {f}({v})",
    _unix_text: "repr({v}) if type({v}) is int else {f}({v})",
    _bool: "'true' if {v} else 'false'",
}


class TextWriters:
    """The text writer of each shape, for one JSON codec (its member renames)."""

    def __init__(self, key: Callable[[Any, str], str]):
        self.key = key
        self._fns: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def text(self, shape, value: Any) -> str:
        return self.fn(shape)(value)

    def fn(self, shape) -> Text:
        fn = self._fns.get(shape)
        if fn is None:
            fn = self._fns[shape] = self._compile(shape)
        return fn

    def _compile(self, shape) -> Text:
        t = shape.type_name
        if t == "structure":
            return _any if shape.is_document_type else self._lazy(shape)
        if t == "list":
            inner = self.fn(shape.member)
            if inner is _any:
                return lambda value: _dumps(value if type(value) is list else list(value))

            def write_list(value: Any) -> str:
                f = getattr(inner, "impl", None) or inner  # a structure's own function once generated
                return "[" + ",".join(["null" if v is None else f(v) for v in value]) + "]"
            return write_list
        if t == "map":
            inner = self.fn(shape.value)
            if inner is _any:
                return lambda value: _dumps(value if type(value) is dict else dict(value.items()))
            return lambda value: "{" + ",".join([_key(k) + ":" + ("null" if v is None else inner(v))
                                                 for k, v in value.items()]) + "}"
        if t == "timestamp":
            fmt = (shape.serialization.get("timestampFormat") or "unixTimestamp").lower()
            return _iso_text if fmt == "iso8601" else _rfc_text if fmt == "rfc822" else _unix_text
        if t == "blob":
            return _blob_text
        if t in ("float", "double"):
            return _float
        if t in ("integer", "long", "short", "byte"):
            return _int
        if t == "boolean":
            return _bool
        return _any

    def _lazy(self, shape) -> Text:
        """Generated on first use: botocore resolves a recursive shape's members to new shape objects, so
        compiling ahead would never end; compiling as values arrive goes only as deep as they do."""
        def write_structure(value: Any) -> str:
            if write_structure.impl is None:
                write_structure.impl = self._structure(shape, value)
            return write_structure.impl(value)
        write_structure.impl = None
        return write_structure

    def _structure(self, shape, first: dict) -> Text:
        members = [(name, member) for name, member in shape.members.items()
                   if member.serialization.get("location") not in RESPONSE_LOCATIONS]
        if not members:
            return lambda value: "{}"
        # Values of one structure mostly carry the same members (every datapoint of a series): for the
        # members the first value carries, one %-format writes the whole object. Otherwise the members
        # that are there are joined.
        env: dict[str, Any] = {"_enc": _enc}
        lines = ["def write(value):", "    get = value.get"]
        exprs, fmt, usual = [], [], []
        for i, (name, member) in enumerate(members):
            fn = self.fn(member)
            prefix = _enc(self.key(member, name)) + ":"
            env[f"N{i}"], env[f"P{i}"], env[f"F{i}"] = name, prefix, fn
            exprs.append("(" + _INLINE.get(fn, "{f}({v})").format(f=f"F{i}", v=f"v{i}") + ")")
            lines.append(f"    v{i} = get(N{i})")
            if first.get(name) is not None:
                usual.append(i)
                fmt.append(prefix.replace("%", "%%") + "%s")
        env["FMT"] = "{" + ",".join(fmt) + "}"
        lines.append("    if " + " and ".join(f"v{i} is {'not ' if i in usual else ''}None"
                                            for i in range(len(members))) + ":")
        lines.append("        return FMT % (" + "".join(exprs[i] + ", " for i in usual) + ")")
        lines.append("    out = []")
        for i, expr in enumerate(exprs):
            lines += [f"    if v{i} is not None:", f"        out.append(P{i} + {expr})"]
        lines.append("    return '{' + ','.join(out) + '}'")
        exec("\n".join(lines), env)  # noqa: S102 - names and keys are bound as values, never as source text
        return env["write"]
