"""The CloudWatch service object: its metric store, alarm evaluator and the seams it serves."""

from __future__ import annotations

import logging

from ...core.hub import Datapoint
from .metrics import MetricStore

log = logging.getLogger("kumo.cloudwatch")
COMPACT_EVERY = 3600.0  # simulated seconds between retention passes


class CloudWatch:
    def __init__(self, kumo):
        self.kumo = kumo
        self.metrics = MetricStore(kumo.store)
        self._compactor = None
        from .evaluator import Evaluator

        self.evaluator = Evaluator(kumo, self)

    # -- kumo.metrics backend: datapoints that kumo measures itself ---------------------------
    def sink(self, points: list[Datapoint]) -> None:
        now = self.kumo.clock.now()
        by_scope: dict[str, list] = {}
        for d in points:
            v = float(d.value)
            by_scope.setdefault(f"{d.account}/{d.region}", []).append(
                (d.namespace, d.name, d.dimensions, d.timestamp, d.unit or "None", d.storage_resolution,
                 1.0, v, v, v, [(v, 1.0)], max(now, d.timestamp)))
        with self.kumo.store.transaction():
            for scope, samples in by_scope.items():
                self.metrics.put(scope, samples)

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        self._compact()
        self.evaluator.start()

    def _compact(self) -> None:
        try:
            with self.kumo.store.transaction():
                self.metrics.compact(self.kumo.clock.now())
                self.evaluator.history.prune(self.kumo.clock.now())
        except Exception:
            log.exception("metric retention pass failed")
        self._compactor = self.kumo.clock.call_later(COMPACT_EVERY, self._compact)

    def reset(self) -> None:
        with self.kumo.store.transaction():
            self.metrics.wipe()
            self.evaluator.history.wipe()


def service(ctx) -> CloudWatch:
    return ctx.kumo.services["cloudwatch"]
