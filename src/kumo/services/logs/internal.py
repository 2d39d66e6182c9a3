"""CloudWatch Logs for the rest of kumo: the seam other services write logs through (EC2 console output,
Lambda, API Gateway).

    from kumo.services.logs.internal import put_events
    put_events(kumo, account, region, "/aws/lambda/fn", "2026/11/27/[$LATEST]abc", [(ts_ms, "START ...")])

Creates the group and stream when missing, appends the events (which need not be
sorted), updates the stream's timestamps and commits, all in one transaction of
kumo's store.  Runs on kumo's event loop, like every other write.
"""

from __future__ import annotations

from .model import GROUP_KIND, STREAM_KIND, new_group, new_stream, stream_key
from .events import EventStore
from .ingest import arrived


def put_events(kumo, account: str, region: str, group_name: str, stream_name: str,
               events: list[tuple[int, str]]) -> int:
    """Append ``events`` [(timestamp_ms, message)]; returns how many were stored."""
    logs = kumo.services.get("logs")
    store = kumo.store
    scope = f"{account}/{region}"
    now_ms = int(kumo.clock.now() * 1000)
    # Stable by timestamp: events of the same millisecond keep the order they were written in.
    batch = sorted(((int(ts), str(msg)) for ts, msg in events if str(msg)), key=lambda e: e[0])
    with store.transaction():
        groups, streams = store.table(scope, GROUP_KIND), store.table(scope, STREAM_KIND)
        group = groups.get(group_name) or groups.put(group_name, new_group(region, account, group_name, now_ms))
        key = stream_key(group_name, stream_name)
        stream = streams.get(key) or streams.put(key, new_stream(region, account, group_name, stream_name, now_ms))
        if not batch:
            return 0
        ids = (logs.events if logs is not None else EventStore(store)).append(scope, group_name, stream_name, batch,
                                                                              now_ms)
        record_batch(stream, group, batch, now_ms)
        streams.put(key, stream)
        groups.put(group_name, group)
        arrived(kumo, scope, group_name, stream_name, [(i, ts, msg) for i, (ts, msg) in zip(ids, batch)])
    return len(batch)


def record_batch(stream: dict, group: dict, batch: list[tuple[int, str]], now_ms: int) -> None:
    """A stream's first/last event and ingestion times, and the group's stored bytes, after a batch."""
    first, last = batch[0][0], batch[-1][0]
    stream["firstEventTimestamp"] = min(stream.get("firstEventTimestamp", first), first)
    stream["lastEventTimestamp"] = max(stream.get("lastEventTimestamp", last), last)
    stream["lastIngestionTime"] = now_ms
    group["storedBytes"] = group.get("storedBytes", 0) + sum(len(m.encode()) for _, m in batch)
