"""What happens to log events as they arrive: metric filters publish datapoints, subscription filters deliver.

Called by PutLogEvents and by ``internal.put_events`` (Lambda, EC2, API Gateway logs) inside the
writing transaction, so a datapoint or a queued Lambda invocation commits with the events themselves.
"""

from __future__ import annotations

import logging

from .metric_filters import publish
from .subscriptions import deliver

log = logging.getLogger("kumo.logs")


def arrived(kumo, scope: str, group: str, stream: str, events: list[tuple[int, int, str]]) -> None:
    """``events``: [(event id, timestamp ms, message)] just stored in ``group``/``stream``."""
    if not events:
        return
    publish(kumo, scope, group, events)
    deliver(kumo, scope, group, stream, events)
