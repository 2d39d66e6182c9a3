"""Events onto buses: PutEvents, TestEventPattern, and events kumo's own services publish.

An event is matched against the enabled pattern rules of its bus and handed to
each matching rule's targets (targets.py) at once, inside the transaction of
the request or hub callback that brought it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid

from ...aws.errors import AwsError
from ...core.arns import parse_arn
from . import archives, buses, patterns, targets
from .buses import RULE

log = logging.getLogger("kumo.events")
MAX_ENTRIES = 10
MAX_ENTRY_BYTES = 256 * 1024
REQUIRED_FIELDS = ("id", "account", "source", "time", "region", "detail-type")


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> float:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp()


def route(kumo, account: str, region: str, bus_name: str, event: dict, only: set | None = None) -> int:
    """Deliver ``event`` to the targets of every enabled rule on the bus it matches; how many rules matched.

    The bus's archives keep it first; a replay passes ``only``, the rule ARNs it is limited to.
    """
    archives.archive_event(kumo, account, region, buses.bus_arn(account, region, bus_name), event)
    matched = 0
    for rule in kumo.store.table(f"{account}/{region}", RULE).values():
        if rule["EventBusName"] != bus_name or rule.get("State", "ENABLED") == "DISABLED":
            continue
        if only is not None and rule["Arn"] not in only:
            continue
        pattern = rule.get("EventPattern")
        if not pattern or not patterns.matches(json.loads(pattern), event):
            continue
        matched += 1
        for target in rule["_targets"]:
            targets.deliver(kumo, rule, target, event)
    return matched


def put_events(ctx, p):
    entries = p["Entries"]
    if not 1 <= len(entries) <= MAX_ENTRIES:
        raise AwsError("ValidationException", f"1 validation error detected: Value at 'entries' failed to satisfy "
                                              f"constraint: Member must have length less than or equal to "
                                              f"{MAX_ENTRIES}")
    results, failed = [], 0
    for entry in entries:
        try:
            event_id = _put_one(ctx, entry)
            results.append({"EventId": event_id})
        except _EntryError as err:
            failed += 1
            results.append({"ErrorCode": err.code, "ErrorMessage": err.message})
    return {"FailedEntryCount": failed, "Entries": results}


class _EntryError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _put_one(ctx, entry: dict) -> str:
    for field in ("Source", "DetailType", "Detail"):
        if not entry.get(field):
            raise _EntryError("InvalidArgument", f"Parameter {field} is not valid. Reason: {field} is a required "
                                                 f"argument.")
    if len(json.dumps(entry)) > MAX_ENTRY_BYTES:
        raise _EntryError("InvalidArgument", "Total size of the entries in the request is over the limit.")
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        raise _EntryError("MalformedDetail", "Detail is malformed.")
    if not isinstance(detail, dict):
        raise _EntryError("MalformedDetail", "Detail is malformed.")
    owner, region = _bus_owner(ctx, entry.get("EventBusName"))
    try:
        bus = buses.find(ctx.store, owner, region, entry.get("EventBusName"), ctx.now())
    except AwsError as err:
        raise _EntryError("EventBusNotFound" if err.code == "ResourceNotFoundException" else err.code, err.message)
    if owner != ctx.account:
        from .permissions import allows

        if not allows(bus, ctx.account):
            raise _EntryError("AccessDeniedException", f"Account {ctx.account} is not authorized to put events on "
                                                       f"{bus['Arn']}.")
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": ctx.account,
        "time": iso(entry["Time"] if entry.get("Time") is not None else ctx.now()),
        "region": ctx.region,
        "resources": list(entry.get("Resources") or []),
        "detail": detail,
    }
    route(ctx.kumo, owner, region, bus["Name"], event)
    return event["id"]


def _bus_owner(ctx, name_or_arn: str | None) -> tuple[str, str]:
    """(account, region) of the bus an entry names: another account's bus is named by its ARN."""
    parsed = parse_arn(name_or_arn) if name_or_arn and name_or_arn.startswith("arn:") else None
    if parsed is not None and parsed.account and parsed.region:
        return parsed.account, parsed.region
    return ctx.account, ctx.region


def test_event_pattern(ctx, p):
    from .rules import check_pattern

    check_pattern(p["EventPattern"])
    try:
        event = json.loads(p["Event"])
    except ValueError:
        raise AwsError("ValidationException", "Parameter Event is not valid JSON.")
    if not isinstance(event, dict):
        raise AwsError("ValidationException", "Parameter Event is not valid.")
    missing = [f for f in REQUIRED_FIELDS if f not in event]
    if missing:
        raise AwsError("ValidationException", f"Parameter Event is not valid. Reason: missing field {missing[0]}.")
    return {"Result": patterns.matches(json.loads(p["EventPattern"]), event)}


def on_hub_event(kumo, event: dict) -> None:
    """kumo.events subscriber: an AWS event from one of kumo's services lands on its account's default bus."""
    store = kumo.store
    try:
        with store.transaction():
            buses.default_bus(store, event["account"], event["region"], kumo.clock.now())
            route(kumo, event["account"], event["region"], buses.DEFAULT, event)
    except Exception:
        log.exception("could not route %s event %s", event.get("source"), event.get("detail-type"))
