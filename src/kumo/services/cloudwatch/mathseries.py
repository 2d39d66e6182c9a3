"""Values of metric math: time series, and arithmetic between them (sans-IO).

In arithmetic and comparisons between two series a missing value counts as 0
(over the union of timestamps); a division by zero drops the point; a series
combined with a scalar keeps the series' timestamps; comparisons and logical
operators give 1 or 0.  NaN and infinities are no datapoint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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
    if isinstance(a, str) or isinstance(b, str):
        raise MathError(f"The operator {op} takes numbers and time series, not {a if isinstance(a, str) else b}.")
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
