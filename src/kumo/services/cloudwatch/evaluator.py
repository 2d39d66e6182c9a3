"""Alarms on kumo's clock: evaluation ticks, state transitions, history, events and actions.

One clock timer ticks on every minute boundary (every 10 seconds while a
high-resolution alarm exists), as AWS evaluates alarms every minute and
high-resolution ones every 10 seconds.  A tick evaluates each metric alarm on
the last complete periods (the evaluation range ends at the last period
boundary) with ``alarm_eval``.  A change of state updates the alarm, writes
a StateUpdate history item, publishes "CloudWatch Alarm State Change" to
``kumo.events``, re-evaluates the composite alarms that mention it and, when
actions are enabled, dispatches the new state's action ARNs through
``kumo.actions``; each dispatch leaves an Action history item.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import logging
import math

from . import actions as acts
from . import alarm_eval, alarm_rule, anomaly, queries
from .alarm_eval import Point, iso_ms
from .history import History

log = logging.getLogger("kumo.cloudwatch.alarms")
KIND = "cloudwatch.alarm"
STATE_ACTIONS = {"ALARM": "AlarmActions", "OK": "OKActions", "INSUFFICIENT_DATA": "InsufficientDataActions"}


def alarm_period(alarm: dict) -> int:
    return acts._period(alarm)


def split_scope(scope: str) -> tuple[str, str]:
    account, _, region = scope.partition("/")
    return account, region


def _human(ts: float) -> str:
    d = _dt.datetime.fromtimestamp(ts, _dt.timezone.utc)
    return d.strftime("%A %d %B, %Y %H:%M:%S UTC")


class Evaluator:
    def __init__(self, kumo, cw):
        self.kumo = kumo
        self.cw = cw
        self.store = kumo.store
        self.history = History(kumo.store)
        self._timer = None
        self._due = 0.0
        self._tasks: set[asyncio.Task] = set()
        self._band: tuple[dict, dict] = ({}, {})  # the last points() call's anomaly band (lower, upper)

    # -- the tick ------------------------------------------------------------------------------
    def start(self) -> None:
        self.rearm()

    def rearm(self) -> None:
        """Arm the next tick (call after alarms change, so a new high-resolution alarm ticks at 10 s)."""
        periods = [alarm_period(a) for _, _, a in self.store.all(KIND) if a.get("_type") == "MetricAlarm"]
        if not periods:  # nothing to evaluate: no tick (composites follow their children)
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            return
        step = 10 if min(periods) < 60 else 60
        due = (math.floor(self.kumo.clock.now() / step) + 1) * step
        if self._timer is not None and not self._timer.cancelled and self._timer.when <= due:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._due = due
        self._timer = self.kumo.clock.call_at(due, self._tick)

    def _tick(self) -> None:
        at = self._due
        self._timer = None
        minute = at % 60 == 0
        for scope, _name, alarm in list(self.store.all(KIND)):
            if alarm.get("_type") != "MetricAlarm" or (alarm_period(alarm) >= 60 and not minute):
                continue
            try:
                with self.store.transaction():
                    self.evaluate(scope, alarm, at)
            except Exception:
                log.exception("evaluation of alarm %s failed", alarm.get("AlarmName"))
        self.rearm()

    # -- metric alarms ---------------------------------------------------------------------------
    def points(self, scope: str, alarm: dict, at: float) -> list[Point]:
        period = alarm_period(alarm)
        count = alarm["EvaluationPeriods"] + alarm_eval.EXTRA_PERIODS
        end = math.floor(at / period) * period
        start = end - count * period
        if alarm.get("Metrics"):
            results = queries.run(self.cw.metrics, scope, alarm["Metrics"], start, end)
            band_id = alarm.get("ThresholdMetricId")
            chosen = next(q for q in alarm["Metrics"] if q.get("ReturnData", True) and q["Id"] != band_id)
            series = results[chosen["Id"]]
            if band_id:
                lower, upper = results[band_id]
                self._band = (lower.values, upper.values)
            values = {t: (v, 0.0) for t, v in (series.values if not isinstance(series, list) else {}).items()}
        else:
            stat = {"Metric": {"Namespace": alarm["Namespace"], "MetricName": alarm["MetricName"],
                               "Dimensions": alarm.get("Dimensions", [])},
                    "Period": period, "Stat": alarm.get("ExtendedStatistic") or alarm["Statistic"]}
            if alarm.get("Unit"):
                stat["Unit"] = alarm["Unit"]
            values = queries.metric_series(self.cw.metrics, scope, stat, start, end)
        return [Point(t, *values[t]) if t in values else Point(t, None) for t in queries.grid(start, end, period)]

    def evaluate(self, scope: str, alarm: dict, at: float) -> None:
        points = self.points(scope, alarm, at)
        n = alarm["EvaluationPeriods"]
        if self._low_samples(alarm, points):
            return
        if alarm.get("ThresholdMetricId"):
            lows, highs = self._band
            verdict = anomaly.evaluate_band(points, lows, highs, m=alarm.get("DatapointsToAlarm") or n, n=n,
                                            comparison=alarm["ComparisonOperator"],
                                            treat=alarm.get("TreatMissingData", "missing"),
                                            current=alarm["StateValue"])
        else:
            verdict = alarm_eval.evaluate(points, m=alarm.get("DatapointsToAlarm") or n, n=n,
                                          comparison=alarm["ComparisonOperator"], threshold=alarm["Threshold"],
                                          treat=alarm.get("TreatMissingData", "missing"),
                                          current=alarm["StateValue"])
        if verdict is None or verdict.state == alarm["StateValue"]:
            self._repeat_scaling(scope, alarm, at)
            return
        data = alarm_eval.reason_data(verdict, points, now=at, period=alarm_period(alarm),
                                      threshold=alarm.get("Threshold", 0.0),
                                      statistic=alarm.get("ExtendedStatistic") or alarm.get("Statistic"),
                                      unit=alarm.get("Unit"), n=n)
        self.transition(scope, alarm, verdict.state, verdict.reason, data, at)

    def _low_samples(self, alarm: dict, points: list[Point]) -> bool:
        ext = alarm.get("ExtendedStatistic") or ""
        if alarm.get("EvaluateLowSampleCountPercentile") != "ignore" or not ext.startswith("p"):
            return False
        p = float(ext[1:]) / 100.0
        need = 10 / (1 - p) if p >= 0.5 and p < 1 else 10 / p if p > 0 else 0
        return any(pt.value is not None and pt.samples < need for pt in points[-alarm["EvaluationPeriods"]:])

    def _repeat_scaling(self, scope: str, alarm: dict, at: float) -> None:
        # Auto Scaling actions are invoked again for every period the alarm stays in the state.
        if not alarm.get("ActionsEnabled", True):
            return
        arns = [a for a in alarm.get(STATE_ACTIONS[alarm["StateValue"]], []) if acts.kind_of(a) == "autoscaling"]
        last = alarm.get("_repeated", alarm.get("StateUpdatedTimestamp", at))
        if arns and at - last >= alarm_period(alarm):
            alarm["_repeated"] = at
            self.table(scope).put(alarm["AlarmName"], alarm)
            self.fire(scope, alarm, alarm["StateValue"], arns)

    # -- transitions -----------------------------------------------------------------------------
    def table(self, scope: str):
        return self.store.table(scope, KIND)

    def transition(self, scope: str, alarm: dict, state: str, reason: str, reason_data: str | None,
                   at: float, seen: set | None = None) -> None:
        old = {k: alarm.get(k) for k in ("StateValue", "StateReason", "StateReasonData", "StateUpdatedTimestamp")}
        alarm["StateValue"] = state
        alarm["StateReason"] = reason[:1023]
        if reason_data:
            alarm["StateReasonData"] = reason_data
        else:
            alarm.pop("StateReasonData", None)
        alarm["StateUpdatedTimestamp"] = at
        if old["StateValue"] != state:
            alarm["StateTransitionedTimestamp"] = at
        alarm.pop("_repeated", None)
        self.table(scope).put(alarm["AlarmName"], alarm)
        self.history.add(scope, alarm["AlarmName"], alarm["_type"], at, "StateUpdate",
                         f"Alarm updated from {old['StateValue']} to {state}",
                         {"version": "1.0", "oldState": _state_json(old), "newState": _state_json(alarm)})
        account, region = split_scope(scope)
        self.kumo.events.publish(account, region, "aws.cloudwatch", "CloudWatch Alarm State Change",
                                 acts.event_detail(alarm, old), resources=[alarm["AlarmArn"]])
        if alarm.get("ActionsEnabled", True) and not self._suppressed(scope, alarm):
            self.fire(scope, alarm, old["StateValue"], alarm.get(STATE_ACTIONS[state], []))
        self.update_parents(scope, alarm, at, (seen or set()) | {alarm["AlarmName"]})

    def _suppressed(self, scope: str, alarm: dict) -> bool:
        """A composite's actions wait while its ActionsSuppressor alarm is in ALARM.

        kumo models the suppressor's ALARM state only; the wait and extension periods are stored.
        """
        suppressor = alarm.get("ActionsSuppressor")
        if alarm.get("_type") != "CompositeAlarm" or not suppressor:
            return False
        if self.state_lookup(scope)(suppressor) == "ALARM":
            alarm["ActionsSuppressedBy"] = "Alarm"
            alarm["ActionsSuppressedReason"] = f"Alarm {suppressor} is in ALARM state."
            suppressed = True
        else:
            alarm.pop("ActionsSuppressedBy", None)
            alarm.pop("ActionsSuppressedReason", None)
            suppressed = False
        self.table(scope).put(alarm["AlarmName"], alarm)
        return suppressed

    def fire(self, scope: str, alarm: dict, old_state: str, arns: list[str]) -> None:
        if not arns:
            return
        account, region = split_scope(scope)
        context = acts.notification(alarm, old_state, account, region)
        for arn in arns:
            task = asyncio.get_event_loop().create_task(
                self._dispatch(scope, alarm["AlarmName"], alarm["_type"], arn, context))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _dispatch(self, scope: str, name: str, alarm_type: str, arn: str, context: dict) -> None:
        error = None
        try:
            if not await self.kumo.actions.dispatch(arn, context):
                error = "No kumo service handles this action yet."
        except LookupError as exc:  # what the action names is gone: a failed action, not a fault of kumo
            log.warning("alarm action %s failed: %s", arn, exc)
            error = str(exc) or type(exc).__name__
        except Exception as exc:  # the action's owner failed; AWS records that in the history
            log.exception("alarm action %s failed", arn)
            error = str(exc) or type(exc).__name__
        now = self.kumo.clock.now()
        stamp = int(round(_parse_iso(context["StateChangeTime"]) * 1000))
        if error is None:
            data = {"actionState": "Succeeded", "stateUpdateTimestamp": stamp, "notificationResource": arn}
            if acts.kind_of(arn) == "sns":
                data["publishedMessage"] = json.dumps({k: v for k, v in context.items() if k != "kumo"},
                                                      separators=(",", ":"))
            summary = f"Successfully executed action {arn}"
        else:
            data = {"actionState": "Failed", "stateUpdateTimestamp": stamp, "notificationResource": arn,
                    "error": error}
            summary = f"Failed to execute action {arn}. Received error: \"{error}\""
        try:
            with self.store.transaction():
                self.history.add(scope, name, alarm_type, now, "Action", summary, data)
        except Exception:
            log.exception("could not record the action of alarm %s", name)

    # -- composite alarms ----------------------------------------------------------------------
    def state_lookup(self, scope: str):
        table = self.table(scope)
        prefix = f"arn:aws:cloudwatch:{split_scope(scope)[1]}:{split_scope(scope)[0]}:alarm:"

        def state_of(ref: str) -> str | None:
            name = ref[len(prefix):] if ref.startswith(prefix) else ref
            alarm = table.get(name)
            return alarm["StateValue"] if alarm else None
        return state_of

    def update_parents(self, scope: str, child: dict, at: float, seen: set) -> None:
        for parent in list(self.table(scope).values()):
            if parent.get("_type") != "CompositeAlarm" or parent["AlarmName"] in seen:
                continue
            refs = parent.get("_children", [])
            if child["AlarmName"] in refs or child["AlarmArn"] in refs:
                self.evaluate_composite(scope, parent, at, child, seen)

    def evaluate_composite(self, scope: str, alarm: dict, at: float, trigger: dict | None = None,
                           seen: set | None = None) -> None:
        rule = alarm_rule.parse(alarm["AlarmRule"])
        state = "ALARM" if rule.holds(self.state_lookup(scope)) else "OK"
        if state == alarm["StateValue"]:
            return
        if trigger is not None and "StateValue" in trigger:
            reason = f"{trigger['AlarmArn']} transitioned to {trigger['StateValue']} at {_human(at)}"
            data = {"triggeringAlarms": [{"arn": trigger["AlarmArn"],
                                          "state": {"value": trigger["StateValue"], "timestamp": iso_ms(at)}}]}
        else:
            reason = f"The alarm rule evaluated to {'TRUE' if state == 'ALARM' else 'FALSE'} at {_human(at)}"
            data = {"triggeringAlarms": []}
        self.transition(scope, alarm, state, reason, json.dumps(data, separators=(",", ":")), at, seen)

    async def idle(self) -> None:
        """Wait for dispatched actions to finish (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _state_json(state: dict) -> dict:
    out = {"stateValue": state["StateValue"], "stateReason": state.get("StateReason", "")}
    if state.get("StateReasonData"):
        try:
            out["stateReasonData"] = json.loads(state["StateReasonData"])
        except ValueError:
            out["stateReasonData"] = state["StateReasonData"]
    return out


def _parse_iso(text: str) -> float:
    return _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
