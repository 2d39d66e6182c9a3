"""Replays: an archive's events within [EventStartTime, EventEndTime] sent again to the rules of its bus.

StartReplay records the replay STARTING; the ``events-replays`` controller starts it START_DELAY simulated
seconds later (AWS takes a moment too, which is what leaves CancelReplay something to cancel), delivers the
window's events oldest first, each with AWS's ``replay-name`` field, to the enabled rules of the destination
bus (only those of Destination.FilterArns when given), and marks it COMPLETED.  Replayed events reach rules
only: they are not archived again.
"""

from __future__ import annotations

import re

from ...aws.errors import AwsError
from ...core.arns import parse_arn
from ...core.controllers import Controller
from . import archives, buses, routing

REPLAY = "events.replay"
CONTROLLER = "events-replays"
START_DELAY = 5.0
_NAME = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
_SUMMARY = ("ReplayName", "EventSourceArn", "State", "StateReason", "EventStartTime", "EventEndTime",
            "EventLastReplayedTime", "ReplayStartTime", "ReplayEndTime")


def _replays(ctx):
    return ctx.table("replay")


def _find(ctx, name: str) -> dict:
    replay = _replays(ctx).get(name)
    if replay is None:
        raise buses.not_found(f"Replay {name} does not exist.")
    return replay


def _epoch(value) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def start_replay(ctx, p):
    name = p["ReplayName"]
    if not _NAME.match(name):
        raise AwsError("ValidationException", f"Replay name {name} is not valid.")
    if name in _replays(ctx):
        raise AwsError("ResourceAlreadyExistsException", f"Replay {name} already exists.")
    start, end = _epoch(p["EventStartTime"]), _epoch(p["EventEndTime"])
    if start >= end:
        raise AwsError("ValidationException", "Parameter EventStartTime is not valid. Reason: EventStartTime must be "
                                              "before EventEndTime.")
    source = parse_arn(p["EventSourceArn"])
    if source is None or not source.resource.startswith("archive/"):
        raise AwsError("ValidationException", f"Parameter EventSourceArn is not valid: {p['EventSourceArn']}")
    archive = archives.find(ctx, source.resource.split("/", 1)[1])
    destination = p["Destination"]
    bus = buses.find(ctx.store, ctx.account, ctx.region, destination["Arn"], ctx.now())
    if bus["Arn"] != archive["EventSourceArn"]:
        raise AwsError("ValidationException", "Parameter Destination.Arn is not valid. Reason: Cross event bus replay "
                                              "is not permitted.")
    for rule_arn in destination.get("FilterArns") or []:
        parsed = parse_arn(rule_arn)
        if parsed is None or not parsed.resource.startswith("rule/"):
            raise AwsError("ValidationException", f"Parameter Destination.FilterArns is not valid: {rule_arn}")
    replay = {"ReplayName": name, "ReplayArn": ctx.arn(f"replay/{name}"),
              "EventSourceArn": archive["ArchiveArn"], "Destination": destination, "State": "STARTING",
              "EventStartTime": start, "EventEndTime": end, "ReplayStartTime": ctx.now(),
              "_archive": archive["ArchiveName"], "_bus": bus["Name"]}
    if p.get("Description"):
        replay["Description"] = p["Description"]
    _replays(ctx).put(name, replay)
    ctx.controllers.enqueue(CONTROLLER, (ctx.scope, name))
    return {"ReplayArn": replay["ReplayArn"], "State": "STARTING", "ReplayStartTime": replay["ReplayStartTime"]}


def describe_replay(ctx, p):
    replay = _find(ctx, p["ReplayName"])
    return {k: v for k, v in replay.items() if not k.startswith("_")}


def list_replays(ctx, p):
    prefix, source, state = p.get("NamePrefix") or "", p.get("EventSourceArn"), p.get("State")
    found = sorted((r for r in _replays(ctx).values() if r["ReplayName"].startswith(prefix)
                    and (not source or r["EventSourceArn"] == source) and (not state or r["State"] == state)),
                   key=lambda r: r["ReplayName"])
    page, token = buses.paginate(found, p, lambda r: r["ReplayName"], f"replays|{prefix}|{source}|{state}")
    out = {"Replays": [{k: r[k] for k in _SUMMARY if k in r} for r in page]}
    if token:
        out["NextToken"] = token
    return out


def cancel_replay(ctx, p):
    replay = _find(ctx, p["ReplayName"])
    if replay["State"] not in ("STARTING", "RUNNING"):
        raise AwsError("IllegalStatusException", f"Replay {replay['ReplayName']} is not in a valid state for this "
                                                 f"operation.")
    replay["State"] = "CANCELLING"
    _replays(ctx).put(replay["ReplayName"], replay)
    ctx.controllers.enqueue(CONTROLLER, (ctx.scope, replay["ReplayName"]))
    return {"ReplayArn": replay["ReplayArn"], "State": "CANCELLING"}


class Replayer(Controller):
    name = CONTROLLER
    resync_interval = 60.0

    def __init__(self, kumo):
        self.kumo = kumo

    def keys(self):
        return [(scope, key) for scope, key, r in self.kumo.store.all(REPLAY)
                if r["State"] in ("STARTING", "RUNNING", "CANCELLING")]

    async def reconcile(self, key):
        scope, name = key
        store = self.kumo.store
        with store.transaction():
            replays = store.table(scope, REPLAY)
            replay = replays.get(name)
            if replay is None:
                return None
            now = self.kumo.clock.now()
            if replay["State"] == "CANCELLING":
                replay.update(State="CANCELLED", ReplayEndTime=now)
                replays.put(name, replay)
                return None
            if replay["State"] not in ("STARTING", "RUNNING"):
                return None
            due = replay["ReplayStartTime"] + START_DELAY
            if now < due:
                return due - now
            self._run(scope, replay, now)
            replays.put(name, replay)
            return None

    def _run(self, scope: str, replay: dict, now: float) -> None:
        account, region = scope.split("/")
        only = set(replay["Destination"].get("FilterArns") or []) or None
        last = None
        for event in archives.events_between(self.kumo, scope, replay["_archive"], replay["EventStartTime"],
                                             replay["EventEndTime"]):
            routing.route(self.kumo, account, region, replay["_bus"], {**event, "replay-name": replay["ReplayName"]},
                          only=only)
            last = event["time"]
        replay.update(State="COMPLETED", ReplayEndTime=now)
        if last is not None:
            replay["EventLastReplayedTime"] = routing.parse_iso(last)
