"""What every protocol shares: the HTTP request/response records and scalar codecs.

Parsed values follow one convention across protocols, so service code never
cares which protocol a request came in:

* timestamps are epoch seconds (float, or int when whole);
* blobs are ``bytes``;
* integers, floats and booleans are Python's own types.

Results handed to serializers may carry timestamps as epoch numbers or
``datetime`` objects, and blobs as ``bytes`` or ``str``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import email.utils
import math
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Any

from multidict import CIMultiDict

from ..errors import ProtocolError


# Where a member lives outside the body: requests bind the URI, query string and
# headers; responses bind headers and the status code (other bindings are body).
REQUEST_LOCATIONS = frozenset({"uri", "querystring", "header", "headers"})
RESPONSE_LOCATIONS = frozenset({"header", "headers", "statusCode"})


@dataclass
class HttpRequest:
    method: str
    path: str  # raw, still percent-encoded, without the query string
    query: str  # raw query string
    headers: CIMultiDict
    body: bytes = b""

    @classmethod
    def from_raw(cls, method: str, raw_path: str, headers, body: bytes = b"") -> "HttpRequest":
        path, _, query = raw_path.partition("?")
        return cls(method.upper(), path or "/", query, CIMultiDict(headers), body)


@dataclass
class HttpResponse:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    close: bool = False  # close the connection once answered
    stream: Any = None  # a streaming.FileBody to send as the body instead of ``body``


# -- timestamps --------------------------------------------------------------


def to_epoch(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a timestamp")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return value.timestamp()
    if isinstance(value, str):
        return parse_timestamp(value, None)
    raise TypeError(f"cannot use {type(value).__name__} as a timestamp")


def _whole(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def parse_timestamp(text: str, fmt: str | None) -> float | int:
    """Parse a timestamp in ``fmt`` (iso8601, rfc822, unixTimestamp), or guess when None."""
    text = text.strip()
    if not text:
        raise ProtocolError("Empty timestamp")
    f = (fmt or "").lower()
    try:
        if f == "unixtimestamp" or (not f and _looks_numeric(text)):
            return _whole(float(text))
        if f == "rfc822" or (not f and "," in text):
            parsed = email.utils.parsedate_to_datetime(text)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=_dt.timezone.utc)
            return _whole(parsed.timestamp())
        return _whole(_parse_iso8601(text))
    except ProtocolError:
        raise
    except Exception:
        raise ProtocolError(f"Invalid timestamp: {text!r}")


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _parse_iso8601(text: str) -> float:
    t = text.upper()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    # Python 3.11 reads at most 6 fractional digits; AWS sends up to 9.
    if "." in t:
        head, _, rest = t.partition(".")
        digits = ""
        for ch in rest:
            if ch.isdigit():
                digits += ch
            else:
                break
        t = head + "." + (digits[:6] or "0") + rest[len(digits):]
    parsed = _dt.datetime.fromisoformat(t)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed.timestamp()


@lru_cache(maxsize=8192)
def iso8601(value: Any) -> str:
    epoch = to_epoch(value)
    whole = math.floor(epoch)
    millis = int(round((epoch - whole) * 1000))
    if millis == 1000:
        whole, millis = whole + 1, 0
    base = _dt.datetime.fromtimestamp(whole, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{millis:03d}Z" if millis else f"{base}Z"


def rfc822(value: Any) -> str:
    return email.utils.formatdate(math.floor(to_epoch(value)), usegmt=True)


def unix(value: Any) -> float | int:
    epoch = to_epoch(value)
    return _whole(round(epoch, 3))


def format_timestamp(value: Any, fmt: str) -> Any:
    f = fmt.lower()
    if f == "iso8601":
        return iso8601(value)
    if f == "rfc822":
        return rfc822(value)
    return unix(value)


# -- other scalars -------------------------------------------------------------


def b64encode(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode()
    return base64.b64encode(bytes(value)).decode()


def b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        raise ProtocolError("Invalid base64 value")


def float_text(value: Any) -> str:
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def json_float(value: Any) -> Any:
    """A float for a JSON document: special values become AWS's strings."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def parse_scalar_text(shape, text: str, timestamp_format: str | None = None) -> Any:
    """Turn the text form of a scalar (query, XML, header, URI) into its value."""
    t = shape.type_name
    try:
        if t in ("string", "character"):
            return text
        if t in ("integer", "long", "short", "byte"):
            return int(text.strip())
        if t in ("float", "double"):
            return float(text.strip())
        if t == "boolean":
            low = text.strip().lower()
            if low in ("true", "false"):
                return low == "true"
            raise ValueError(text)
        if t == "timestamp":
            return parse_timestamp(text, timestamp_format or shape.serialization.get("timestampFormat"))
        if t == "blob":
            return b64decode(text)
    except ProtocolError:
        raise
    except (ValueError, TypeError):
        raise ProtocolError(f"Invalid value for a {t}: {text!r}")
    return text


def scalar_text(shape, value: Any, timestamp_format: str = "iso8601") -> str:
    """The text form of a scalar for query, XML and URI positions."""
    t = shape.type_name
    if t == "boolean":
        return "true" if value else "false"
    if t in ("float", "double"):
        return float_text(value)
    if t == "timestamp":
        return str(format_timestamp(value, shape.serialization.get("timestampFormat") or timestamp_format))
    if t == "blob":
        return b64encode(value)
    if t in ("integer", "long", "short", "byte"):
        return str(int(value))
    return str(value)


def member_value_check(shape, value: Any) -> Any:
    """Coerce a JSON/CBOR scalar to its shape's type; refuse the wrong kind."""
    t = shape.type_name
    if value is None:
        return None
    if t in ("string", "character"):
        if not isinstance(value, str):
            raise ProtocolError(f"Expected a string, got {type(value).__name__}")
        return value
    if t in ("integer", "long", "short", "byte"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ProtocolError(f"Expected an integer, got {_kind(value)}")
        if isinstance(value, float):
            if not value.is_integer():
                raise ProtocolError(f"Expected an integer, got {value!r}")
            value = int(value)
        return value
    if t in ("float", "double"):
        if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
            return float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ProtocolError(f"Expected a number, got {_kind(value)}")
        return value
    if t == "boolean":
        if not isinstance(value, bool):
            raise ProtocolError(f"Expected a boolean, got {_kind(value)}")
        return value
    return value


def _kind(value: Any) -> str:
    return {str: "a string", bool: "a boolean", list: "a list", dict: "an object"}.get(type(value), type(value).__name__)
