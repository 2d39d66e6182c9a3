"""Anomaly detection: Put/Describe/DeleteAnomalyDetector, the ANOMALY_DETECTION_BAND model, band alarms.

kumo's model (docs/cloudwatch.md): for each period t of the query, the training values are the metric's
values (its statistic, at the query's period) over the two weeks before t, leaving out the detector's
ExcludedTimeRanges.  With at least MIN_TRAINING of them, the band at t is mean ± k · stddev (population
standard deviation; k is ANOMALY_DETECTION_BAND's second argument, 2 by default); with fewer there is no
band at t.  AWS trains a seasonal machine-learning model instead; kumo's is the simple, predictable one
tests can reason about.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import json
import math
import re

from ...aws.errors import AwsError
from .alarm_eval import ALARM, OK, Point, Verdict, evaluate
from .mathexpr import Series
from .metric_api import dims_dict, invalid
from .metrics import dims_key

KIND = "cloudwatch.anomalydetector"
TRAINING = 14 * 86400
MIN_TRAINING = 3
BAND = re.compile(r"^\s*ANOMALY_DETECTION_BAND\s*\(\s*([a-z][a-zA-Z0-9_]*)\s*(?:,\s*(\d+(?:\.\d*)?)\s*)?\)\s*$")
WORDS = {"LessThanLowerOrGreaterThanUpperThreshold": "outside the band",
         "LessThanLowerThreshold": "less than the lower thresholds",
         "GreaterThanUpperThreshold": "greater than the upper thresholds"}


def band_of(expression: str) -> tuple[str, float] | None:
    m = BAND.match(expression or "")
    return (m.group(1), float(m.group(2) or 2)) if m else None


def _key(namespace: str, name: str, dims: dict, stat: str) -> str:
    return json.dumps([namespace, name, dims_key(dims), stat])


def _iso(text) -> float:
    if isinstance(text, (int, float)):
        return float(text)
    return _dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()


def excluded_of(store, scope: str, metric: dict, stat: str) -> list[tuple[float, float]]:
    record = store.table(scope, KIND).get(_key(metric.get("Namespace", ""), metric.get("MetricName", ""),
                                               dims_dict(metric.get("Dimensions")), stat))
    ranges = ((record or {}).get("Configuration") or {}).get("ExcludedTimeRanges") or []
    return [(_iso(r["StartTime"]), _iso(r["EndTime"])) for r in ranges]


def band(values: dict[float, float], grid: list[float], k: float, excluded) -> tuple[dict, dict]:
    """(lower, upper) per grid timestamp from the metric's earlier ``values``."""
    stamps = sorted(t for t in values if not any(a <= t < b for a, b in excluded))
    sums, squares = [0.0], [0.0]
    for t in stamps:
        sums.append(sums[-1] + values[t])
        squares.append(squares[-1] + values[t] ** 2)
    lower, upper = {}, {}
    for t in grid:
        lo, hi = bisect.bisect_left(stamps, t - TRAINING), bisect.bisect_left(stamps, t)
        n = hi - lo
        if n < MIN_TRAINING:
            continue
        mean = (sums[hi] - sums[lo]) / n
        var = max(0.0, (squares[hi] - squares[lo]) / n - mean * mean)
        width = k * math.sqrt(var)
        lower[t], upper[t] = mean - width, mean + width
    return lower, upper


def band_series(metrics, store, scope: str, stat_query: dict, k: float, start: float, end: float,
                grid: list[float], qid: str, label: str | None) -> list[Series]:
    from .queries import metric_series

    stat = stat_query["MetricStat"]
    history = {ts: v for ts, (v, _n) in metric_series(metrics, scope, stat, start - TRAINING, end).items()}
    lower, upper = band(history, grid, k, excluded_of(store, scope, stat["Metric"], stat["Stat"]))
    prefix = f"{label} " if label else ""
    return [Series(lower, f"{prefix}Lower", stat["Period"], qid, grid),
            Series(upper, f"{prefix}Upper", stat["Period"], qid, grid)]


def ensure_detector(ctx, metric: dict, stat: str) -> None:
    """An alarm on a band brings its detector into being, as on AWS."""
    table = ctx.table("anomalydetector")
    key = _key(metric.get("Namespace", ""), metric.get("MetricName", ""), dims_dict(metric.get("Dimensions")), stat)
    if key not in table:
        table.put(key, _record(metric.get("Namespace", ""), metric.get("MetricName", ""),
                               metric.get("Dimensions") or [], stat, None))


def evaluate_band(points: list[Point], lows: dict, highs: dict, *, m: int, n: int, comparison: str, treat: str,
                  current: str) -> Verdict | None:
    """A band alarm's verdict: a point breaches when its value leaves the band the way ``comparison`` says."""
    def out(p: Point) -> bool:
        lo, hi = lows.get(p.timestamp), highs.get(p.timestamp)
        if lo is None or hi is None:
            return False
        below, above = p.value < lo, p.value > hi
        return {"LessThanLowerThreshold": below, "GreaterThanUpperThreshold": above}.get(comparison, below or above)

    marks = [Point(p.timestamp, None if p.value is None else (1.0 if out(p) else 0.0), p.samples) for p in points]
    verdict = evaluate(marks, m=m, n=n, comparison="GreaterThanThreshold", threshold=0.5, treat=treat,
                       current=current)
    if verdict is None or verdict.state not in (ALARM, OK):
        return verdict
    real = [p for p in points if p.value is not None][-n:]
    shown = [p for p in real if out(p) == (verdict.state == ALARM)]
    listed = ", ".join(f"{p.value!r} ({_dt.datetime.fromtimestamp(p.timestamp, _dt.timezone.utc):%d/%m/%y %H:%M:%S})"
                       for p in reversed(shown))
    rel = WORDS[comparison] if verdict.state == ALARM else f"not {WORDS[comparison]}"
    verdict.reason = (f"Thresholds Crossed: {len(shown)} out of the last {len(real)} datapoints [{listed}] "
                      f"{'was' if len(shown) == 1 else 'were'} {rel}.")
    return verdict


# -- API ---------------------------------------------------------------------------------------------


def _record(namespace, name, dims, stat, config) -> dict:
    record = {"Namespace": namespace, "MetricName": name, "Dimensions": dims or [], "Stat": stat,
              "SingleMetricAnomalyDetector": {"Namespace": namespace, "MetricName": name,
                                              "Dimensions": dims or [], "Stat": stat},
              "StateValue": "PENDING_TRAINING", "MetricCharacteristics": {"PeriodicSpikes": False}}
    if config:
        record["Configuration"] = config
    return record


def _target(p: dict) -> tuple[str, str, list, str]:
    if p.get("MetricMathAnomalyDetector"):
        raise invalid("kumo's anomaly detectors model a single metric; MetricMathAnomalyDetector is not "
                      "supported.")
    single = p.get("SingleMetricAnomalyDetector") or {}
    legacy = {k: p.get(k) for k in ("Namespace", "MetricName", "Dimensions", "Stat") if p.get(k) is not None}
    if single and legacy:
        raise invalid("SingleMetricAnomalyDetector cannot be combined with Namespace, MetricName, Dimensions "
                      "or Stat.")
    spec = single or legacy
    for field in ("Namespace", "MetricName", "Stat"):
        if not spec.get(field):
            raise AwsError("MissingParameter", f"The parameter {field} is required.")
    return spec["Namespace"], spec["MetricName"], spec.get("Dimensions") or [], spec["Stat"]


def put_anomaly_detector(ctx, p):
    from .stats import valid_statistic

    namespace, name, dims, stat = _target(p)
    if not valid_statistic(stat):
        raise invalid(f"The value {stat} for parameter Stat is invalid.")
    config = p.get("Configuration")
    for r in (config or {}).get("ExcludedTimeRanges") or []:
        if _iso(r["EndTime"]) <= _iso(r["StartTime"]):
            raise invalid("The EndTime of an excluded time range must be after its StartTime.")
    table = ctx.table("anomalydetector")
    table.put(_key(namespace, name, dims_dict(dims), stat), _record(namespace, name, dims, stat, config))
    return {}


def _state(ctx, d: dict) -> str:
    from .queries import metric_series
    from .runtime import service

    stat = {"Metric": {"Namespace": d["Namespace"], "MetricName": d["MetricName"], "Dimensions": d["Dimensions"]},
            "Stat": d["Stat"], "Period": 300}
    now = ctx.now()
    points = metric_series(service(ctx).metrics, ctx.scope, stat, now - TRAINING, now)
    return "TRAINED" if len(points) >= MIN_TRAINING else "PENDING_TRAINING"


def describe_anomaly_detectors(ctx, p):
    wanted = dims_dict(p.get("Dimensions")) if p.get("Dimensions") else None
    out = []
    for d in ctx.table("anomalydetector").values():
        if p.get("Namespace") and d["Namespace"] != p["Namespace"]:
            continue
        if p.get("MetricName") and d["MetricName"] != p["MetricName"]:
            continue
        if wanted is not None and dims_dict(d["Dimensions"]) != wanted:
            continue
        if p.get("AnomalyDetectorTypes") and "SINGLE_METRIC" not in p["AnomalyDetectorTypes"]:
            continue
        out.append({**d, "StateValue": _state(ctx, d)})
    out.sort(key=lambda d: (d["Namespace"], d["MetricName"], dims_key(dims_dict(d["Dimensions"])), d["Stat"]))
    return {"AnomalyDetectors": out[:p.get("MaxResults") or 100]}


def delete_anomaly_detector(ctx, p):
    namespace, name, dims, stat = _target(p)
    table = ctx.table("anomalydetector")
    key = _key(namespace, name, dims_dict(dims), stat)
    if key not in table:
        raise AwsError("ResourceNotFoundException", "No anomaly detection model found for the given metric "
                                                    "and statistic.")
    table.delete(key)
    return {}
