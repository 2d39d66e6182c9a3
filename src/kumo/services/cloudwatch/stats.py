"""Statistics over datapoints, as CloudWatch computes them (sans-IO).

A stored datum is a *sample set*: SampleCount, Sum, Minimum, Maximum and,
when they are known, the raw values with their counts.  Single values and
Values/Counts arrays keep their raw values; a statistic set keeps them only
in the two cases AWS documents (SampleCount 1 with Min = Max = Sum, or
Min = Max with Sum = Min x SampleCount).  Percentiles and the other extended
statistics need raw values: over a period that holds any sample set without
them they are unavailable, as on AWS.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

BASIC = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")


@dataclass
class Agg:
    n: float = 0.0
    sum: float = 0.0
    min: float = math.inf
    max: float = -math.inf
    # value -> count; None once any sample set without raw values joined
    raw: dict[float, float] | None = field(default_factory=dict)

    def add(self, n: float, total: float, lo: float, hi: float, raw: list | None) -> None:
        self.n += n
        self.sum += total
        self.min = min(self.min, lo)
        self.max = max(self.max, hi)
        if self.raw is None:
            return
        if raw is None:
            raw = raw_of_set(n, total, lo, hi)
        if raw is None:
            self.raw = None
            return
        for value, count in raw:
            self.raw[value] = self.raw.get(value, 0.0) + count

    def merge(self, other: "Agg") -> None:
        self.add(other.n, other.sum, other.min, other.max,
                 None if other.raw is None else list(other.raw.items()))
        if other.raw is None:
            self.raw = None

    def value(self, stat: str) -> float | None:
        """One statistic of this period; None where AWS has no value (no raw values for a percentile)."""
        if self.n <= 0:
            return None
        if stat == "SampleCount":
            return self.n
        if stat == "Sum":
            return self.sum
        if stat == "Minimum":
            return self.min
        if stat == "Maximum":
            return self.max
        if stat == "Average":
            return self.sum / self.n
        ext = parse_extended(stat)
        if ext is None or self.raw is None:
            return None
        return ext(sorted(self.raw.items()))


def raw_of_set(n: float, total: float, lo: float, hi: float) -> list | None:
    """Raw values implied by a statistic set, in the two cases AWS allows percentiles on one."""
    if n == 1 and lo == hi == total:
        return [(lo, 1.0)]
    if lo == hi and math.isclose(total, lo * n, rel_tol=1e-12, abs_tol=1e-12):
        return [(lo, n)]
    return None


# -- extended statistics ------------------------------------------------------------------------

_PCT = r"(\d{1,2}(?:\.\d{1,10})?|100(?:\.0{1,10})?)"
_PERCENTILE = re.compile(rf"^p{_PCT}$")
_TRIMMED = re.compile(rf"^(tm|tc|ts|wm){_PCT}$")
_RANGE = re.compile(r"^(tm|tc|ts|wm|TM|TC|TS|WM)\((\d+(?:\.\d+)?)?%:(\d+(?:\.\d+)?)?%\)$")
_RANK = re.compile(r"^PR\((-?[\d.]+(?:[eE][+-]?\d+)?)?:(-?[\d.]+(?:[eE][+-]?\d+)?)?\)$")


def percentile(pairs: list[tuple[float, float]], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the samples at or below it."""
    total = sum(c for _, c in pairs)
    rank = max(1.0, math.ceil(p / 100.0 * total - 1e-9))
    seen = 0.0
    for value, count in pairs:
        seen += count
        if seen >= rank:
            return value
    return pairs[-1][0]


def _bounds(pairs, lo_pct: float, hi_pct: float) -> tuple[float, float]:
    lo = -math.inf if lo_pct <= 0 else percentile(pairs, lo_pct)
    hi = percentile(pairs, hi_pct)
    return lo, hi


def _trimmed(kind: str, lo_pct: float, hi_pct: float):
    def compute(pairs):
        lo, hi = _bounds(pairs, lo_pct, hi_pct)
        if kind == "wm":  # winsorized: values outside the bounds count as the bounds
            vals = [(min(max(v, lo if lo != -math.inf else v), hi), c) for v, c in pairs]
            n = sum(c for _, c in vals)
            return sum(v * c for v, c in vals) / n
        inside = [(v, c) for v, c in pairs if (v > lo or lo_pct <= 0) and v <= hi]
        n = sum(c for _, c in inside)
        s = sum(v * c for v, c in inside)
        if kind == "tc":
            return n
        if kind == "ts":
            return s
        return s / n if n else None
    return compute


def parse_extended(name: str):
    """A function of sorted (value, count) pairs for an extended statistic, or None if not one."""
    m = _PERCENTILE.match(name)
    if m:
        p = float(m.group(1))
        return lambda pairs: percentile(pairs, p)
    m = _TRIMMED.match(name)
    if m:
        return _trimmed(m.group(1), 0.0, float(m.group(2)))
    m = _RANGE.match(name)
    if m:
        lo = float(m.group(2) or 0)
        hi = float(m.group(3) or 100)
        return _trimmed(m.group(1).lower(), lo, hi)
    if name == "IQM":
        return _trimmed("tm", 25.0, 75.0)
    m = _RANK.match(name)
    if m:
        lo = float(m.group(1)) if m.group(1) else -math.inf
        hi = float(m.group(2)) if m.group(2) else math.inf

        def rank(pairs):
            total = sum(c for _, c in pairs)
            inside = sum(c for v, c in pairs if lo < v <= hi)
            return 100.0 * inside / total
        return rank
    return None


def valid_statistic(name: str) -> bool:
    return name in BASIC or parse_extended(name) is not None
