"""Partner event sources: a SaaS partner's events delivered to a customer account's partner bus.

Any kumo account can act as the partner.  CreatePartnerEventSource names a source ``aws.partner/<partner>/
<name>`` for a customer account; the partner keeps it (kind ``events.partner-source``, keyed
``<name>|<account>``) and the customer sees it PENDING (kind ``events.event-source``, keyed by name) until
it creates an event bus of the same name with that EventSourceName, which makes it ACTIVE.
PutPartnerEvents then routes each entry to the customer's partner bus, exactly as PutEvents routes (rules,
archives), with the customer's account in the event.  Deactivated or deleted sources take no events.
"""

from __future__ import annotations

import json
import re
import uuid

from ...aws.errors import AwsError
from ...core.arns import arn as make_arn
from . import buses, routing

PARTNER = "events.partner-source"
SOURCE = "events.event-source"
PENDING_DAYS = 12  # a source no bus claims expires after this many days
_NAME = re.compile(r"^aws\.partner(/[\.\-_A-Za-z0-9]+){2,}$")
_ACCOUNT = re.compile(r"^\d{12}$")


def source_arn(region: str, name: str) -> str:
    return make_arn("events", region, "", f"event-source/{name}")


def _customer_sources(store, account: str, region: str):
    return store.table(f"{account}/{region}", SOURCE)


def _check_name(name: str) -> None:
    if not _NAME.match(name or ""):
        raise AwsError("ValidationException", f"Event source name {name} is not valid: it must look like "
                                              f"aws.partner/<partner name>/<event source name>.")


# -- the partner's side ------------------------------------------------------------------------------------


def create_partner_event_source(ctx, p):
    name, account = p["Name"], p["Account"]
    _check_name(name)
    if not _ACCOUNT.match(account):
        raise AwsError("ValidationException", f"Account {account} is not valid.")
    mine = ctx.table("partner-source")
    if f"{name}|{account}" in mine:
        raise AwsError("ResourceAlreadyExistsException", f"Event source {name} already exists for account "
                                                         f"{account}.")
    now = ctx.now()
    arn = source_arn(ctx.region, name)
    mine.put(f"{name}|{account}", {"Name": name, "Account": account, "Arn": arn, "CreationTime": now})
    _customer_sources(ctx.store, account, ctx.region).put(name, {
        "Name": name, "Arn": arn, "CreatedBy": name.split("/")[1], "CreationTime": now,
        "ExpirationTime": now + PENDING_DAYS * 86400, "State": "PENDING", "_partner": ctx.account})
    return {"EventSourceArn": arn}


def _partner_sources(ctx, name: str) -> list[dict]:
    return [s for s in ctx.table("partner-source").values() if s["Name"] == name]


def describe_partner_event_source(ctx, p):
    _check_name(p["Name"])
    found = _partner_sources(ctx, p["Name"])
    if not found:
        raise buses.not_found(f"Event source {p['Name']} does not exist.")
    return {"Arn": found[0]["Arn"], "Name": found[0]["Name"]}


def list_partner_event_sources(ctx, p):
    prefix = p["NamePrefix"]
    names = sorted({s["Name"] for s in ctx.table("partner-source").values() if s["Name"].startswith(prefix)})
    page, token = buses.paginate(names, p, lambda n: n, f"partner-sources|{prefix}")
    out = {"PartnerEventSources": [{"Arn": source_arn(ctx.region, n), "Name": n} for n in page]}
    if token:
        out["NextToken"] = token
    return out


def list_partner_event_source_accounts(ctx, p):
    found = sorted(_partner_sources(ctx, p["EventSourceName"]), key=lambda s: s["Account"])
    if not found:
        raise buses.not_found(f"Event source {p['EventSourceName']} does not exist.")
    page, token = buses.paginate(found, p, lambda s: s["Account"], f"partner-accounts|{p['EventSourceName']}")
    rows = []
    for s in page:
        seen = _customer_sources(ctx.store, s["Account"], ctx.region).get(s["Name"]) or {}
        rows.append({"Account": s["Account"], "CreationTime": s["CreationTime"], "State": seen.get("State", "DELETED"),
                     **({"ExpirationTime": seen["ExpirationTime"]} if seen.get("ExpirationTime") else {})})
    out = {"PartnerEventSourceAccounts": rows}
    if token:
        out["NextToken"] = token
    return out


def delete_partner_event_source(ctx, p):
    key = f"{p['Name']}|{p['Account']}"
    if ctx.table("partner-source").get(key) is None:
        return {}
    ctx.table("partner-source").delete(key)
    customer = _customer_sources(ctx.store, p["Account"], ctx.region)
    seen = customer.get(p["Name"])
    if seen is not None:
        seen["State"] = "DELETED"
        customer.put(p["Name"], seen)
    return {}


def put_partner_events(ctx, p):
    results, failed = [], 0
    for entry in p["Entries"]:
        try:
            results.append({"EventId": _put_one(ctx, entry)})
        except AwsError as err:
            failed += 1
            results.append({"ErrorCode": err.code, "ErrorMessage": err.message})
    return {"FailedEntryCount": failed, "Entries": results}


def _put_one(ctx, entry: dict) -> str:
    for field in ("Source", "DetailType", "Detail"):
        if not entry.get(field):
            raise AwsError("InvalidArgument", f"Parameter {field} is not valid. Reason: {field} is a required "
                                              f"argument.")
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        detail = None
    if not isinstance(detail, dict):
        raise AwsError("MalformedDetail", "Detail is malformed.")
    accounts = [s["Account"] for s in _partner_sources(ctx, entry["Source"])]
    if not accounts:
        raise AwsError("InvalidArgument", f"Event source {entry['Source']} does not exist.")
    event_id = str(uuid.uuid4())
    for account in accounts:
        seen = _customer_sources(ctx.store, account, ctx.region).get(entry["Source"])
        if seen is None or seen["State"] != "ACTIVE":
            continue  # AWS drops events for a source its customer has not (or no longer) taken
        bus = buses.table(ctx.store, account, ctx.region).get(entry["Source"])
        if bus is None:
            continue
        event = {"version": "0", "id": event_id, "detail-type": entry["DetailType"], "source": entry["Source"],
                 "account": account, "time": routing.iso(entry["Time"] if entry.get("Time") is not None else ctx.now()),
                 "region": ctx.region, "resources": list(entry.get("Resources") or []), "detail": detail}
        routing.route(ctx.kumo, account, ctx.region, bus["Name"], event)
    return event_id


# -- the customer's side -----------------------------------------------------------------------------------


def _source(ctx, name: str) -> dict:
    _check_name(name)
    seen = ctx.table("event-source").get(name)
    if seen is None or seen["State"] == "DELETED":
        raise buses.not_found(f"Event source {name} does not exist.")
    return seen


def _view(seen: dict) -> dict:
    return {k: v for k, v in seen.items() if not k.startswith("_")}


def describe_event_source(ctx, p):
    return _view(_source(ctx, p["Name"]))


def list_event_sources(ctx, p):
    prefix = p.get("NamePrefix") or ""
    found = sorted((s for s in ctx.table("event-source").values()
                    if s["Name"].startswith(prefix) and s["State"] != "DELETED"), key=lambda s: s["Name"])
    page, token = buses.paginate(found, p, lambda s: s["Name"], f"event-sources|{prefix}")
    out = {"EventSources": [_view(s) for s in page]}
    if token:
        out["NextToken"] = token
    return out


def _set_state(ctx, name: str, state: str) -> dict:
    seen = _source(ctx, name)
    if state == "ACTIVE" and seen["State"] == "PENDING":
        raise AwsError("InvalidStateException", f"Event source {name} is pending: create an event bus for it "
                                                f"first.")
    seen["State"] = state
    ctx.table("event-source").put(name, seen)
    return {}


def activate_event_source(ctx, p):
    return _set_state(ctx, p["Name"], "ACTIVE")


def deactivate_event_source(ctx, p):
    return _set_state(ctx, p["Name"], "DISABLED")


def claim(ctx, bus_name: str, source_name: str) -> None:
    """CreateEventBus with EventSourceName: the bus takes the pending source, which becomes ACTIVE."""
    if bus_name != source_name:
        raise AwsError("ValidationException", "The event bus name must match the EventSourceName.")
    seen = ctx.table("event-source").get(source_name)
    if seen is None or seen["State"] == "DELETED" or seen["ExpirationTime"] < ctx.now() and seen["State"] == "PENDING":
        raise buses.not_found(f"Event source {source_name} does not exist.")
    seen["State"] = "ACTIVE"
    seen.pop("ExpirationTime", None)
    ctx.table("event-source").put(source_name, seen)
