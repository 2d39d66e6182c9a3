"""CloudWatch for the rest of kumo: the alarms a service keeps for itself, and what alarms see.

Auto Scaling's target tracking policies put and delete their AlarmHigh/AlarmLow
here, list the alarms naming a policy, and read an alarm's latest metric value
when it acts (the breach size of a step policy).  Alarms are checked and stored
exactly as PutMetricAlarm would; writes run inside the caller's store
transaction.  Services that act on alarms register an action handler on the
service (``kumo.services["cloudwatch"]``'s alarm actions), not through here.
"""

from __future__ import annotations

from ...aws.context import internal_context
from .evaluator import KIND


def _ctx(kumo, scope: str, caller: str = "autoscaling"):
    account, region = scope.split("/", 1)
    return internal_context(kumo, "cloudwatch", account, region, caller=caller)


def _public(alarm: dict | None) -> dict | None:
    return None if alarm is None else {k: v for k, v in alarm.items() if not k.startswith("_")}


def put_metric_alarm(kumo, scope: str, params: dict, *, caller: str = "autoscaling") -> str:
    """Create or replace a metric alarm from PutMetricAlarm's members; returns its ARN.

    Raises AwsError as PutMetricAlarm would refuse the parameters.
    """
    from .alarm_put import store_metric_alarm

    return store_metric_alarm(_ctx(kumo, scope, caller), params)["AlarmArn"]


def delete_alarms(kumo, scope: str, names: list[str]) -> None:
    """Delete the alarms named; names no alarm has (any more) are skipped."""
    from .alarms import remove

    known = [n for n in dict.fromkeys(names) if n in kumo.store.table(scope, KIND)]
    if known:
        remove(_ctx(kumo, scope), known)


def alarm(kumo, scope: str, name: str) -> dict | None:
    """The alarm as DescribeAlarms shows it; None if there is none by that name."""
    return _public(kumo.store.table(scope, KIND).get(name))


def alarms_with_action(kumo, scope: str, action_arn: str) -> list[dict]:
    """[{AlarmName, AlarmARN}] of the alarms naming ``action_arn`` in any of their actions, by name."""
    out = []
    for a in kumo.store.table(scope, KIND).values():
        if action_arn in a.get("AlarmActions", []) + a.get("OKActions", []) + a.get("InsufficientDataActions", []):
            out.append({"AlarmName": a["AlarmName"], "AlarmARN": a["AlarmArn"]})
    return sorted(out, key=lambda a: a["AlarmName"])


def latest_value(kumo, scope: str, alarm: dict) -> float | None:
    """The alarm's metric now, as the alarm itself evaluates it; None without data (or CloudWatch)."""
    cw = kumo.services.get("cloudwatch")
    if cw is None:
        return None
    record = kumo.store.table(scope, KIND).get(alarm.get("AlarmName", "")) or alarm
    values = [pt.value for pt in cw.evaluator.points(scope, record, kumo.clock.now()) if pt.value is not None]
    return values[-1] if values else None


__all__ = ["alarm", "alarms_with_action", "delete_alarms", "latest_value", "put_metric_alarm"]
