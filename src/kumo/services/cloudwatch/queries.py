"""Metric data queries: MetricStat and metric-math Expression, for GetMetricData and alarms."""

from __future__ import annotations

import math
import re

from ...aws.errors import AwsError
from . import anomaly, mathexpr, metrics_insights
from .mathexpr import MathError, Series
from .metric_api import check_period, dims_dict, invalid
from .stats import valid_statistic

_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
MAX_QUERIES = 500


def validation(message: str) -> AwsError:
    return AwsError("ValidationError", message, status=400)


def grid(start: float, end: float, period: int) -> list[float]:
    count = max(0, math.ceil((end - start) / period))
    return [start + i * period for i in range(count)]


def metric_series(metrics, scope: str, stat: dict, start: float, end: float) -> dict[float, tuple[float, float]]:
    """timestamp -> (value, sample count) of one MetricStat over [start, end)."""
    metric = stat["Metric"]
    mid = metrics.find(scope, metric.get("Namespace", ""), metric.get("MetricName", ""),
                       dims_dict(metric.get("Dimensions")))
    if mid is None:
        return {}
    name = stat["Stat"]
    basic = name in ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
    buckets = metrics.buckets(mid, start, end, stat["Period"], stat.get("Unit"), raw=not basic)
    merged: dict[float, object] = {}
    for (ts, _unit), agg in buckets.items():
        if ts in merged:
            merged[ts].merge(agg)
        else:
            merged[ts] = agg
    out = {}
    for ts, agg in merged.items():
        value = agg.value(name)
        if value is not None:
            out[ts] = (value, agg.n)
    return out


def check_queries(queries: list[dict], where: str = "MetricDataQueries", alarm: bool = False,
                  threshold_id: str | None = None) -> list[dict]:
    if not queries:
        raise AwsError("MissingParameter", f"The parameter {where} is required.")
    if len(queries) > MAX_QUERIES:
        raise invalid(f"The collection {where} must not have a size greater than {MAX_QUERIES}.")
    queries = [dict(q) for q in queries]
    seen = set()
    for i, q in enumerate(queries, 1):
        at = f"{where}.member.{i}"
        qid = q["Id"]
        if not _ID.match(qid):
            raise validation(f"Invalid metrics list: the Id {qid} of {at} must start with a lowercase letter "
                             "and contain only letters, numbers and underscores.")
        if qid in seen:
            raise validation(f"Invalid metrics list: the Id {qid} is used more than once.")
        seen.add(qid)
        if bool(q.get("MetricStat")) == bool(q.get("Expression")):
            raise validation(f"Invalid metrics list: {at} must have exactly one of MetricStat and Expression.")
        if q.get("MetricStat"):
            stat = q["MetricStat"]
            if not valid_statistic(stat["Stat"]):
                raise validation(f"Invalid metrics list: the statistic {stat['Stat']} of {at} is not valid.")
            check_period(stat["Period"], f"{at}.MetricStat.Period")
        elif anomaly.band_of(q["Expression"]):
            q["_band"] = anomaly.band_of(q["Expression"])
        elif metrics_insights.is_query(q["Expression"]):
            try:
                q["_sql"] = metrics_insights.parse(q["Expression"])
            except metrics_insights.InsightsError as exc:
                raise validation(f"Error in expression {qid}: {exc}")
            if q.get("Period") is None:
                raise validation(f"Invalid metrics list: {at}.Period is required for a Metrics Insights query.")
        else:
            try:
                q["_node"] = mathexpr.parse(q["Expression"])
            except MathError as exc:
                raise validation(f"Error in expression {qid}: {exc}")
        if q.get("Period") is not None:
            check_period(q["Period"], f"{at}.Period")
    ids = {q["Id"] for q in queries}
    stats = {q["Id"] for q in queries if q.get("MetricStat")}
    for q in queries:
        if "_band" in q and q["_band"][0] not in stats:
            raise validation(f"Error in expression {q['Id']}: ANOMALY_DETECTION_BAND needs the Id of a MetricStat "
                             "query.")
        if "_node" in q:
            unknown = mathexpr.references(q["_node"]) - ids - {"*"}
            if unknown:
                raise validation(f"Error in expression {q['Id']}: Unrecognized identifier {sorted(unknown)[0]}.")
    if alarm:
        returned = [q for q in queries if q.get("ReturnData", True) and q["Id"] != threshold_id]
        if len(returned) != 1:
            raise validation("Invalid metrics list: exactly one element must have ReturnData set to true.")
    return queries


def run(metrics, scope: str, queries: list[dict], start: float, end: float) -> dict[str, list[Series] | Series]:
    """Every query's result by Id (a Series, or a list of them for array-valued expressions)."""
    periods = [q["MetricStat"]["Period"] for q in queries if q.get("MetricStat")]
    default_period = min(periods) if periods else 60
    by_id = {q["Id"]: q for q in queries}
    results: dict[str, object] = {}
    active: set[str] = set()

    def stat_series(q) -> Series:
        stat = q["MetricStat"]
        period = stat["Period"]
        values = {ts: v for ts, (v, _n) in metric_series(metrics, scope, stat, start, end).items()}
        label = q.get("Label") or stat["Metric"].get("MetricName", q["Id"])
        return Series(values, label, period, q["Id"], grid(start, end, period))

    def resolve(qid: str):
        if qid in results:
            return results[qid]
        if qid in active:
            raise validation(f"Error in expression {qid}: Circular dependency between expressions.")
        q = by_id[qid]
        active.add(qid)
        if q.get("MetricStat"):
            value = stat_series(q)
        elif anomaly.band_of(q["Expression"]):
            ref, k = anomaly.band_of(q["Expression"])
            resolve(ref)
            base = by_id[ref]
            value = anomaly.band_series(metrics, metrics.store, scope, base, k, start, end,
                                        grid(start, end, base["MetricStat"]["Period"]), q["Id"], q.get("Label"))
        elif metrics_insights.is_query(q["Expression"]):
            value = insights_series(q)
        else:
            period = q.get("Period") or default_period
            env = mathexpr.Env(resolve, select_metrics, grid(start, end, period), period)
            try:
                node = q.get("_node") or mathexpr.parse(q["Expression"])
                value = mathexpr.evaluate(node, env)
            except MathError as exc:
                raise validation(f"Error in expression {qid}: {exc}")
            if not isinstance(value, (Series, list)):
                raise validation(f"Error in expression {qid}: The expression must return a time series or an "
                                 "array of time series, not a single number.")
            value = _relabel(value, q, period, env.grid)
        active.discard(qid)
        results[qid] = value
        return value

    def insights_series(q):
        sql = q.get("_sql") or metrics_insights.parse(q["Expression"])
        period = q["Period"]
        found = metrics_insights.evaluate(sql, metrics, scope, start, end, period, since=start - 15 * 86400)
        series = [Series(values, label, period, q["Id"], grid(start, end, period)) for label, values, _ in found]
        if not sql.group_by:
            one = series[0]
            return Series(one.values, q.get("Label") or q["Id"], period, q["Id"], one.grid)
        return series

    def select_metrics(part: str | None) -> list[Series]:
        return [resolve(q["Id"]) for q in queries if q.get("MetricStat") and (part is None or part in q["Id"])]

    for q in queries:
        resolve(q["Id"])
    return results


def _relabel(value, q: dict, period: int, grid_: list[float]):
    label = q.get("Label")
    if isinstance(value, Series):
        return Series(value.values, label if label is not None else q["Id"], value.period or period, q["Id"], grid_)
    out = []
    for s in value:
        name = s.label if not label else f"{label} {s.label}"
        out.append(Series(s.values, name, s.period, q["Id"], grid_))
    return out
