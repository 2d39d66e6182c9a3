"""PutLogEvents, GetLogEvents and FilterLogEvents."""

from __future__ import annotations

import secrets

from ...core import pagination
from . import patterns
from .ingest import arrived
from .internal import record_batch
from .model import group_name, groups, invalid, need_group, need_stream, stream_key, streams
from .runtime import service

MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26
DAY_MS = 86_400_000
PAST_LIMIT_MS = 14 * DAY_MS
FUTURE_LIMIT_MS = 2 * 3600 * 1000
SCAN_CHUNK = 5_000


def _sequence_token() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(56))


def put_log_events(ctx, p):
    # Sequence tokens are ignored, as AWS now ignores them: PutLogEvents never answers
    # InvalidSequenceTokenException or DataAlreadyAcceptedException.
    group_id = group_name(ctx, p)
    group = need_group(ctx, group_id)
    stream = need_stream(ctx, group_id, p["logStreamName"])
    events = p["logEvents"]
    if not events:
        raise invalid("1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: "
                      "Member must have length greater than or equal to 1")
    if len(events) > MAX_BATCH_EVENTS:
        raise invalid(f"The maximum number of log events in a batch is {MAX_BATCH_EVENTS}.")
    size = sum(len(e["message"].encode()) + EVENT_OVERHEAD for e in events)
    if size > MAX_BATCH_BYTES:
        raise invalid(f"Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}")
    stamps = [e["timestamp"] for e in events]
    if any(b < a for a, b in zip(stamps, stamps[1:])):
        raise invalid("Log events in a single PutLogEvents request must be in chronological order.")
    if stamps[-1] - stamps[0] > DAY_MS:
        raise invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
    now_ms = int(ctx.now() * 1000)
    rejected: dict = {}
    too_old = [i for i, ts in enumerate(stamps) if ts < now_ms - PAST_LIMIT_MS]
    too_new = [i for i, ts in enumerate(stamps) if ts > now_ms + FUTURE_LIMIT_MS]
    days = group.get("retentionInDays")
    expired = [i for i, ts in enumerate(stamps) if days and ts < now_ms - days * DAY_MS]
    if too_old:
        rejected["tooOldLogEventEndIndex"] = too_old[-1]
    if too_new:
        rejected["tooNewLogEventStartIndex"] = too_new[0]
    if expired:
        rejected["expiredLogEventEndIndex"] = expired[-1]
    skip = set(too_old) | set(too_new) | set(expired)
    batch = [(e["timestamp"], e["message"]) for i, e in enumerate(events) if i not in skip]
    token = _sequence_token()
    if batch:
        ids = service(ctx).events.append(ctx.scope, group_id, p["logStreamName"], batch, now_ms)
        record_batch(stream, group, sorted(batch), now_ms)
        groups(ctx).put(group_id, group)
        arrived(ctx.kumo, ctx.scope, group_id, p["logStreamName"],
                [(i, ts, msg) for i, (ts, msg) in zip(ids, batch)])
    stream["uploadSequenceToken"] = token
    streams(ctx).put(stream_key(group_id, p["logStreamName"]), stream)
    out = {"nextSequenceToken": token}
    if rejected:
        out["rejectedLogEventsInfo"] = rejected
    return out


# -- reading one stream -------------------------------------------------------------------------------

def _within_bytes(rows: list, keep_end: bool) -> list:
    """A page holds at most 1 MB of messages (and at least one event), as AWS's pages do."""
    total, kept = 0, []
    for row in reversed(rows) if keep_end else rows:
        total += len(row[4].encode()) + EVENT_OVERHEAD
        if kept and total > MAX_BATCH_BYTES:
            break
        kept.append(row)
    return kept[::-1] if keep_end else kept


def _encode(direction: str, position: tuple[int, int]) -> str:
    return f"{direction}/{position[0]:028d}{position[1]:028d}"


def _decode(token: str) -> tuple[str, tuple[int, int]]:
    direction, _, digits = token.partition("/")
    if direction not in ("f", "b") or len(digits) != 56 or not digits.isdigit():
        raise invalid("The specified nextToken is invalid.")
    return direction, (int(digits[:28]), int(digits[28:]))


def get_log_events(ctx, p):
    group = group_name(ctx, p)
    need_group(ctx, group)
    stream = p["logStreamName"]
    need_stream(ctx, group, stream)
    limit = p.get("limit") or MAX_BATCH_EVENTS
    start, end = p.get("startTime"), p.get("endTime")
    events = service(ctx).events
    token = p.get("nextToken")
    if token:
        direction, position = _decode(token)
        if direction == "f":
            rows = events.stream_page(ctx.scope, group, stream, start, end, position, None, limit, newest=False)
        else:
            rows = events.stream_page(ctx.scope, group, stream, start, end, None, position, limit, newest=True)
    else:
        rows = events.stream_page(ctx.scope, group, stream, start, end, None, None, limit,
                                  newest=not p.get("startFromHead"))
    newest_first = (token and token.startswith("b/")) or (not token and not p.get("startFromHead"))
    rows = _within_bytes(rows, keep_end=bool(newest_first))
    out = {"events": [{"timestamp": ts, "message": msg, "ingestionTime": ing} for _id, _s, ts, ing, msg in rows]}
    if rows:
        out["nextForwardToken"] = _encode("f", (rows[-1][2], rows[-1][0]))
        out["nextBackwardToken"] = _encode("b", (rows[0][2], rows[0][0]))
    elif token:
        # At either end of the stream AWS hands back the token it was given.
        direction, position = _decode(token)
        out["nextForwardToken"] = _encode("f", position)
        out["nextBackwardToken"] = _encode("b", position)
    else:
        out["nextForwardToken"] = _encode("f", (0, 0))
        out["nextBackwardToken"] = _encode("b", (0, 0))
    return out


# -- searching a group -----------------------------------------------------------------------------


def filter_log_events(ctx, p):
    group = group_name(ctx, p)
    need_group(ctx, group)
    names, prefix = p.get("logStreamNames"), p.get("logStreamNamePrefix")
    if names and prefix:
        raise invalid("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
    if prefix:
        head = f"{group}:{prefix}"
        names = [s["logStreamName"] for k, s in streams(ctx).items() if k.startswith(head)]
    elif names:
        missing = [n for n in names if stream_key(group, n) not in streams(ctx)]
        if missing:
            raise invalid(f"The specified log stream does not exist: {missing[0]}")
    try:
        match = patterns.compile(p.get("filterPattern"))
    except patterns.PatternError as exc:
        raise invalid(f"Invalid filter pattern: {exc}")
    limit = p.get("limit") or MAX_BATCH_EVENTS
    start, end = p.get("startTime"), p.get("endTime")
    context = repr((group, names, start, end, p.get("filterPattern")))
    after = None
    if p.get("nextToken"):
        try:
            ts, _, rid = pagination.decode(p["nextToken"], context).partition(":")
            after = (int(ts), int(rid))
        except (pagination.InvalidToken, ValueError):
            raise invalid("The specified nextToken is invalid.")
    found = []
    store = service(ctx).events
    more = full = False
    size = 0
    if names is None or names:
        while len(found) < limit:
            rows = store.group_scan(ctx.scope, group, names, start, end, after, SCAN_CHUNK)
            for row in rows:
                if match(row[4]):
                    size += len(row[4].encode()) + EVENT_OVERHEAD
                    if found and size > MAX_BATCH_BYTES:
                        full = True
                        break
                    found.append(row)
                after = (row[2], row[0])
                if len(found) == limit:
                    break
            if full:
                break
            if len(rows) < SCAN_CHUNK:
                break
        more = full or (len(found) == limit and bool(store.group_scan(ctx.scope, group, names, start, end, after,
                                                                          1)))
    searched = sorted({s["logStreamName"] for k, s in streams(ctx).items() if k.startswith(f"{group}:")
                       and (names is None or s["logStreamName"] in names)})
    out = {"events": [{"logStreamName": stream, "timestamp": ts, "message": msg, "ingestionTime": ing,
                       "eventId": f"{rid:056d}"} for rid, stream, ts, ing, msg in found],
           "searchedLogStreams": [{"logStreamName": n, "searchedCompletely": not more} for n in searched]}
    if more:
        out["nextToken"] = pagination.encode(f"{after[0]}:{after[1]}", context)
    return out
