"""Event patterns: AWS's content-matching language, as pure functions (no I/O, no state).

EventBridge rules and SNS filter policies share it.  A pattern is a JSON
object shaped like the event: each key must match, nested objects recurse,
and each leaf is a list of alternatives, any of which may match.  A leaf
alternative is a plain value (exact match), or an operator object:

    prefix, suffix (each also {"equals-ignore-case": ...}), equals-ignore-case,
    anything-but (a value, a list, or {"prefix"|"suffix"|"wildcard"|"equals-ignore-case": ...}),
    numeric ([op, n] or [op, n, op, n]), exists, wildcard, cidr;

and ``"$or": [pattern, ...]`` matches when any of its patterns does.  When
the event holds an array, the leaf matches if any element does.

``check(pattern)`` raises PatternError with AWS's reason for a pattern
EventBridge would refuse; ``matches(pattern, event)`` answers the question.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from functools import lru_cache
from typing import Any

_MISSING = object()
_NUMERIC_OPS = ("<", "<=", "=", ">", ">=")
_OPERATORS = ("prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists", "wildcard", "cidr")


class PatternError(ValueError):
    """A pattern AWS refuses; the message is the reason AWS gives."""


# -- validation ---------------------------------------------------------------------------


def parse(text: str) -> dict:
    try:
        pattern = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise PatternError(f"Filter is not valid JSON: {exc}")
    check(pattern)
    return pattern


def check(pattern: Any, path: str = "") -> None:
    if not isinstance(pattern, dict):
        raise PatternError(f"Filter is not an object{_at(path)}")
    for key, value in pattern.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise PatternError(f"Or must have at least two alternatives{_at(where)}")
            for alternative in value:
                check(alternative, path)
        elif isinstance(value, dict):
            check(value, where)
        elif isinstance(value, list):
            if not value:
                raise PatternError(f"Empty arrays are not allowed{_at(where)}")
            for item in value:
                _check_leaf(item, where)
        else:
            raise PatternError(f"Match value must be String, number, true, false, or null{_at(where)}")


def _at(path: str) -> str:
    return f" at {path}" if path else ""


def _check_leaf(item: Any, where: str) -> None:
    if item is None or isinstance(item, (str, bool, int, float)):
        return
    if not isinstance(item, dict) or len(item) != 1:
        raise PatternError(f"Match value must be String, number, true, false, or null{_at(where)}")
    (op, arg), = item.items()
    if op not in _OPERATORS:
        raise PatternError(f"Unrecognized match type {op}{_at(where)}")
    if op in ("prefix", "suffix"):
        if isinstance(arg, dict) and set(arg) == {"equals-ignore-case"} and isinstance(arg["equals-ignore-case"], str):
            return
        if not isinstance(arg, str):
            raise PatternError(f"{op} match pattern must be a string{_at(where)}")
    elif op in ("equals-ignore-case", "wildcard"):
        if not isinstance(arg, str):
            raise PatternError(f"{op} match pattern must be a string{_at(where)}")
        if op == "wildcard" and "**" in arg:
            raise PatternError(f"Consecutive wildcard characters at {where}")
    elif op == "exists":
        if not isinstance(arg, bool):
            raise PatternError(f"exists match pattern must be either true or false{_at(where)}")
    elif op == "cidr":
        try:
            ipaddress.ip_network(arg, strict=False)
        except (TypeError, ValueError):
            raise PatternError(f"Malformed CIDR, one '/' required{_at(where)}")
    elif op == "numeric":
        _numeric_conditions(arg, where)
    elif op == "anything-but":
        if isinstance(arg, dict):
            if len(arg) != 1 or next(iter(arg)) not in ("prefix", "suffix", "wildcard", "equals-ignore-case"):
                raise PatternError(f"Unsupported anything-but pattern{_at(where)}")
            inner = next(iter(arg.values()))
            if isinstance(inner, list) and next(iter(arg)) in ("equals-ignore-case", "wildcard"):
                if not all(isinstance(x, str) for x in inner):
                    raise PatternError(f"Inside anything-but list, only strings are allowed{_at(where)}")
            elif not isinstance(inner, str):
                raise PatternError(f"Inside anything-but, the value must be a string{_at(where)}")
        elif isinstance(arg, list):
            if not arg or not (all(isinstance(x, str) for x in arg) or all(_is_number(x) for x in arg)):
                raise PatternError(f"Inside anything but list, start|null|boolean is not supported{_at(where)}")
        elif not (isinstance(arg, str) or _is_number(arg)):
            raise PatternError(f"Inside anything but list, start|null|boolean is not supported{_at(where)}")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _numeric_conditions(arg: Any, where: str = "") -> list[tuple[str, float]]:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise PatternError(f"Value of numeric must be an array of one or two comparisons{_at(where)}")
    out = []
    for op, bound in zip(arg[::2], arg[1::2]):
        if op not in _NUMERIC_OPS:
            raise PatternError(f"Unrecognized numeric range operator: {op}{_at(where)}")
        if not _is_number(bound) or math.isinf(bound) or abs(bound) > 5e9:
            raise PatternError(f"Value of {op} must be a number between -5.0e9 and 5.0e9{_at(where)}")
        out.append((op, float(bound)))
    if len(out) == 2:
        ops = {o for o, _ in out}
        lower = [b for o, b in out if o in (">", ">=")]
        upper = [b for o, b in out if o in ("<", "<=")]
        if "=" in ops or len(lower) != 1 or len(upper) != 1 or lower[0] >= upper[0]:
            raise PatternError(f"Bad numeric range{_at(where)}")
    return out


# -- matching ---------------------------------------------------------------------------------


def matches(pattern: dict, event: Any) -> bool:
    """Does ``event`` (a JSON object) match ``pattern`` (a checked pattern)?"""
    if not isinstance(event, dict):
        return False
    for key, want in pattern.items():
        if key == "$or":
            if not any(matches(alternative, event) for alternative in want):
                return False
            continue
        value = event.get(key, _MISSING)
        if isinstance(want, dict):
            if not _nested(want, value):
                return False
        elif not _leaf(want, value):
            return False
    return True


def _nested(pattern: dict, value: Any) -> bool:
    if isinstance(value, list):
        return any(_nested(pattern, item) for item in value)
    if value is _MISSING or not isinstance(value, dict):
        # Only an all-"exists: false" pattern can match a missing object.
        return value is _MISSING and _all_absent(pattern)
    return matches(pattern, value)


def _all_absent(pattern: dict) -> bool:
    for key, want in pattern.items():
        if key == "$or":
            if not any(_all_absent(p) for p in want):
                return False
        elif isinstance(want, dict):
            if not _all_absent(want):
                return False
        elif not any(isinstance(w, dict) and w.get("exists") is False for w in want):
            return False
    return True


def _leaf(alternatives: list, value: Any) -> bool:
    if value is not _MISSING and isinstance(value, dict):
        return False  # a leaf pattern never matches an object
    values = value if isinstance(value, list) else [value]
    for want in alternatives:
        if isinstance(want, dict):
            op, arg = next(iter(want.items()))
            if op == "exists":
                present = value is not _MISSING and not (isinstance(value, list) and not value)
                if present == arg:
                    return True
                continue
            if value is _MISSING:
                continue
            if any(_operator(op, arg, v) for v in values):
                return True
        elif value is not _MISSING and any(_same(want, v) for v in values):
            return True
    return False


def _same(want: Any, got: Any) -> bool:
    if isinstance(want, bool) or isinstance(got, bool) or want is None or got is None:
        return want is got or (isinstance(want, bool) and isinstance(got, bool) and want == got)
    if isinstance(want, str) or isinstance(got, str):
        return isinstance(want, str) and isinstance(got, str) and want == got
    # Numbers match as they are written: 300 matches 300, not 300.0 (use "numeric" for that).
    return type(want) is type(got) and want == got


def _operator(op: str, arg: Any, v: Any) -> bool:
    if op == "prefix":
        return _affix(arg, v, str.startswith)
    if op == "suffix":
        return _affix(arg, v, str.endswith)
    if op == "equals-ignore-case":
        return isinstance(v, str) and v.casefold() == arg.casefold()
    if op == "wildcard":
        return isinstance(v, str) and _wildcard(arg).match(v) is not None
    if op == "numeric":
        return _is_number(v) and all(_compare(v, o, b) for o, b in _numeric_conditions(arg))
    if op == "cidr":
        return _in_network(arg, v)
    if op == "anything-but":
        return _anything_but(arg, v)
    return False


def _affix(arg: Any, v: Any, test) -> bool:
    if not isinstance(v, str):
        return False
    if isinstance(arg, dict):
        return test(v.casefold(), arg["equals-ignore-case"].casefold())
    return test(v, arg)


def _anything_but(arg: Any, v: Any) -> bool:
    if isinstance(arg, dict):
        kind, inner = next(iter(arg.items()))
        if not isinstance(v, str):
            return False
        inner = inner if isinstance(inner, list) else [inner]
        if kind == "prefix":
            return not any(v.startswith(i) for i in inner)
        if kind == "suffix":
            return not any(v.endswith(i) for i in inner)
        if kind == "wildcard":
            return not any(_wildcard(i).match(v) for i in inner)
        return not any(v.casefold() == i.casefold() for i in inner)
    excluded = arg if isinstance(arg, list) else [arg]
    if v is None:
        return True
    if _is_number(v):
        return not any(_is_number(x) and float(x) == float(v) for x in excluded)
    return not any(isinstance(x, str) and x == v for x in excluded)


def _compare(v: float, op: str, bound: float) -> bool:
    v = float(v)
    return {"<": v < bound, "<=": v <= bound, "=": v == bound, ">": v > bound, ">=": v >= bound}[op]


def _in_network(cidr: str, v: Any) -> bool:
    if not isinstance(v, str):
        return False
    try:
        return ipaddress.ip_address(v) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


@lru_cache(maxsize=1024)
def _wildcard(text: str) -> re.Pattern:
    parts, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            parts.append(re.escape(text[i + 1]))
            i += 2
            continue
        parts.append(".*" if c == "*" else re.escape(c))
        i += 1
    return re.compile("".join(parts) + r"\Z", re.DOTALL)
