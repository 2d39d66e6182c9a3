"""PutMetricData, GetMetricStatistics and ListMetrics."""

from __future__ import annotations

import math

from ...aws.errors import AwsError
from ...core import pagination
from .runtime import service
from .metrics import LISTED_FOR, dims_of
from .stats import BASIC, parse_extended

MAX_VALUE = 2.0 ** 360
MAX_VALUES = 150
MAX_GMS_POINTS = 1440
PAST_LIMIT = 14 * 86400
FUTURE_LIMIT = 2 * 3600
LIST_PAGE = 500
HIGH_RES_PERIODS = (1, 5, 10, 20, 30)


def invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message)


def combination(message: str) -> AwsError:
    return AwsError("InvalidParameterCombination", message)


def dims_dict(dims: list[dict] | None) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in dims or []}


def check_value(value: float, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) \
            or math.isinf(value) or abs(value) > MAX_VALUE or (value != 0 and abs(value) < 1.0 / MAX_VALUE):
        raise invalid(f"The value {value} for parameter {where} is invalid.")
    return float(value)


def check_period(period: int, name: str = "Period") -> None:
    if period not in HIGH_RES_PERIODS and period % 60:
        raise invalid(f"The parameter {name} must be 1, 5, 10, 20, 30, or a multiple of 60.")


def round_start(start: float, now: float) -> float:
    """GetMetricStatistics and GetMetricData round StartTime down by its age, as AWS documents."""
    age = now - start
    step = 60 if age < 15 * 86400 else 300 if age < 63 * 86400 else 3600
    return math.floor(start / step) * step


# -- PutMetricData --------------------------------------------------------------------------------


def _sample(datum: dict, where: str) -> tuple[float, float, float, float, list | None]:
    has_value, has_set, has_values = "Value" in datum, "StatisticValues" in datum, bool(datum.get("Values"))
    given = [n for n, present in (("Value", has_value), ("StatisticValues", has_set), ("Values", has_values))
             if present]
    if len(given) > 1:
        raise combination(f"The parameters {where}.{given[0]} and {where}.{given[1]} are mutually exclusive "
                          "and you have specified both.")
    if has_value:
        v = check_value(datum["Value"], f"{where}.Value")
        return 1.0, v, v, v, [(v, 1.0)]
    if has_set:
        s = datum["StatisticValues"]
        n = check_value(s["SampleCount"], f"{where}.StatisticValues.SampleCount")
        total = check_value(s["Sum"], f"{where}.StatisticValues.Sum")
        lo = check_value(s["Minimum"], f"{where}.StatisticValues.Minimum")
        hi = check_value(s["Maximum"], f"{where}.StatisticValues.Maximum")
        if n <= 0:
            raise invalid(f"The parameter {where}.StatisticValues.SampleCount must be greater than 0.")
        if lo > hi:
            raise invalid(f"The parameter {where}.StatisticValues.Minimum must be less than or equal to "
                          f"{where}.StatisticValues.Maximum.")
        return n, total, lo, hi, None
    if has_values:
        values = datum["Values"]
        counts = datum.get("Counts") or [1.0] * len(values)
        if len(values) > MAX_VALUES:
            raise invalid(f"The collection {where}.Values must not have a size greater than {MAX_VALUES}.")
        if len(counts) != len(values):
            raise invalid(f"The parameters {where}.Values and {where}.Counts must be of the same size.")
        pairs = []
        for i, (v, c) in enumerate(zip(values, counts), 1):
            v = check_value(v, f"{where}.Values.member.{i}")
            c = check_value(c, f"{where}.Counts.member.{i}")
            if c < 0:
                raise invalid(f"The value {c} for parameter {where}.Counts.member.{i} is invalid.")
            if c > 0:
                pairs.append((v, c))
        if not pairs:
            raise invalid(f"The parameter {where}.Counts must contain a count greater than 0.")
        n = sum(c for _, c in pairs)
        return n, sum(v * c for v, c in pairs), min(v for v, _ in pairs), max(v for v, _ in pairs), pairs
    raise AwsError("MissingParameter", f"The parameter {where}.Value is required.")


def put_metric_data(ctx, p):
    namespace = p["Namespace"]
    if namespace.startswith("AWS/"):
        raise invalid(f"The value {namespace} for parameter Namespace is invalid.")
    data = list(p.get("MetricData") or [])
    for entity in p.get("EntityMetricData") or []:
        data.extend(entity.get("MetricData") or [])
    if not data:
        raise AwsError("MissingParameter", "The parameter MetricData is required.")
    if len(data) > 1000:
        raise invalid("The collection MetricData must not have a size greater than 1000.")
    now = ctx.now()
    samples = []
    for i, datum in enumerate(data, 1):
        where = f"MetricData.member.{i}"
        n, total, lo, hi, raw = _sample(datum, where)
        ts = datum.get("Timestamp", now)
        if ts < now - PAST_LIMIT:
            raise invalid(f"The parameter {where}.Timestamp must specify a time no more than two weeks in the past.")
        if ts > now + FUTURE_LIMIT:
            raise invalid(f"The parameter {where}.Timestamp must specify a time no more than two hours in the "
                          "future.")
        res = datum.get("StorageResolution", 60)
        if res not in (1, 60):
            raise invalid(f"The value {res} for parameter {where}.StorageResolution is invalid.")
        dims = dims_dict(datum.get("Dimensions"))
        if len(dims) != len(datum.get("Dimensions") or []):
            raise invalid(f"No metric may have duplicate dimension names ({where}.Dimensions).")
        samples.append((namespace, datum["MetricName"], dims, ts, datum.get("Unit", "None"), res, n, total, lo, hi,
                        raw, max(ts, now)))
    service(ctx).metrics.put(ctx.scope, samples)
    return {}


# -- GetMetricStatistics --------------------------------------------------------------------------

_BASIC_AT = {"SampleCount": 0, "Sum": 1, "Minimum": 2, "Maximum": 3, "Average": 4}


def get_metric_statistics(ctx, p):
    stats, extended = p.get("Statistics") or [], p.get("ExtendedStatistics") or []
    if bool(stats) == bool(extended):
        raise combination("Must specify either Statistics or ExtendedStatistics, but not both.")
    for name in extended:
        if parse_extended(name) is None:
            raise invalid(f"The value {name} for parameter ExtendedStatistics is not supported.")
    if len(stats) + len(extended) > 10:
        raise invalid("The collection Statistics and ExtendedStatistics must not have more than 10 members.")
    period = p["Period"]
    check_period(period)
    start, end = p["StartTime"], p["EndTime"]
    if start >= end:
        raise invalid("The parameter StartTime must be less than the parameter EndTime.")
    start = round_start(start, ctx.now())
    points = math.ceil((end - start) / period)
    if points > MAX_GMS_POINTS:
        raise combination(f"You have requested up to {points:,} datapoints, which exceeds the limit of "
                          f"{MAX_GMS_POINTS:,}. You may reduce the datapoints requested by increasing Period, "
                          "or decreasing the time range.")
    unit = p.get("Unit")
    cw = service(ctx)
    mid = cw.metrics.find(ctx.scope, p["Namespace"], p["MetricName"], dims_dict(p.get("Dimensions")))
    datapoints = []
    if mid is not None and not extended:
        # The basic statistics come straight from SQL's per-period sums: no per-period objects.
        picks = tuple((name, _BASIC_AT[name]) for name in stats if name in _BASIC_AT)
        for ts, u, n, total, lo, hi in cw.metrics.periods(mid, start, end, period, unit):
            point = {"Timestamp": ts, "Unit": u}
            if n > 0:
                values = (n, total, lo, hi, total / n)
                for name, i in picks:
                    point[name] = values[i]
            datapoints.append(point)
    elif mid is not None:
        buckets = cw.metrics.buckets(mid, start, end, period, unit, raw=True)
        for (ts, u), agg in sorted(buckets.items()):
            point = {"Timestamp": ts, "Unit": u}
            for name in stats:
                point[name] = agg.value(name)
            if extended:
                values = {name: agg.value(name) for name in extended}
                point["ExtendedStatistics"] = {k: v for k, v in values.items() if v is not None}
            datapoints.append(point)
    return {"Label": p["MetricName"], "Datapoints": datapoints}


# -- ListMetrics ----------------------------------------------------------------------------------


def list_metrics(ctx, p):
    now = ctx.now()
    since = now - (3 * 3600 if p.get("RecentlyActive") == "PT3H" else LISTED_FOR)
    wanted = p.get("Dimensions") or []
    rows = service(ctx).metrics.list(ctx.scope, p.get("Namespace"), p.get("MetricName"), since)
    out = []
    for namespace, name, dkey in rows:
        dims = dims_of(dkey)
        have = {d["Name"]: d["Value"] for d in dims}
        if all(f["Name"] in have and ("Value" not in f or have[f["Name"]] == f["Value"]) for f in wanted):
            out.append({"Namespace": namespace, "MetricName": name, "Dimensions": dims, "_key": f"{namespace}\0{name}\0{dkey}"})
    context = repr((p.get("Namespace"), p.get("MetricName"), wanted, p.get("RecentlyActive")))
    try:
        page, token = pagination.paginate(out, LIST_PAGE, p.get("NextToken"), key=lambda m: m["_key"],
                                          context=context)
    except pagination.InvalidToken:
        raise AwsError("InvalidNextToken", "The service cannot complete the request because the NextToken is invalid.")
    result = {"Metrics": [{k: v for k, v in m.items() if k != "_key"} for m in page]}
    if token:
        result["NextToken"] = token
    if p.get("IncludeLinkedAccounts"):
        result["OwningAccounts"] = [ctx.account] * len(page)
    return result


__all__ = ["put_metric_data", "get_metric_statistics", "list_metrics", "BASIC"]
