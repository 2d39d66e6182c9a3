"""Event buses (every account and region has its ``default`` one) and tags on buses and rules."""

from __future__ import annotations

import re

from ...aws.errors import AwsError
from ...core import pagination, tags as tagging
from ...core.arns import arn as make_arn, parse_arn

BUS = "events.bus"
RULE = "events.rule"
DEFAULT = "default"
_NAME = re.compile(r"^[/.\-_A-Za-z0-9]{1,256}$")


def not_found(what: str) -> AwsError:
    return AwsError("ResourceNotFoundException", what)


def events_arn(account: str, region: str, resource: str) -> str:
    """An EventBridge ARN, in the region's partition."""
    return make_arn("events", region, account, resource)


def bus_arn(account: str, region: str, name: str) -> str:
    return events_arn(account, region, f"event-bus/{name}")


def table(store, account: str, region: str, kind: str = BUS):
    return store.table(f"{account}/{region}", kind)


def default_bus(store, account: str, region: str, now: float) -> dict:
    buses = table(store, account, region)
    bus = buses.get(DEFAULT)
    if bus is None:
        bus = buses.put(DEFAULT, {"Name": DEFAULT, "Arn": bus_arn(account, region, DEFAULT), "CreationTime": now,
                                  "LastModifiedTime": now, "Tags": {}})
    return bus


def name_of(name_or_arn: str | None) -> str:
    """A bus named by name or by ARN (PutEvents and rules take either)."""
    if not name_or_arn:
        return DEFAULT
    if name_or_arn.startswith("arn:"):
        parsed = parse_arn(name_or_arn)
        if parsed is None or not parsed.resource.startswith("event-bus/"):
            raise AwsError("ValidationException", f"Parameter EventBusName is not valid: {name_or_arn}")
        return parsed.resource.split("/", 1)[1]
    return name_or_arn


def find(store, account: str, region: str, name_or_arn: str | None, now: float) -> dict:
    name = name_of(name_or_arn)
    if name == DEFAULT:
        return default_bus(store, account, region, now)
    bus = table(store, account, region).get(name)
    if bus is None:
        raise not_found(f"Event bus {name} does not exist.")
    return bus


def view(bus: dict) -> dict:
    return {k: v for k, v in bus.items() if not k.startswith("_") and k != "Tags"}


def _check_dead_letter(p) -> None:
    dlq = (p.get("DeadLetterConfig") or {}).get("Arn")
    if dlq is not None and (parse_arn(dlq) is None or parse_arn(dlq).service != "sqs"):
        raise AwsError("ValidationException", f"Parameter DeadLetterConfig.Arn is not valid: {dlq}. It must be the "
                                              f"ARN of an SQS queue.")


def create_event_bus(ctx, p):
    name = p["Name"]
    _check_dead_letter(p)
    partner = bool(p.get("EventSourceName"))
    if name == DEFAULT or not _NAME.match(name) or (name.startswith("aws.") and not partner):
        raise AwsError("ValidationException", f"Event bus name {name} is not valid.")
    default_bus(ctx.store, ctx.account, ctx.region, ctx.now())
    buses = ctx.table("bus")
    if name in buses:
        raise AwsError("ResourceAlreadyExistsException", f"Event bus {name} already exists.")
    if partner:
        from .partners import claim

        claim(ctx, name, p["EventSourceName"])
    tag_map = tags_in(p.get("Tags"))
    bus = {"Name": name, "Arn": bus_arn(ctx.account, ctx.region, name), "CreationTime": ctx.now(),
           "LastModifiedTime": ctx.now(), "Tags": tag_map}
    for key in ("Description", "KmsKeyIdentifier", "DeadLetterConfig"):
        if p.get(key) is not None:
            bus[key] = p[key]
    buses.put(name, bus)
    return {"EventBusArn": bus["Arn"], **{k: bus[k] for k in ("Description", "KmsKeyIdentifier", "DeadLetterConfig")
                                          if k in bus}}


def describe_event_bus(ctx, p):
    return view(find(ctx.store, ctx.account, ctx.region, p.get("Name"), ctx.now()))


def update_event_bus(ctx, p):
    bus = find(ctx.store, ctx.account, ctx.region, p.get("Name"), ctx.now())
    _check_dead_letter(p)
    for key in ("Description", "KmsKeyIdentifier", "DeadLetterConfig"):
        if p.get(key) is not None:
            bus[key] = p[key]
    bus["LastModifiedTime"] = ctx.now()
    ctx.table("bus").put(bus["Name"], bus)
    return {"Arn": bus["Arn"], "Name": bus["Name"], **{k: bus[k] for k in ("Description", "KmsKeyIdentifier",
                                                                          "DeadLetterConfig") if k in bus}}


def delete_event_bus(ctx, p):
    name = p["Name"]
    if name == DEFAULT:
        raise AwsError("ValidationException", "Cannot delete event bus default.")
    if name not in ctx.table("bus"):
        return {}  # AWS answers success for a bus that is not there
    if any(r["EventBusName"] == name for r in ctx.table("rule").values()):
        raise AwsError("ValidationException", f"Cannot delete event bus {name}: it still has rules.")
    ctx.table("bus").delete(name)
    return {}


def list_event_buses(ctx, p):
    default_bus(ctx.store, ctx.account, ctx.region, ctx.now())
    prefix = p.get("NamePrefix") or ""
    buses = sorted((b for b in ctx.table("bus").values() if b["Name"].startswith(prefix)), key=lambda b: b["Name"])
    found, token = paginate(buses, p, lambda b: b["Name"], f"buses|{prefix}")
    out = {"EventBuses": [view(b) for b in found]}
    if token:
        out["NextToken"] = token
    return out


def paginate(items, p, key, context):
    try:
        return pagination.paginate(items, p.get("Limit"), p.get("NextToken"), key=key, context=context)
    except pagination.InvalidToken:
        raise AwsError("ValidationException", "The NextToken provided is not valid.")


# -- tags, on buses and rules -------------------------------------------------------------------


def tags_in(tags) -> dict:
    tag_map = {t["Key"]: t["Value"] for t in tags or []}
    try:
        tagging.validate(tag_map)
    except tagging.TagError as exc:
        raise AwsError("ValidationException", str(exc))
    return tag_map


def _tagged(ctx, arn: str) -> tuple[object, str, dict]:
    parsed = parse_arn(arn)
    if parsed is None or parsed.service != "events" or parsed.account != ctx.account:
        raise not_found(f"Resource {arn} does not exist.")
    kind, _, rest = parsed.resource.partition("/")
    if kind == "event-bus":
        records, key = table(ctx.store, ctx.account, parsed.region), rest
        if key == DEFAULT:
            default_bus(ctx.store, ctx.account, parsed.region, ctx.now())
    elif kind == "rule":
        bus, _, name = rest.rpartition("/")
        records, key = table(ctx.store, ctx.account, parsed.region, RULE), f"{bus or DEFAULT}|{name}"
    else:
        raise not_found(f"Resource {arn} does not exist.")
    record = records.get(key)
    if record is None:
        raise not_found(f"Resource {arn} does not exist.")
    return records, key, record


def tag_resource(ctx, p):
    records, key, record = _tagged(ctx, p["ResourceARN"])
    new = tags_in(p["Tags"])
    try:
        tagging.validate(new, record.get("Tags") or {})
    except tagging.TagError as exc:
        raise AwsError("ValidationException", str(exc))
    record.setdefault("Tags", {}).update(new)
    records.put(key, record)
    return {}


def untag_resource(ctx, p):
    records, key, record = _tagged(ctx, p["ResourceARN"])
    for k in p["TagKeys"]:
        record.get("Tags", {}).pop(k, None)
    records.put(key, record)
    return {}


def list_tags_for_resource(ctx, p):
    _, _, record = _tagged(ctx, p["ResourceARN"])
    return {"Tags": tagging.to_list(record.get("Tags"))}
