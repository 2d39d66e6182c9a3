"""Archives: the events a bus receives, kept as they arrive (filtered by the archive's pattern) for replays.

An archive is a record (kind ``events.archive``) keyed by its name; each archived event is a record of
kind ``events.archived`` keyed ``<archive>|<epoch, zero-padded>|<event id>``, so an archive's events sort
by the time EventBridge received them, which is what a replay's window is measured against.  Replayed
events are not archived again (they carry ``replay-name``).  Retention counts on kumo's clock: events
older than RetentionDays are dropped when the archive is next written or read.
"""

from __future__ import annotations

import json
import re

from ...aws.errors import AwsError
from ...core.arns import arn as make_arn
from . import buses, patterns

ARCHIVE = "events.archive"
ARCHIVED = "events.archived"
_NAME = re.compile(r"^[\.\-_A-Za-z0-9]{1,48}$")
_STATES = ("ENABLED", "DISABLED", "CREATING", "UPDATING", "CREATE_FAILED", "UPDATE_FAILED")


def archive_arn(account: str, region: str, name: str) -> str:
    return make_arn("events", region, account, f"archive/{name}")


def _archives(ctx):
    return ctx.table("archive")


def find(ctx, name: str) -> dict:
    archive = _archives(ctx).get(name)
    if archive is None:
        raise buses.not_found(f"Archive {name} does not exist.")
    return archive


def _check_pattern(text: str | None) -> None:
    if text:
        try:
            patterns.parse(text)
        except patterns.PatternError as exc:
            raise AwsError("InvalidEventPatternException", f"Event pattern is not valid. Reason: {exc}")


def _retention(p) -> int:
    days = p.get("RetentionDays", 0) or 0
    if days < 0:
        raise AwsError("ValidationException", "RetentionDays must be 0 (indefinitely) or more.")
    return days


def _view(ctx, archive: dict, full: bool) -> dict:
    keys = ["ArchiveName", "EventSourceArn", "State", "RetentionDays", "SizeBytes", "EventCount", "CreationTime"]
    if full:
        keys[2:2] = ["ArchiveArn", "Description", "EventPattern", "StateReason", "KmsKeyIdentifier"]
    return {k: archive[k] for k in keys if archive.get(k) is not None}


def create_archive(ctx, p):
    name = p["ArchiveName"]
    if not _NAME.match(name):
        raise AwsError("ValidationException", f"Archive name {name} is not valid.")
    _check_pattern(p.get("EventPattern"))
    if not p["EventSourceArn"].startswith("arn:"):
        raise AwsError("ValidationException", f"Parameter EventSourceArn is not valid: {p['EventSourceArn']}")
    bus = buses.find(ctx.store, ctx.account, ctx.region, p["EventSourceArn"], ctx.now())
    if name in _archives(ctx):
        raise AwsError("ResourceAlreadyExistsException", f"Archive {name} already exists.")
    archive = {"ArchiveName": name, "ArchiveArn": archive_arn(ctx.account, ctx.region, name),
               "EventSourceArn": bus["Arn"], "State": "ENABLED", "RetentionDays": _retention(p),
               "SizeBytes": 0, "EventCount": 0, "CreationTime": ctx.now()}
    for key in ("Description", "EventPattern", "KmsKeyIdentifier"):
        if p.get(key):
            archive[key] = p[key]
    _archives(ctx).put(name, archive)
    return {"ArchiveArn": archive["ArchiveArn"], "State": archive["State"], "CreationTime": archive["CreationTime"]}


def describe_archive(ctx, p):
    archive = find(ctx, p["ArchiveName"])
    expire(ctx.kumo, ctx.scope, archive, every=0.0)
    return _view(ctx, archive, True)


def update_archive(ctx, p):
    archive = find(ctx, p["ArchiveName"])
    _check_pattern(p.get("EventPattern"))
    for key in ("Description", "EventPattern", "KmsKeyIdentifier"):
        if p.get(key) is not None:
            archive[key] = p[key]
    if p.get("RetentionDays") is not None:
        archive["RetentionDays"] = _retention(p)
    _archives(ctx).put(archive["ArchiveName"], archive)
    return {"ArchiveArn": archive["ArchiveArn"], "State": archive["State"], "CreationTime": archive["CreationTime"]}


def delete_archive(ctx, p):
    archive = find(ctx, p["ArchiveName"])
    events = ctx.table("archived")
    for key in [k for k in events.keys() if k.startswith(archive["ArchiveName"] + "|")]:
        events.delete(key)
    _archives(ctx).delete(archive["ArchiveName"])
    return {}


def list_archives(ctx, p):
    prefix, source, state = p.get("NamePrefix") or "", p.get("EventSourceArn"), p.get("State")
    if prefix and source:
        raise AwsError("ValidationException", "At most one filter is allowed for ListArchives. Use either : "
                                              "State, EventSourceArn, or NamePrefix.")
    found = sorted((a for a in _archives(ctx).values() if a["ArchiveName"].startswith(prefix)
                    and (not source or a["EventSourceArn"] == source) and (not state or a["State"] == state)),
                   key=lambda a: a["ArchiveName"])
    page, token = buses.paginate(found, p, lambda a: a["ArchiveName"], f"archives|{prefix}|{source}|{state}")
    out = {"Archives": [_view(ctx, a, False) for a in page]}
    if token:
        out["NextToken"] = token
    return out


# -- as events arrive ------------------------------------------------------------------------------


def archive_event(kumo, account: str, region: str, bus_arn: str, event: dict) -> None:
    """Keep ``event`` in every enabled archive of the bus whose pattern it matches (in the caller's transaction)."""
    if "replay-name" in event:
        return
    scope = f"{account}/{region}"
    archives = kumo.store.table(scope, ARCHIVE)
    now = kumo.clock.now()
    for archive in archives.values():
        if archive["EventSourceArn"] != bus_arn or archive["State"] != "ENABLED":
            continue
        pattern = archive.get("EventPattern")
        if pattern and not patterns.matches(json.loads(pattern), event):
            continue
        text = json.dumps(event, separators=(",", ":"))
        kumo.store.table(scope, ARCHIVED).put(f"{archive['ArchiveName']}|{now:017.6f}|{event['id']}",
                                              {"time": now, "event": event})
        archive["EventCount"] += 1
        archive["SizeBytes"] += len(text.encode())
        archives.put(archive["ArchiveName"], archive)
        expire(kumo, scope, archive)


def expire(kumo, scope: str, archive: dict, every: float = 3600.0) -> None:
    """Drop events past the archive's retention; at most once a simulated hour (it scans the archive)."""
    days = archive.get("RetentionDays") or 0
    now = kumo.clock.now()
    if not days or now - archive.get("_swept", 0.0) < every:
        return
    archive["_swept"] = now
    kumo.store.table(scope, ARCHIVE).put(archive["ArchiveName"], archive)
    cutoff = now - days * 86400
    events = kumo.store.table(scope, ARCHIVED)
    prefix = archive["ArchiveName"] + "|"
    gone = [(k, v) for k, v in events.items() if k.startswith(prefix) and v["time"] < cutoff]
    for key, value in gone:
        events.delete(key)
        archive["EventCount"] -= 1
        archive["SizeBytes"] -= len(json.dumps(value["event"], separators=(",", ":")).encode())
    if gone:
        kumo.store.table(scope, ARCHIVE).put(archive["ArchiveName"], archive)


def events_between(kumo, scope: str, name: str, start: float, end: float) -> list[dict]:
    """The archive's events received within [start, end], oldest first."""
    prefix = name + "|"
    rows = sorted((k, v) for k, v in kumo.store.table(scope, ARCHIVED).items() if k.startswith(prefix))
    return [v["event"] for _, v in rows if start <= v["time"] <= end]
