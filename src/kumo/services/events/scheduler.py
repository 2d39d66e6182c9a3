"""Scheduled rules fire on kumo's clock: one ``Scheduled Event`` per period to each target.

The controller keeps each enabled scheduled rule's next firing time in the
rule (``_next``) and asks to be called again then, so advancing the clock by
five minutes fires a rate(1 minute) rule five times, once at each minute.
Firings missed while kumo was down, or while the rule was disabled, are
not replayed (AWS does not replay them either): a firing more than a minute
late is skipped and the schedule carries on from now.
"""

from __future__ import annotations

import uuid

from ...core import schedules
from ...core.controllers import Controller
from . import targets
from .buses import RULE
from .routing import iso
from .rules import SCHEDULER

LATE = 60.0  # seconds after which a missed firing is skipped rather than made up


class Scheduler(Controller):
    name = SCHEDULER
    resync_interval = 300.0

    def __init__(self, kumo):
        self.kumo = kumo

    def keys(self):
        return [(scope, key) for scope, key, rule in self.kumo.store.all(RULE) if rule.get("ScheduleExpression")]

    async def reconcile(self, key):
        scope, rule_key = key
        store = self.kumo.store
        with store.transaction():
            return self._step(store.table(scope, RULE), rule_key)

    def _step(self, rules, rule_key) -> float | None:
        rule = rules.get(rule_key)
        if rule is None or not rule.get("ScheduleExpression"):
            return None
        if rule.get("State") == "DISABLED":
            if "_next" in rule:
                rule.pop("_next")
                rules.put(rule_key, rule)
            return None
        schedule = schedules.parse(rule["ScheduleExpression"])
        now = self.kumo.clock.now()
        since = rule.get("_since", rule.get("_created", now))
        due = rule.get("_next")
        if due is None:
            due = schedule.next_after(now, since) if isinstance(schedule, schedules.Rate) else schedule.next_after(now)
        if due is not None and due <= now + 1e-6:
            if now - due < LATE:
                self._fire(rule, due)
            due = schedule.next_after(max(now, due), since)
        rule["_next"] = due
        rules.put(rule_key, rule)
        return None if due is None else max(0.0, due - now)

    def _fire(self, rule: dict, when: float) -> None:
        account, region = rule["Arn"].split(":")[4], rule["Arn"].split(":")[3]
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": account,
            "time": iso(when),
            "region": region,
            "resources": [rule["Arn"]],
            "detail": {},
        }
        for target in rule["_targets"]:
            targets.deliver(self.kumo, rule, target, event)
