"""Suspended processes and group metrics collection of a group, and what kinds of each there are."""

from __future__ import annotations

from .model import CONTROLLER, GROUP_METRICS, PROCESSES, find_group, invalid, save_group
from .notify import iso

DEFAULT_PROCESS_REASON = "User suspended at {when}"


def _processes(p: dict) -> list[str]:
    names = p.get("ScalingProcesses") or list(PROCESSES)
    for n in names:
        if n not in PROCESSES:
            raise invalid(f"Process {n} is not a valid scaling process. Valid processes: {', '.join(PROCESSES)}")
    return names


def suspend_processes(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"])
    have = {x["ProcessName"] for x in group["SuspendedProcesses"]}
    reason = DEFAULT_PROCESS_REASON.format(when=iso(ctx.now()))
    for name in _processes(p):
        if name not in have:
            group["SuspendedProcesses"].append({"ProcessName": name, "SuspensionReason": reason})
    save_group(ctx, ctx.scope, group)
    return {}


def resume_processes(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"])
    names = set(_processes(p))
    group["SuspendedProcesses"] = [x for x in group["SuspendedProcesses"] if x["ProcessName"] not in names]
    save_group(ctx, ctx.scope, group)
    ctx.controllers.enqueue(CONTROLLER, (ctx.scope, group["AutoScalingGroupName"]))
    return {}


def describe_scaling_process_types(ctx, p):
    return {"Processes": [{"ProcessName": n} for n in PROCESSES]}


def enable_metrics_collection(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"])
    if p["Granularity"] != "1Minute":
        raise invalid(f"Invalid granularity {p['Granularity']}: the only valid value is 1Minute.")
    names = p.get("Metrics") or list(GROUP_METRICS)
    for n in names:
        if n not in GROUP_METRICS:
            raise invalid(f"Metric {n} is not a valid group metric.")
    have = {m["Metric"] for m in group["EnabledMetrics"]}
    group["EnabledMetrics"] += [{"Metric": n, "Granularity": "1Minute"} for n in names if n not in have]
    save_group(ctx, ctx.scope, group)
    return {}


def disable_metrics_collection(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"])
    names = set(p.get("Metrics") or GROUP_METRICS)
    group["EnabledMetrics"] = [m for m in group["EnabledMetrics"] if m["Metric"] not in names]
    save_group(ctx, ctx.scope, group)
    return {}


def describe_metric_collection_types(ctx, p):
    return {"Metrics": [{"Metric": n} for n in GROUP_METRICS], "Granularities": [{"Granularity": "1Minute"}]}
