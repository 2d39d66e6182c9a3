"""Checks a request's parameters against the operation's model, as AWS's front door does.

Required members, types, enums, numeric ranges and lengths are checked; each
service answers with its own error code and AWS's message format
("1 validation error detected: Value null at 'roleName' failed to satisfy
constraint: Member must not be null").  Patterns are not checked: the
models write them in Java's regex dialect, which Python reads differently.
"""

from __future__ import annotations

from typing import Any

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
}
# Services whose front door accepts values outside the model's enums and answers in the operation's
# own words instead (EC2: "Invalid value 't9.huge' for InstanceType", InvalidInstanceType ...).
OPEN_ENUMS = {"ec2"}
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
    text = str(value)
    return text if len(text) <= 64 else text[:61] + "..."


class _Walker:
    def __init__(self, check_enums: bool = True) -> None:
        self.missing: list[str] = []
        self.invalid: list[str] = []
        self.check_enums = check_enums

    def walk(self, shape, value: Any, path: str) -> None:
        t = shape.type_name
        if value is None:
            return
        if t == "structure":
            if shape.is_document_type or not isinstance(value, dict):
                return
            for req in shape.required_members:
                if value.get(req) is None:
                    p = f"{path}.{_lower_first(req)}" if path else _lower_first(req)
                    self.missing.append(f"Value null at '{p}' failed to satisfy constraint: Member must not be null")
            for name, member in shape.members.items():
                if name in value:
                    p = f"{path}.{_lower_first(name)}" if path else _lower_first(name)
                    self.walk(member, value[name], p)
            return
        meta = shape.metadata
        if t == "list":
            if not isinstance(value, list):
                return
            self._length(meta, len(value), value, path, "length")
            for i, item in enumerate(value, 1):
                self.walk(shape.member, item, f"{path}.{i}" if path else str(i))
            return
        if t == "map":
            if not isinstance(value, dict):
                return
            self._length(meta, len(value), value, path, "length")
            for k, v in value.items():
                self.walk(shape.key, k, path)
                self.walk(shape.value, v, f"{path}.{k}")
            return
        if t == "string":
            if not isinstance(value, str):
                return
            self._length(meta, len(value), value, path, "length")
            enum = shape.enum if self.check_enums else None
            if enum and value not in enum:
                self.invalid.append(
                    f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                    f"Member must satisfy enum value set: [{', '.join(enum)}]"
                )
            return
        if t == "blob":
            if isinstance(value, (bytes, bytearray)):
                self._length(meta, len(value), value, path, "length")
            return
        if t in ("integer", "long", "short", "byte", "float", "double"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return
            lo, hi = meta.get("min"), meta.get("max")
            if lo is not None and value < lo:
                self.invalid.append(
                    f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                    f"Member must have value greater than or equal to {_num(lo)}"
                )
            if hi is not None and value > hi:
                self.invalid.append(
                    f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                    f"Member must have value less than or equal to {_num(hi)}"
                )

    def _length(self, meta: dict, n: int, value: Any, path: str, what: str) -> None:
        lo, hi = meta.get("min"), meta.get("max")
        if lo is not None and n < lo:
            self.invalid.append(
                f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                f"Member must have {what} greater than or equal to {_num(lo)}"
            )
        if hi is not None and n > hi:
            self.invalid.append(
                f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                f"Member must have {what} less than or equal to {_num(hi)}"
            )


def _num(x: Any) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def validate(operation, params: dict, service: str, protocol: str) -> None:
    shape = operation.input_shape
    if shape is None:
        return
    w = _Walker(check_enums=service not in OPEN_ENUMS)
    w.walk(shape, params, "")
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
