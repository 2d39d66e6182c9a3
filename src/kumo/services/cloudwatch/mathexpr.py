"""Metric math (sans-IO): parse an expression, evaluate it over time series.

Values are scalars (float), time series (``Series``: sparse timestamp -> value)
or arrays of them (list).  Semantics follow AWS's "Using metric math": in
arithmetic and comparisons between two series a missing value counts as 0
(over the union of timestamps); a division by zero drops the point; a series
combined with a scalar keeps the series' timestamps; comparisons and logical
operators give 1 or 0; IF, FILL, RATE and the rest behave as their tables say.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import statistics
from dataclasses import dataclass, field
from typing import Callable


class MathError(ValueError):
    pass


@dataclass
class Series:
    values: dict[float, float]
    label: str = ""
    period: int = 60
    id: str = ""
    grid: list[float] = field(default_factory=list)  # every period start of the query range

    def points(self) -> list[tuple[float, float]]:
        return sorted(self.values.items())

    def like(self, values: dict[float, float]) -> "Series":
        return Series(values, self.label, self.period, self.id, self.grid)


# -- parsing ----------------------------------------------------------------------------------------

_TOKENS = re.compile(r"""\s*(?:
    (?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<str>"[^"]*"|“[^”]*”|'[^']*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/^<>(),\[\]])
)""", re.VERBOSE)


def tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKENS.match(text, pos)
        if not m or m.end() == pos:
            raise MathError(f"Unexpected character '{text[pos:].strip()[:1]}' at position {pos}.")
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "str":
            value = value[1:-1]
        if kind == "name" and value.upper() in ("AND", "OR") and value.isupper():
            kind, value = "op", "&&" if value == "AND" else "||"
        out.append((kind, value))
    return out


_BINARY = [("||",), ("&&",), ("==", "!=", "<=", ">=", "<", ">"), ("+", "-"), ("*", "/")]


class _Parser:
    def __init__(self, toks):
        self.toks, self.pos = toks, 0

    def peek(self):
        return self.toks[self.pos] if self.pos < len(self.toks) else (None, None)

    def expect(self, value):
        kind, v = self.peek()
        if v != value or kind not in ("op",):
            raise MathError(f"Expected '{value}' but found '{v if v is not None else 'end of expression'}'.")
        self.pos += 1

    def parse(self):
        node = self.binary(0)
        if self.pos != len(self.toks):
            raise MathError(f"Unexpected '{self.toks[self.pos][1]}'.")
        return node

    def binary(self, level):
        if level == len(_BINARY):
            return self.unary()
        node = self.binary(level + 1)
        while True:
            kind, v = self.peek()
            if kind == "op" and v in _BINARY[level]:
                self.pos += 1
                node = ("bin", v, node, self.binary(level + 1))
            else:
                return node

    def unary(self):
        kind, v = self.peek()
        if kind == "op" and v == "-":
            self.pos += 1
            return ("neg", self.unary())
        if kind == "op" and v == "+":
            self.pos += 1
            return self.unary()
        return self.power()

    def power(self):
        node = self.atom()
        kind, v = self.peek()
        if kind == "op" and v == "^":
            self.pos += 1
            return ("bin", "^", node, self.unary())
        return node

    def atom(self):
        kind, v = self.peek()
        if kind is None:
            raise MathError("The expression ends too early.")
        self.pos += 1
        if kind == "num":
            return ("num", float(v))
        if kind == "str":
            return ("str", v)
        if kind == "op" and v == "(":
            node = self.binary(0)
            self.expect(")")
            return node
        if kind == "op" and v == "[":
            items = [self.binary(0)]
            while self.peek() == ("op", ","):
                self.pos += 1
                items.append(self.binary(0))
            self.expect("]")
            return ("array", items)
        if kind == "name":
            if self.peek() == ("op", "("):
                self.pos += 1
                args = []
                if self.peek() != ("op", ")"):
                    args.append(self.binary(0))
                    while self.peek() == ("op", ","):
                        self.pos += 1
                        args.append(self.binary(0))
                self.expect(")")
                return ("call", v, args)
            if v[0].islower():
                return ("ref", v)
            return ("word", v)  # REPEAT, LINEAR, ASC, DESC, AVG ... as arguments
        raise MathError(f"Unexpected '{v}'.")


def parse(text: str):
    return _Parser(tokenize(text)).parse()


def references(node) -> set[str]:
    """Ids of other queries an expression uses (METRICS() is reported as '*')."""
    out: set[str] = set()

    def walk(n):
        if n[0] == "ref":
            out.add(n[1])
        elif n[0] == "call":
            if n[1] == "METRICS":
                out.add("*")
            for a in n[2]:
                walk(a)
        elif n[0] in ("bin",):
            walk(n[2])
            walk(n[3])
        elif n[0] == "neg":
            walk(n[1])
        elif n[0] == "array":
            for a in n[1]:
                walk(a)
    walk(node)
    return out


# -- evaluation ------------------------------------------------------------------------------------

def _apply(op: str, a: float, b: float) -> float | None:
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return None if b == 0 else a / b
        if op == "^":
            r = a ** b
            return None if isinstance(r, complex) else float(r)
        if op == "==":
            return float(a == b)
        if op == "!=":
            return float(a != b)
        if op == "<=":
            return float(a <= b)
        if op == ">=":
            return float(a >= b)
        if op == "<":
            return float(a < b)
        if op == ">":
            return float(a > b)
        if op == "&&":
            return float(bool(a) and bool(b))
        if op == "||":
            return float(bool(a) or bool(b))
    except (OverflowError, ZeroDivisionError, ValueError):
        return None
    raise MathError(f"Unknown operator {op}.")


def _clean(values: dict) -> dict:
    # NaN and infinities are no datapoint (and no wire format carries them).
    return {t: v for t, v in values.items() if v is not None and math.isfinite(v)}


def combine(op: str, a, b):
    if isinstance(a, list):
        if isinstance(b, list):
            raise MathError(f"The operator {op} cannot combine two arrays of time series.")
        return [combine(op, x, b) for x in a]
    if isinstance(b, list):
        return [combine(op, a, x) for x in b]
    if isinstance(a, Series) and isinstance(b, Series):
        keys = set(a.values) | set(b.values)
        return a.like(_clean({t: _apply(op, a.values.get(t, 0.0), b.values.get(t, 0.0)) for t in keys}))
    if isinstance(a, Series):
        return a.like(_clean({t: _apply(op, v, b) for t, v in a.values.items()}))
    if isinstance(b, Series):
        return b.like(_clean({t: _apply(op, a, v) for t, v in b.values.items()}))
    r = _apply(op, a, b)
    return math.nan if r is None else r


def _map(value, fn: Callable[[float], float]):
    if isinstance(value, list):
        return [_map(v, fn) for v in value]
    if isinstance(value, Series):
        out = {}
        for t, v in value.values.items():
            try:
                out[t] = fn(v)
            except (ValueError, OverflowError):
                pass
        return value.like(_clean(out))
    return fn(value)


def _series_fn(fn):
    """Lift a function of one Series to arrays of them."""
    def lifted(value, *args):
        if isinstance(value, list):
            return [fn(v, *args) for v in value]
        if not isinstance(value, Series):
            raise MathError("This function needs a time series.")
        return fn(value, *args)
    return lifted


def _reduce(name: str, fn: Callable[[list[float]], float], missing_as_zero: bool):
    def reducer(value):
        if isinstance(value, Series):
            vals = list(value.values.values())
            return fn(vals) if vals else math.nan
        if isinstance(value, list):
            if not value:
                raise MathError(f"{name} needs at least one time series.")
            keys = set().union(*(s.values for s in value))
            out = {}
            for t in keys:
                vals = [s.values.get(t, 0.0) for s in value] if missing_as_zero else \
                    [s.values[t] for s in value if t in s.values]
                if vals:
                    out[t] = fn(vals)
            return value[0].like(_clean(out))
        raise MathError(f"{name} needs a time series or an array of time series.")
    return reducer


def _stddev(vals):
    return statistics.pstdev(vals) if len(vals) > 1 else 0.0


def _pairs(s: Series, fn):
    pts = s.points()
    return s.like({t2: fn(t1, v1, t2, v2) for (t1, v1), (t2, v2) in zip(pts, pts[1:])})


def _fill(s: Series, how):
    grid = s.grid or sorted(s.values)
    values = dict(s.values)
    if isinstance(how, str):
        pts = s.points()
        if how == "REPEAT":
            last = None
            for t in grid:
                if t in values:
                    last = values[t]
                elif last is not None:
                    values[t] = last
        elif how == "LINEAR":
            for (t1, v1), (t2, v2) in zip(pts, pts[1:]):
                for t in grid:
                    if t1 < t < t2:
                        values[t] = v1 + (v2 - v1) * (t - t1) / (t2 - t1)
        else:
            raise MathError(f"FILL does not take {how}.")
    elif isinstance(how, Series):
        for t in grid:
            if t not in values and t in how.values:
                values[t] = how.values[t]
    elif isinstance(how, (int, float)):
        if not math.isnan(how):
            for t in grid:
                values.setdefault(t, float(how))
    else:
        raise MathError("FILL takes a number, a time series, REPEAT or LINEAR.")
    return s.like(values)


def _if(cond, yes, no=None):
    if not isinstance(cond, Series):
        if isinstance(cond, (int, float)):
            chosen = yes if cond else no
            if chosen is None:
                return Series({}, period=_period_of(yes), grid=_grid_of(yes))
            return chosen
        raise MathError("IF needs a condition.")
    out = {}
    for t, c in cond.values.items():
        if c:
            if isinstance(yes, Series):
                out[t] = yes.values.get(t, 0.0)
            else:
                out[t] = yes
        elif no is not None:
            if isinstance(no, Series):
                if t in no.values:
                    out[t] = no.values[t]
            else:
                out[t] = no
    return cond.like(_clean(out))


def _period_of(v) -> int:
    return v.period if isinstance(v, Series) else 60


def _grid_of(v) -> list[float]:
    return v.grid if isinstance(v, Series) else []


_DATE_FNS = {
    "MINUTE": lambda d: d.minute, "HOUR": lambda d: d.hour, "DAY": lambda d: d.isoweekday(),
    "DATE": lambda d: d.day, "MONTH": lambda d: d.month, "YEAR": lambda d: d.year,
}


def _date_fn(name):
    def fn(s: Series):
        grid = s.grid or sorted(s.values)
        if name == "EPOCH":
            return s.like({t: float(t) for t in grid})
        get = _DATE_FNS[name]
        return s.like({t: float(get(_dt.datetime.fromtimestamp(t, _dt.timezone.utc))) for t in grid})
    return _series_fn(fn)


_REDUCERS = {"SUM": sum, "AVG": statistics.fmean, "MIN": min, "MAX": max, "STDDEV": _stddev}


def _sort(arr, how, order, limit=None):
    if not isinstance(arr, list):
        raise MathError("SORT needs an array of time series.")
    fn = _REDUCERS.get(how if isinstance(how, str) else "")
    if fn is None or how == "STDDEV" or order not in ("ASC", "DESC"):
        raise MathError("SORT takes AVG, MIN, MAX or SUM and ASC or DESC.")
    keyed = [(fn(list(s.values.values())) if s.values else -math.inf, i, s) for i, s in enumerate(arr)]
    keyed.sort(key=lambda k: (k[0], k[1]), reverse=order == "DESC")
    out = [s for _, _, s in keyed]
    return out[: int(limit)] if limit is not None else out


def _slice(arr, start, end=None):
    if not isinstance(arr, list):
        raise MathError("SLICE needs an array of time series.")
    return arr[int(start): None if end is None else int(end)]


def _pick(which):
    def fn(arr):
        if not isinstance(arr, list) or not arr:
            raise MathError(f"{which} needs a non-empty array of time series.")
        return arr[0] if which == "FIRST" else arr[-1]
    return fn


FUNCTIONS: dict[str, Callable] = {
    "ABS": lambda v: _map(v, abs),
    "CEIL": lambda v: _map(v, lambda x: float(math.ceil(x))),
    "FLOOR": lambda v: _map(v, lambda x: float(math.floor(x))),
    "LOG": lambda v: _map(v, math.log),
    "LOG10": lambda v: _map(v, math.log10),
    "SUM": _reduce("SUM", sum, True),
    "AVG": _reduce("AVG", statistics.fmean, True),
    "MIN": _reduce("MIN", min, False),
    "MAX": _reduce("MAX", max, False),
    "STDDEV": _reduce("STDDEV", _stddev, False),
    "DATAPOINT_COUNT": _reduce("DATAPOINT_COUNT", lambda vals: float(len(vals)), False),
    "DIFF": _series_fn(lambda s: _pairs(s, lambda t1, v1, t2, v2: v2 - v1)),
    "DIFF_TIME": _series_fn(lambda s: _pairs(s, lambda t1, v1, t2, v2: float(t2 - t1))),
    "RATE": _series_fn(lambda s: _pairs(s, lambda t1, v1, t2, v2: (v2 - v1) / (t2 - t1))),
    "RUNNING_SUM": _series_fn(lambda s: s.like(dict(zip([t for t, _ in s.points()],
                                                        _running([v for _, v in s.points()]))))),
    "FILL": lambda v, how: [_fill(s, how) for s in v] if isinstance(v, list) else _fill(_need_series(v), how),
    "IF": _if,
    "FIRST": _pick("FIRST"),
    "LAST": _pick("LAST"),
    "SORT": _sort,
    "SLICE": _slice,
    "REMOVE_EMPTY": lambda arr: [s for s in arr if s.values] if isinstance(arr, list) else arr,
    "METRIC_COUNT": lambda arr: float(len(arr)) if isinstance(arr, list) else 1.0,
    "PERIOD": lambda s: float(_need_series(s).period),
    **{name: _date_fn(name) for name in (*_DATE_FNS, "EPOCH")},
}
UNSUPPORTED = ("ANOMALY_DETECTION_BAND", "SEARCH", "INSIGHT_RULE_METRIC", "SERVICE_QUOTA", "LAMBDA",
               "SCHEDULED_QUERY")


def _running(vals):
    total, out = 0.0, []
    for v in vals:
        total += v
        out.append(total)
    return out


def _need_series(v) -> Series:
    if not isinstance(v, Series):
        raise MathError("This function needs a single time series.")
    return v


@dataclass
class Env:
    """What an expression can see: other queries' results by id, the request's metrics, the time grid."""

    lookup: Callable[[str], object]
    metrics: Callable[[str | None], list[Series]]
    grid: list[float]
    period: int


def evaluate(node, env: Env):
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "str":
        return node[1]
    if kind == "word":
        return node[1]
    if kind == "ref":
        return env.lookup(node[1])
    if kind == "neg":
        return combine("*", evaluate(node[1], env), -1.0)
    if kind == "array":
        out = []
        for item in node[1]:
            v = evaluate(item, env)
            if isinstance(v, list):
                out.extend(v)
            elif isinstance(v, Series):
                out.append(v)
            else:
                raise MathError("An array may hold only time series.")
        return out
    if kind == "bin":
        return combine(node[1], evaluate(node[2], env), evaluate(node[3], env))
    if kind == "call":
        name, args = node[1], node[2]
        if name == "METRICS":
            if len(args) > 1 or (args and args[0][0] != "str"):
                raise MathError("METRICS takes at most one string.")
            return env.metrics(args[0][1] if args else None)
        if name == "TIME_SERIES":
            if len(args) != 1:
                raise MathError("TIME_SERIES takes one scalar.")
            v = evaluate(args[0], env)
            if not isinstance(v, (int, float)):
                raise MathError("TIME_SERIES takes a scalar.")
            return Series({t: float(v) for t in env.grid} if not math.isnan(v) else {}, period=env.period,
                          grid=env.grid)
        if name in UNSUPPORTED:
            raise MathError(f"The function {name} is not supported by kumo.")
        fn = FUNCTIONS.get(name)
        if fn is None:
            raise MathError(f"Unknown function {name}.")
        values = [evaluate(a, env) for a in args]
        try:
            return fn(*values)
        except TypeError:
            raise MathError(f"Wrong number of arguments for {name}.")
    raise MathError(f"Cannot evaluate {kind}.")
