"""EventBridge: buses, rules with AWS's pattern language, schedules on kumo's clock, SQS/SNS/Lambda targets."""

from __future__ import annotations

from .routing import on_hub_event
from .scheduler import Scheduler


def setup(kumo):
    kumo.controllers.register(Scheduler(kumo))
    # AWS events from kumo's own services (EC2 state changes, alarms ...) land on the default bus.
    kumo.events.subscribe(lambda event: on_hub_event(kumo, event))
    return None
