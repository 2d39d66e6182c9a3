"""The Logs service object: its event table and the retention pass on the clock."""

from __future__ import annotations

import logging

from .events import EventStore

log = logging.getLogger("kumo.logs")
GROUP_KIND, STREAM_KIND = "logs.group", "logs.stream"
RETENTION_EVERY = 3600.0


class Logs:
    def __init__(self, kumo):
        self.kumo = kumo
        self.events = EventStore(kumo.store)
        self._timer = None
        self.query_tasks: set = set()  # Logs Insights queries in progress (insights_api.py)
        self.running_queries: set[str] = set()

    def start(self) -> None:
        self._expire()

    def _expire(self) -> None:
        """Drop events older than their group's retention (AWS deletes them within days; kumo hourly)."""
        now_ms = int(self.kumo.clock.now() * 1000)
        try:
            with self.kumo.store.transaction():
                for scope, name, group in list(self.kumo.store.all(GROUP_KIND)):
                    days = group.get("retentionInDays")
                    if days:
                        self.events.expire(scope, name, now_ms - days * 86400 * 1000)
        except Exception:
            log.exception("log retention pass failed")
        self._timer = self.kumo.clock.call_later(RETENTION_EVERY, self._expire)

    def reset(self) -> None:
        with self.kumo.store.transaction():
            self.events.wipe()


def service(ctx) -> Logs:
    return ctx.kumo.services["logs"]
