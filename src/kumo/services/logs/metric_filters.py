"""Metric filters: Put/Describe/DeleteMetricFilter, TestMetricFilter, and publishing as events arrive.

A matching event publishes its metricValue (a number, or a ``$field`` the pattern bound) to CloudWatch
through ``kumo.metrics`` at the event's timestamp, with the dimensions the filter names; a batch in which
no event matches publishes ``defaultValue`` once, when the filter has one (AWS: "the value reported to
the metric filter during a period when logs are ingested but no matching logs are found").
"""

from __future__ import annotations

import re

from ...aws.errors import AwsError
from ...core import pagination
from ...core.hub import Datapoint
from . import patterns
from .model import groups, invalid, need_group

KIND = "logs.metricfilter"
MAX_PER_GROUP = 100
MAX_DIMENSIONS = 3
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_FIELD = re.compile(r"^\$(\.[^\s]+|[A-Za-z_$][A-Za-z0-9_$]*|\d+)$")


def _table(store, scope: str):
    return store.table(scope, KIND)


def _compile(pattern: str):
    try:
        return patterns.compile_extract(pattern)
    except patterns.PatternError as exc:
        raise invalid(f"Invalid metric filter pattern: {exc}")


def _check_transformation(t: dict, pattern: str) -> None:
    value = t["metricValue"]
    if not (_NUMBER.match(value) or _FIELD.match(value)):
        raise invalid(f"Invalid metric value: {value}. The metric value must be a number or a $field "
                      "reference to a value the filter pattern extracts.")
    dims = t.get("dimensions") or {}
    if dims:
        if len(dims) > MAX_DIMENSIONS:
            raise invalid(f"A metric transformation can have at most {MAX_DIMENSIONS} dimensions.")
        if t.get("defaultValue") is not None:
            raise invalid("Dimensions cannot be used with a default value.")
        if patterns.kind_of(pattern) not in ("json", "delimited"):
            raise invalid("Dimensions can only be used with JSON or space-delimited filter patterns.")
        for key, ref in dims.items():
            if not _FIELD.match(ref):
                raise invalid(f"Invalid dimension value for {key}: {ref}. A dimension value must be a $field "
                              "reference.")


def put_metric_filter(ctx, p):
    name = p["logGroupName"]
    group = need_group(ctx, name)
    pattern = p["filterPattern"]
    _compile(pattern)
    for t in p["metricTransformations"]:
        _check_transformation(t, pattern)
    table = _table(ctx.store, ctx.scope)
    key = f"{name}:{p['filterName']}"
    mine = [k for k in table.keys() if k.startswith(f"{name}:")]
    if key not in table and len(mine) >= MAX_PER_GROUP:
        raise AwsError("LimitExceededException", "Resource limit exceeded.")
    old = table.get(key)
    record = {"filterName": p["filterName"], "filterPattern": pattern, "logGroupName": name,
              "metricTransformations": [dict(t) for t in p["metricTransformations"]],
              "creationTime": old["creationTime"] if old else int(ctx.now() * 1000),
              "applyOnTransformedLogs": bool(p.get("applyOnTransformedLogs"))}
    table.put(key, record)
    group["metricFilterCount"] = len(mine) + (0 if old else 1)
    groups(ctx).put(name, group)
    return {}


def delete_metric_filter(ctx, p):
    name = p["logGroupName"]
    group = need_group(ctx, name)
    table = _table(ctx.store, ctx.scope)
    key = f"{name}:{p['filterName']}"
    if key not in table:
        raise AwsError("ResourceNotFoundException", "The specified resource does not exist.")
    table.delete(key)
    group["metricFilterCount"] = max(0, group.get("metricFilterCount", 1) - 1)
    groups(ctx).put(name, group)
    return {}


def describe_metric_filters(ctx, p):
    name, prefix = p.get("logGroupName"), p.get("filterNamePrefix")
    metric, namespace = p.get("metricName"), p.get("metricNamespace")
    if prefix and not name:
        raise invalid("logGroupName is required when filterNamePrefix is specified.")
    if bool(metric) != bool(namespace):
        raise invalid("metricName and metricNamespace must be specified together.")
    if name:
        need_group(ctx, name)
    items = []
    for f in _table(ctx.store, ctx.scope).values():
        if name and f["logGroupName"] != name:
            continue
        if prefix and not f["filterName"].startswith(prefix):
            continue
        if metric and not any(t["metricName"] == metric and t["metricNamespace"] == namespace
                              for t in f["metricTransformations"]):
            continue
        items.append(f)
    items.sort(key=lambda f: (f["logGroupName"], f["filterName"]))
    try:
        page, token = pagination.paginate(items, p.get("limit") or 50, p.get("nextToken"),
                                          key=lambda f: f"{f['logGroupName']}:{f['filterName']}",
                                          context=repr((name, prefix, metric, namespace)))
    except pagination.InvalidToken:
        raise invalid("The specified nextToken is invalid.")
    out = {"metricFilters": [dict(f) for f in page]}
    if token:
        out["nextToken"] = token
    return out


def test_metric_filter(ctx, p):
    extract = _compile(p["filterPattern"])
    kind = patterns.kind_of(p["filterPattern"])
    out = []
    for number, message in enumerate(p["logEventMessages"], 1):
        fields = extract(message)
        if fields is None:
            continue
        values = {}
        if kind == "delimited":
            for i, value in enumerate(patterns.split_fields(message), 1):
                values[f"${i}"] = value
        out.append({"eventNumber": number, "eventMessage": message, "extractedValues": values})
    return {"matches": out}


# -- publishing ------------------------------------------------------------------------------------


def _number(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    return float(text) if _NUMBER.match(text) else None


def publish(kumo, scope: str, group: str, events: list[tuple[int, int, str]]) -> None:
    filters = [f for k, f in _table(kumo.store, scope).items() if k.startswith(f"{group}:")]
    if not filters:
        return
    account, region = scope.split("/", 1)
    points: list[Datapoint] = []
    for f in filters:
        try:
            extract = patterns.cached(f["filterPattern"])
        except patterns.PatternError:
            continue
        for t in f["metricTransformations"]:
            matched = False
            for _id, ts, message in events:
                fields = extract(message)
                if fields is None:
                    continue
                matched = True
                ref = t["metricValue"]
                value = _number(fields(ref)) if ref.startswith("$") else float(ref)
                dims = {}
                for key, dref in (t.get("dimensions") or {}).items():
                    dval = fields(dref)
                    if dval is None or isinstance(dval, (dict, list)):
                        break
                    dims[key] = str(dval).lower() if isinstance(dval, bool) else str(dval)
                else:
                    if value is not None:
                        points.append(Datapoint(account, region, t["metricNamespace"], t["metricName"], value,
                                                ts / 1000.0, dims, t.get("unit") or "None"))
            if not matched and t.get("defaultValue") is not None:
                points.append(Datapoint(account, region, t["metricNamespace"], t["metricName"],
                                        float(t["defaultValue"]), events[-1][1] / 1000.0, {},
                                        t.get("unit") or "None"))
    kumo.metrics.put(points)


def drop_group(store, scope: str, group: str) -> None:
    table = _table(store, scope)
    for key in [k for k in table.keys() if k.startswith(f"{group}:")]:
        table.delete(key)

