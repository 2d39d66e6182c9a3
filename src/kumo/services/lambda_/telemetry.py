"""What invocations leave behind: CloudWatch Logs lines and AWS/Lambda metrics.

Both are written off the invocation's path: lines and datapoints are buffered
in memory and flushed together a few tens of milliseconds later (one store
transaction per flush), so a warm invoke never waits for SQLite.  Lines keep
the time they were produced (kumo's clock); ``flush_now`` empties the buffers
at once (shutdown, and tests that read logs right away need not wait long).
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
import math
from collections import defaultdict

from ...core.hub import Datapoint

log = logging.getLogger("kumo.lambda")
# Real seconds, not kumo's: the delay batches store writes (one transaction per flush) to spare the invoke
# path real work, and nothing in kumo's world depends on it (every line and datapoint keeps its time on
# kumo's clock).  On kumo's clock logs would never show while time stands still, and at --time-scale 1000
# a flush would follow every invocation again.
FLUSH_AFTER = 0.05
NAMESPACE = "AWS/Lambda"


def iso_ms(epoch: float) -> str:
    whole = int(epoch)
    base = _dt.datetime.fromtimestamp(whole, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{int((epoch - whole) * 1000):03d}Z"


def stream_name(now: float, version: str, env_id: str) -> str:
    day = _dt.datetime.fromtimestamp(now, _dt.timezone.utc).strftime("%Y/%m/%d")
    return f"{day}/[{version}]{env_id}"


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def report_line(request_id: str, duration_ms: float, memory_mb: int, used_mb: int, init_ms: float | None,
                status: str | None = None, error_type: str | None = None) -> str:
    """AWS's REPORT line; Billed Duration counts the init phase of a cold start too (AWS since August 2025)."""
    billed = math.ceil(duration_ms + (init_ms or 0.0))
    parts = [f"REPORT RequestId: {request_id}", f"Duration: {duration_ms:.2f} ms", f"Billed Duration: {billed} ms",
             f"Memory Size: {memory_mb} MB", f"Max Memory Used: {used_mb} MB"]
    if init_ms is not None:
        parts.append(f"Init Duration: {init_ms:.2f} ms")
    if status:
        parts.append(f"Status: {status}")
    if error_type:
        parts.append(f"Error Type: {error_type}")
    return "\t".join(parts) + "\t"


class Telemetry:
    def __init__(self, kumo):
        self.kumo = kumo
        self._lines: dict[tuple[str, str, str, str], list[tuple[int, str]]] = defaultdict(list)
        self._points: list[Datapoint] = []
        self._folded: dict[tuple, list] = {}
        self._timer: asyncio.TimerHandle | None = None

    # -- logs -----------------------------------------------------------------------------------
    def line(self, account: str, region: str, group: str, stream: str, text: str, ts_ms: int | None = None) -> None:
        if ts_ms is None:
            ts_ms = int(self.kumo.clock.now() * 1000)
        self._lines[(account, region, group, stream)].append((ts_ms, text))
        self._arm()

    # -- metrics --------------------------------------------------------------------------------
    def metric(self, account: str, region: str, name: str, value: float, unit: str,
               dimensions: list[dict[str, str]], how: str = "sum") -> None:
        """A sample of ``name`` under each dimension set (AWS publishes per function, per alias/version ...).

        ``how``: "each" keeps every sample (Duration: percentiles need them); "sum" and "max" fold the
        samples of one flush (a few tens of milliseconds) into one datapoint, so a busy function costs a
        handful of datapoints a second rather than several per invocation.
        """
        now = self.kumo.clock.now()
        for dims in dimensions:
            if how == "each":
                self._points.append(Datapoint(account, region, NAMESPACE, name, float(value), now, dims, unit))
                continue
            key = (account, region, name, unit, how, tuple(sorted(dims.items())))
            seen = self._folded.get(key)
            if seen is None:
                self._folded[key] = [float(value), now]
            elif how == "max":
                seen[0] = max(seen[0], float(value))
            else:
                seen[0] += float(value)
        self._arm()

    # -- flushing -------------------------------------------------------------------------------
    def _arm(self) -> None:
        if self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._timer = loop.call_later(FLUSH_AFTER, self.flush_now)  # real time: see FLUSH_AFTER

    def flush_now(self) -> None:
        self._timer = None
        lines, self._lines = self._lines, defaultdict(list)
        points, self._points = self._points, []
        folded, self._folded = self._folded, {}
        for (account, region, name, unit, _how, dims), (value, when) in folded.items():
            points.append(Datapoint(account, region, NAMESPACE, name, value, when, dict(dims), unit))
        if lines:
            from ..logs.internal import put_events

            for (account, region, group, stream), events in lines.items():
                try:
                    put_events(self.kumo, account, region, group, stream, events)
                except Exception:
                    log.exception("could not write Lambda logs to %s", group)
        if points:
            self.kumo.metrics.put(points)

    def pending(self) -> bool:
        return bool(self._lines or self._points or self._folded)
