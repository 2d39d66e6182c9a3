"""EventBridge: buses, rules with AWS's pattern language, schedules on kumo's clock, SQS/SNS/Lambda targets,
archives and replays, API destinations through connections, bus permissions."""

from __future__ import annotations

from .apidestinations import Dispatcher
from .replays import Replayer
from .routing import on_hub_event
from .scheduler import Scheduler


def setup(kumo):
    kumo.controllers.register(Scheduler(kumo))
    kumo.controllers.register(Replayer(kumo))
    kumo.controllers.register(Dispatcher(kumo))
    # AWS events from kumo's own services (EC2 state changes, alarms ...) land on the default bus.
    kumo.events.subscribe(lambda event: on_hub_event(kumo, event))
    return None
