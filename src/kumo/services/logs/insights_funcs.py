"""Values, comparisons, functions and aggregates of the Logs Insights query language."""

from __future__ import annotations

import datetime as _dt
import math
import re


class QueryError(ValueError):
    pass


_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")


def number(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, tuple):  # bin() result: ("time", ms)
        return float(value[1])
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER.match(value):
        return float(value)
    return None


def truthy(value) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, str):
        return value != ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value != 0
    return bool(value)


def cmp_values(op: str, a, b) -> bool:
    if a is None or b is None:
        return False
    x, y = number(a), number(b)
    if x is None or y is None:
        x, y = _text(a), _text(b)
    return {"=": x == y, "!=": x != y, "<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def show(value) -> str:
    """A value as GetQueryResults prints it."""
    if isinstance(value, tuple) and value and value[0] == "time":
        return timestamp(value[1])
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(round(value, 10))
    return _text(value)


def timestamp(ms: int) -> str:
    t = _dt.datetime.fromtimestamp(ms / 1000, _dt.timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{int(ms) % 1000:03d}"


def _str(fn):
    def wrapped(value, *rest):
        return None if value is None else fn(_text(value), *rest)
    return wrapped


def _num(fn):
    def wrapped(*values):
        nums = [number(v) for v in values]
        return None if any(n is None for n in nums) else fn(*nums)
    return wrapped


def _substr(text, start, length=None):
    if text is None:
        return None
    s, n = int(number(start) or 0), number(length)
    text = _text(text)
    return text[s:] if n is None else text[s:s + int(n)]


def _replace(text, old, new):
    return None if text is None else _text(text).replace(_text(old), _text(new))


def _strcontains(text, part):
    return None if text is None else int(_text(part) in _text(text))


FUNCTIONS = {
    "ispresent": lambda v: v is not None,
    "isempty": lambda v: v is None or v == "",
    "isblank": lambda v: v is None or (isinstance(v, str) and not v.strip()),
    "isvalidip": lambda v: v is not None and re.fullmatch(r"(\d{1,3}\.){3}\d{1,3}", _text(v)) is not None,
    "concat": lambda *vs: "".join(_text(v) for v in vs if v is not None),
    "strlen": _str(len),
    "toupper": _str(str.upper),
    "tolower": _str(str.lower),
    "trim": _str(str.strip),
    "ltrim": _str(str.lstrip),
    "rtrim": _str(str.rstrip),
    "substr": _substr,
    "replace": _replace,
    "strcontains": _strcontains,
    "coalesce": lambda *vs: next((v for v in vs if v is not None), None),
    "abs": _num(abs),
    "ceil": _num(math.ceil),
    "floor": _num(math.floor),
    "sqrt": _num(lambda x: math.sqrt(x) if x >= 0 else None),
    "log": _num(lambda x: math.log(x) if x > 0 else None),
    "greatest": _num(lambda *xs: max(xs)),
    "least": _num(lambda *xs: min(xs)),
    "frommillis": lambda v: ("time", int(number(v))) if number(v) is not None else None,
    "tomillis": lambda v: v[1] if isinstance(v, tuple) else number(v),
    "datefloor": lambda v, period: ("time", int(number(v)) // int(number(period) * 1000) * int(number(period) * 1000))
    if number(v) is not None and number(period) else None,
}


def _nums(values) -> list[float]:
    return [n for n in (number(v) for v in values) if n is not None]


def _avg(values):
    nums = _nums(values)
    return sum(nums) / len(nums) if nums else None


def _stddev(values):
    nums = _nums(values)
    if len(nums) < 2:
        return 0.0 if nums else None
    mean = sum(nums) / len(nums)
    return math.sqrt(sum((x - mean) ** 2 for x in nums) / (len(nums) - 1))


def _pct(values, p=50):
    nums = sorted(_nums(values))
    if not nums:
        return None
    rank = max(1, math.ceil(number(p) / 100 * len(nums)))
    return nums[min(rank, len(nums)) - 1]


def _by_time(values, stamps, last: bool):
    pairs = [(t, v) for t, v in zip(stamps, values) if v is not None]
    if not pairs:
        return None
    return (max if last else min)(pairs, key=lambda p: p[0])[1]


AGGREGATES = {
    "count": lambda values: sum(1 for v in values if v is not None),
    "count_distinct": lambda values: len({_text(v) for v in values if v is not None}),
    "sum": lambda values: sum(_nums(values)) if _nums(values) else None,
    "avg": _avg,
    "min": lambda values: min(_nums(values)) if _nums(values) else None,
    "max": lambda values: max(_nums(values)) if _nums(values) else None,
    "stddev": _stddev,
    "pct": _pct,
    "percentile": _pct,
    "earliest": lambda values, stamps: _by_time(values, stamps, last=False),
    "latest": lambda values, stamps: _by_time(values, stamps, last=True),
}
