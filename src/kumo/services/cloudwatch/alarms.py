"""Reading and steering alarms: DescribeAlarms*, history, SetAlarmState, actions on/off, DeleteAlarms."""

from __future__ import annotations

import json

from ...aws.errors import AwsError
from ...core import pagination
from .alarm_put import alarm_arn, camel
from .metric_api import combination, dims_dict, invalid
from .runtime import service


def _token_error() -> AwsError:
    return AwsError("InvalidNextToken", "The service cannot complete the request because the NextToken is invalid.")


def _page(items: list, p: dict, key, context: str, default: int):
    limit = p.get("MaxRecords") or default
    try:
        return pagination.paginate(items, limit, p.get("NextToken"), key=key, context=context)
    except pagination.InvalidToken:
        raise _token_error()


def _split(alarms: list[dict]) -> dict:
    return {"MetricAlarms": [a for a in alarms if a["_type"] == "MetricAlarm"],
            "CompositeAlarms": [a for a in alarms if a["_type"] == "CompositeAlarm"]}


def describe_alarms(ctx, p):
    table = ctx.table("alarm")
    everything = sorted(table.values(), key=lambda a: a["AlarmName"])
    children, parents = p.get("ChildrenOfAlarmName"), p.get("ParentsOfAlarmName")
    if children or parents:
        others = [k for k in ("AlarmNames", "AlarmNamePrefix", "AlarmTypes", "StateValue", "ActionPrefix")
                  if p.get(k)]
        if (children and parents) or others:
            raise combination("ChildrenOfAlarmName and ParentsOfAlarmName can be used only with MaxRecords and "
                              "NextToken.")
    if children:
        parent = table.get(children)
        refs = parent.get("_children", []) if parent else []
        prefix = alarm_arn(ctx, "")
        names = {r[len(prefix):] if r.startswith(prefix) else r for r in refs}
        chosen = [a for a in everything if a["AlarmName"] in names]
    elif parents:
        child = table.get(parents)
        arn = child["AlarmArn"] if child else alarm_arn(ctx, parents)
        chosen = [a for a in everything if a["_type"] == "CompositeAlarm"
                  and (parents in a.get("_children", []) or arn in a.get("_children", []))]
    else:
        if p.get("AlarmNames") and p.get("AlarmNamePrefix"):
            raise combination("AlarmNames and AlarmNamePrefix are mutually exclusive.")
        types = p.get("AlarmTypes") or ["MetricAlarm"]
        chosen = [a for a in everything if a["_type"] in types]
        if p.get("AlarmNames"):
            wanted = set(p["AlarmNames"])
            chosen = [a for a in chosen if a["AlarmName"] in wanted]
        if p.get("AlarmNamePrefix"):
            chosen = [a for a in chosen if a["AlarmName"].startswith(p["AlarmNamePrefix"])]
        if p.get("StateValue"):
            chosen = [a for a in chosen if a["StateValue"] == p["StateValue"]]
        if p.get("ActionPrefix"):
            pre = p["ActionPrefix"]
            chosen = [a for a in chosen if any(x.startswith(pre) for f in ("AlarmActions", "OKActions",
                                                                           "InsufficientDataActions")
                                               for x in a.get(f, []))]
    context = repr(sorted((k, repr(v)) for k, v in p.items() if k not in ("NextToken", "MaxRecords")))
    page, token = _page(chosen, p, lambda a: a["AlarmName"], context, 50)
    out = _split(page)
    if token:
        out["NextToken"] = token
    return out


def describe_alarms_for_metric(ctx, p):
    dims = dims_dict(p.get("Dimensions"))
    out = []
    for a in sorted(ctx.table("alarm").values(), key=lambda a: a["AlarmName"]):
        if a["_type"] != "MetricAlarm":
            continue
        metrics = [q["MetricStat"] for q in a.get("Metrics") or [] if q.get("MetricStat")]
        candidates = [{"Namespace": a.get("Namespace"), "MetricName": a.get("MetricName"),
                       "Dimensions": a.get("Dimensions", []), "Period": a.get("Period"), "Unit": a.get("Unit"),
                       "Statistic": a.get("Statistic"), "ExtendedStatistic": a.get("ExtendedStatistic")}]
        candidates += [{"Namespace": m["Metric"].get("Namespace"), "MetricName": m["Metric"].get("MetricName"),
                        "Dimensions": m["Metric"].get("Dimensions", []), "Period": m["Period"],
                        "Unit": m.get("Unit"), "Statistic": m["Stat"], "ExtendedStatistic": m["Stat"]}
                       for m in metrics]
        for c in candidates:
            if c["Namespace"] != p["Namespace"] or c["MetricName"] != p["MetricName"]:
                continue
            if p.get("Dimensions") is not None and dims_dict(c["Dimensions"]) != dims:
                continue
            if p.get("Period") is not None and c["Period"] != p["Period"]:
                continue
            if p.get("Unit") is not None and c["Unit"] != p["Unit"]:
                continue
            if p.get("Statistic") is not None and c["Statistic"] != p["Statistic"]:
                continue
            if p.get("ExtendedStatistic") is not None and c["ExtendedStatistic"] != p["ExtendedStatistic"]:
                continue
            out.append(a)
            break
    return {"MetricAlarms": out}


def describe_alarm_history(ctx, p):
    if p.get("StartDate") is not None and p.get("EndDate") is not None and p["StartDate"] > p["EndDate"]:
        raise invalid("The parameter StartDate must be less than or equal to the parameter EndDate.")
    types = p.get("AlarmTypes") or ["MetricAlarm"]
    items = service(ctx).evaluator.history.query(
        ctx.scope, alarm=p.get("AlarmName"), types=types, item=p.get("HistoryItemType"),
        start=p.get("StartDate"), end=p.get("EndDate"),
        descending=p.get("ScanBy", "TimestampDescending") == "TimestampDescending")
    for i, item in enumerate(items):
        item["_key"] = f"{i:012d}:{item['_id']}"
    context = repr(sorted((k, repr(v)) for k, v in p.items() if k not in ("NextToken", "MaxRecords")))
    page, token = _page(items, p, lambda h: h["_key"], context, 100)
    out = {"AlarmHistoryItems": page}
    if token:
        out["NextToken"] = token
    return out


def set_alarm_state(ctx, p):
    table = ctx.table("alarm")
    alarm = table.get(p["AlarmName"])
    if alarm is None:
        raise AwsError("ResourceNotFound", f"Alarm {p['AlarmName']} not found")
    data = p.get("StateReasonData")
    if data is not None:
        try:
            json.loads(data)
        except ValueError:
            raise AwsError("InvalidFormat", "StateReasonData is not valid JSON.")
    if alarm["StateValue"] == p["StateValue"]:
        alarm["StateReason"] = p["StateReason"]
        if data is not None:
            alarm["StateReasonData"] = data
        table.put(alarm["AlarmName"], alarm)
        return {}
    service(ctx).evaluator.transition(ctx.scope, alarm, p["StateValue"], p["StateReason"], data, ctx.now())
    return {}


def _set_actions(ctx, names: list[str], enabled: bool) -> dict:
    table = ctx.table("alarm")
    for name in names:
        alarm = table.get(name)
        if alarm is not None and alarm.get("ActionsEnabled", True) != enabled:
            alarm["ActionsEnabled"] = enabled
            table.put(name, alarm)
    return {}


def enable_alarm_actions(ctx, p):
    return _set_actions(ctx, p["AlarmNames"], True)


def disable_alarm_actions(ctx, p):
    return _set_actions(ctx, p["AlarmNames"], False)


def delete_alarms(ctx, p):
    table = ctx.table("alarm")
    names = p["AlarmNames"]
    if len(names) > 100:
        raise invalid("The collection AlarmNames must not have a size greater than 100.")
    missing = [n for n in names if n not in table]
    if missing:
        raise AwsError("ResourceNotFound", f"{len(missing)} of {len(set(names))} alarms were not found: "
                                           f"{', '.join(missing)}")
    remove(ctx, names)
    return {}


def remove(ctx, names: list[str]) -> None:
    """Delete the alarms (all known), with their history entries; composite parents re-evaluate."""
    table = ctx.table("alarm")
    cw = service(ctx)
    now = ctx.now()
    for name in dict.fromkeys(names):
        alarm = table.get(name)
        table.delete(name)
        cw.evaluator.history.add(ctx.scope, name, alarm["_type"], now, "ConfigurationUpdate",
                                 f'Alarm "{name}" deleted',
                                 {"version": "1.0", "type": "Delete", "deletedAlarm": camel(alarm)})
    for name in dict.fromkeys(names):
        cw.evaluator.update_parents(ctx.scope, {"AlarmName": name, "AlarmArn": alarm_arn(ctx, name)}, now,
                                    set(names))
    cw.evaluator.rearm()
