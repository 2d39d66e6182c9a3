"""The functions of metric math (sans-IO), as AWS's "Using metric math" tables define them."""

from __future__ import annotations

import datetime as _dt
import math
import statistics
from typing import Callable

from .mathseries import MathError, Series, _clean

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
