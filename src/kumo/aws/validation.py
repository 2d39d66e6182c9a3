"""Checks a request's parameters against the operation's model, as AWS's front door does.

Required members, types, enums, numeric ranges and lengths are checked; each
service answers with its own error code and AWS's message format
("1 validation error detected: Value null at 'roleName' failed to satisfy
constraint: Member must not be null").  Patterns are not checked: the
models write them in Java's regex dialect, which Python reads differently.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

from .errors import AwsError

# (code for a missing member, code for a bad value), where a service differs from its protocol's default.
CODES: dict[str, tuple[str, str]] = {
    "ec2": ("MissingParameter", "InvalidParameterValue"),
    "cloudwatch": ("MissingParameter", "InvalidParameterValue"),
    "logs": ("InvalidParameterException", "InvalidParameterException"),
    "sqs": ("MissingParameter", "InvalidParameterValue"),
    "sns": ("InvalidParameter", "InvalidParameter"),
    "autoscaling": ("ValidationError", "ValidationError"),
    "route53": ("InvalidInput", "InvalidInput"),
    "s3": ("InvalidRequest", "InvalidArgument"),
}
# Services whose front door accepts values outside the model's enums and answers in the operation's
# own words instead (EC2: "Invalid value 't9.huge' for InstanceType", InvalidInstanceType ...).
OPEN_ENUMS = {"ec2", "s3"}  # S3: InvalidLocationConstraint, InvalidStorageClass ...
_PROTOCOL_DEFAULT = {"query": ("ValidationError", "ValidationError"), "ec2": ("MissingParameter", "InvalidParameterValue")}
_DEFAULT = ("ValidationException", "ValidationException")
MAX_REPORTED = 10


def codes_for(service: str, protocol: str) -> tuple[str, str]:
    return CODES.get(service) or _PROTOCOL_DEFAULT.get(protocol) or _DEFAULT


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, (bytes, bytearray)):
        return "<binary>"
    return str(value)  # AWS quotes the value whole, however long


class _Problems:
    def __init__(self) -> None:
        self.missing: list[str] = []
        self.invalid: list[str] = []


# A checker is compiled once per (shape, whether enums are checked): walking the shapes for every value
# of every request cost more than reading the request (PutMetricData's 20 datapoints: 1 ms a request).
# None stands for a shape with nothing to check (a string without limits, a boolean ...), so its values
# are not visited at all. Paths are built only where a check runs or an error is reported.
Check = Callable[[Any, str, _Problems], None]
_compiled: dict[bool, weakref.WeakKeyDictionary] = {True: weakref.WeakKeyDictionary(),
                                                     False: weakref.WeakKeyDictionary()}


def checker(shape, check_enums: bool = True) -> Check | None:
    per = _compiled[check_enums]
    try:
        return per[shape]
    except KeyError:
        fn = per[shape] = _compile(shape, check_enums)
        return fn


def _compile(shape, check_enums: bool) -> Check | None:
    t = shape.type_name
    meta = shape.metadata
    lo, hi = meta.get("min"), meta.get("max")
    if t == "structure":
        return None if shape.is_document_type else _structure(shape, check_enums)
    if t == "list":
        return _list(shape, lo, hi, check_enums)
    if t == "map":
        return _map(shape, lo, hi, check_enums)
    if t == "string":
        enum = shape.enum if check_enums else None
        if not enum and lo is None and hi is None:
            return None

        def check_string(value, path, w):
            if not isinstance(value, str):
                return
            _length(w, lo, hi, len(value), value, path)
            if enum and value not in enum:
                w.invalid.append(f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                                 f"Member must satisfy enum value set: [{', '.join(enum)}]")
        return check_string
    if t == "blob":
        if lo is None and hi is None:
            return None

        def check_blob(value, path, w):
            if isinstance(value, (bytes, bytearray)):
                _length(w, lo, hi, len(value), value, path)
        return check_blob
    if t in ("integer", "long", "short", "byte", "float", "double"):
        if lo is None and hi is None:
            return None

        def check_number(value, path, w):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return
            _bounds(w, "value", lo, hi, value, value, path)
        return check_number
    return None


def _structure(shape, check_enums: bool) -> Check:
    required = tuple((name, _lower_first(name)) for name in shape.required_members)
    members: tuple | None = None  # on first use: a recursive shape's members are new objects at each depth

    def check_structure(value, path, w):
        nonlocal members
        if not isinstance(value, dict):
            return
        for name, low in required:
            if value.get(name) is None:
                w.missing.append(f"Value null at '{f'{path}.{low}' if path else low}' failed to satisfy "
                                 "constraint: Member must not be null")
        if members is None:
            members = tuple((name, _lower_first(name), fn) for name, member in shape.members.items()
                            if (fn := checker(member, check_enums)) is not None)
        for name, low, fn in members:
            v = value.get(name)
            if v is not None:
                fn(v, f"{path}.{low}" if path else low, w)
    return check_structure


def _list(shape, lo, hi, check_enums: bool) -> Check | None:
    fn = checker(shape.member, check_enums)
    if fn is None and lo is None and hi is None:
        return None

    def check_list(value, path, w):
        if not isinstance(value, list):
            return
        _length(w, lo, hi, len(value), value, path)
        if fn is not None:
            for i, item in enumerate(value, 1):
                if item is not None:
                    fn(item, f"{path}.{i}" if path else str(i), w)
    return check_list


def _map(shape, lo, hi, check_enums: bool) -> Check | None:
    key_fn, value_fn = checker(shape.key, check_enums), checker(shape.value, check_enums)
    if key_fn is None and value_fn is None and lo is None and hi is None:
        return None

    def check_map(value, path, w):
        if not isinstance(value, dict):
            return
        _length(w, lo, hi, len(value), value, path)
        for k, v in value.items():
            if key_fn is not None and k is not None:
                key_fn(k, path, w)
            if value_fn is not None and v is not None:
                value_fn(v, f"{path}.{k}", w)
    return check_map


def _length(w: _Problems, lo, hi, n: int, value: Any, path: str) -> None:
    _bounds(w, "length", lo, hi, n, value, path)


def _bounds(w: _Problems, what: str, lo, hi, measured, value: Any, path: str) -> None:
    if lo is not None and measured < lo:
        w.invalid.append(f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                         f"Member must have {what} greater than or equal to {_num(lo)}")
    if hi is not None and measured > hi:
        w.invalid.append(f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                         f"Member must have {what} less than or equal to {_num(hi)}")


def _num(x: Any) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def validate(operation, params: dict, service: str, protocol: str) -> None:
    shape = operation.input_shape
    if shape is None:
        return
    fn = checker(shape, service not in OPEN_ENUMS)
    if fn is None:
        return
    w = _Problems()
    fn(params, "", w)
    problems = w.missing + w.invalid
    if not problems:
        return
    missing_code, invalid_code = codes_for(service, protocol)
    code = missing_code if w.missing else invalid_code
    if code == "MissingParameter" and w.missing:
        # EC2-style services name the parameter instead of using the validation sentence.
        first = w.missing[0].split("'")[1].split(".")[-1]
        first = first[:1].upper() + first[1:]
        raise AwsError(code, f"The request must contain the parameter {first}")
    shown = problems[:MAX_REPORTED]
    n = len(problems)
    head = f"{n} validation error{'s' if n != 1 else ''} detected: "
    raise AwsError(code, head + "; ".join(shown))


def protocol_error_code(service: str, protocol: str, error: Exception | None = None) -> str:
    """The code for a request whose bytes could not be read (bad JSON, a string for an int ...).

    Text that is not Unicode parses but cannot be held: that is the service's validation error."""
    if getattr(error, "validation", False):
        return codes_for(service, protocol)[1]
    if protocol in ("json", "rest-json", "smithy-rpc-v2-cbor"):
        return "SerializationException"
    if protocol == "rest-xml":
        return "InvalidInput" if service == "route53" else "MalformedXML"
    return codes_for(service, protocol)[1]
