"""EventBridge for the rest of kumo: its event pattern language, and putting an event on a bus.

SNS filter policies and Lambda's event filters are written in EventBridge's
pattern language; they parse, check and match here.  Lambda destinations put
invocation records on a bus here, which routes them exactly as PutEvents would
(rules, targets, dead-letter queues).  AWS services' own events (EC2 state
changes, alarms) reach EventBridge through the hub (kumo.core.hub), not
through here.
"""

from __future__ import annotations

import uuid
from typing import Any

from . import patterns
from .patterns import PatternError


def parse_pattern(text: str) -> dict:
    """A pattern from its JSON text; raises PatternError (a ValueError) when it is no valid pattern."""
    return patterns.parse(text)


def check_pattern(pattern: Any) -> None:
    """Raises PatternError unless every leaf of ``pattern`` is something EventBridge accepts."""
    patterns.check(pattern)


def matches(pattern: dict, event: Any) -> bool:
    return patterns.matches(pattern, event)


def put_event(kumo, bus_arn: str, *, source: str, detail_type: str, detail: dict,
              resources: list[str] | None = None) -> int:
    """Put one event on the bus ``bus_arn`` names (in its account and region); how many rules matched.

    Raises AwsError (ResourceNotFoundException) when there is no such bus.  Call it inside a store
    transaction: targets are delivered (or queued) in it.
    """
    from . import buses, routing

    parts = bus_arn.split(":")
    region, account = parts[3], parts[4]
    now = kumo.clock.now()
    bus = buses.find(kumo.store, account, region, bus_arn, now)
    event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": source,
             "account": account, "time": routing.iso(now), "region": region, "resources": list(resources or []),
             "detail": detail}
    return routing.route(kumo, account, region, bus["Name"], event)


__all__ = ["PatternError", "check_pattern", "matches", "parse_pattern", "put_event"]
