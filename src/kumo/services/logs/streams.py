"""Log streams: create, delete, describe (by name or by last event time)."""

from __future__ import annotations

from ...aws.errors import AwsError
from ...core import pagination
from .model import STREAM_NAME, group_name, invalid, need_group, need_stream, new_stream, stream_key, streams
from .runtime import service

STREAM_FIELDS = ("logStreamName", "creationTime", "firstEventTimestamp", "lastEventTimestamp",
                 "lastIngestionTime", "uploadSequenceToken", "arn", "storedBytes")


def create_log_stream(ctx, p):
    group, name = p["logGroupName"], p["logStreamName"]
    if not STREAM_NAME.match(name):
        raise invalid(f"1 validation error detected: Value '{name}' at 'logStreamName' failed to satisfy "
                      "constraint: Member must satisfy regular expression pattern: [^:*]*")
    need_group(ctx, group)
    table = streams(ctx)
    key = stream_key(group, name)
    if key in table:
        raise AwsError("ResourceAlreadyExistsException", "The specified log stream already exists")
    table.put(key, new_stream(ctx.region, ctx.account, group, name, int(ctx.now() * 1000)))
    return {}


def delete_log_stream(ctx, p):
    group, name = p["logGroupName"], p["logStreamName"]
    need_group(ctx, group)
    need_stream(ctx, group, name)
    service(ctx).events.delete_stream(ctx.scope, group, name)
    streams(ctx).delete(stream_key(group, name))
    return {}


def describe_log_streams(ctx, p):
    group = group_name(ctx, p)
    need_group(ctx, group)
    order = p.get("orderBy") or "LogStreamName"
    prefix = p.get("logStreamNamePrefix")
    if prefix and order == "LastEventTime":
        raise invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
    head = f"{group}:"
    items = [s for k, s in streams(ctx).items() if k.startswith(head)]
    if prefix:
        items = [s for s in items if s["logStreamName"].startswith(prefix)]
    descending = bool(p.get("descending"))
    if order == "LastEventTime":
        def key(s):
            return f"{s.get('lastEventTimestamp', 0):020d}:{s['logStreamName']}"
    else:
        def key(s):
            return s["logStreamName"]
    items.sort(key=key, reverse=descending)
    # Tokens name the last stream's sort key; descending listings compare keys the other way round.
    context = repr((group, order, prefix, descending))
    keyed = [(key(s) if not descending else _invert(key(s)), s) for s in items]
    try:
        page, token = pagination.paginate(keyed, p.get("limit") or 50, p.get("nextToken"), key=lambda ks: ks[0],
                                          context=context)
    except pagination.InvalidToken:
        raise invalid("The specified nextToken is invalid.")
    out = {"logStreams": [{k: s[k] for k in STREAM_FIELDS if k in s} for _, s in page]}
    if token:
        out["nextToken"] = token
    return out


def _invert(text: str) -> str:
    return "".join(chr(0x10FFFF - ord(c)) if ord(c) < 0xD800 else c for c in text)
