"""Logs destinations (the receiving end of cross-account subscriptions): Put/Describe/DeleteDestination,
PutDestinationPolicy.

A destination names a Kinesis stream or Firehose delivery stream; kumo has neither, so a subscription
filter pointing at a destination is refused as AWS refuses a target stream that is not ACTIVE
(subscriptions.py).  The records themselves are kept exactly, for Terraform and scripts that manage them.
"""

from __future__ import annotations

import json

from ...aws.errors import AwsError
from ...core import pagination
from ...core import tags as tagging
from .model import invalid

KIND = "logs.destination"


def _table(store, scope: str):
    return store.table(scope, KIND)


def lookup(kumo, arn: str) -> dict | None:
    parts = arn.split(":")
    if len(parts) < 7 or parts[5] != "destination":
        return None
    return _table(kumo.store, f"{parts[4]}/{parts[3]}").get(parts[6])


def _public(d: dict) -> dict:
    return {k: v for k, v in d.items() if not k.startswith("_")}


def put_destination(ctx, p):
    target, role = p["targetArn"], p["roleArn"]
    kind = target.split(":")[2] if target.startswith("arn:") and target.count(":") >= 5 else ""
    if kind not in ("kinesis", "firehose"):
        raise invalid(f"Invalid target ARN: {target}. A destination delivers to a Kinesis stream or a Firehose "
                      "delivery stream.")
    if not (role.startswith("arn:") and ":iam::" in role and ":role/" in role):
        raise invalid(f"Invalid role ARN: {role}")
    tags = p.get("tags") or {}
    try:
        tagging.validate(tags)
    except tagging.TagError as exc:
        raise invalid(str(exc))
    table = _table(ctx.store, ctx.scope)
    name = p["destinationName"]
    old = table.get(name)
    record = {"destinationName": name, "targetArn": target, "roleArn": role,
              "arn": f"arn:aws:logs:{ctx.region}:{ctx.account}:destination:{name}",
              "creationTime": old["creationTime"] if old else int(ctx.now() * 1000),
              "_tags": {**(old or {}).get("_tags", {}), **tags}}
    if old and old.get("accessPolicy"):
        record["accessPolicy"] = old["accessPolicy"]
    table.put(name, record)
    return {"destination": _public(record)}


def put_destination_policy(ctx, p):
    table = _table(ctx.store, ctx.scope)
    record = table.get(p["destinationName"])
    if record is None:
        raise AwsError("ResourceNotFoundException", "The specified destination does not exist.")
    try:
        doc = json.loads(p["accessPolicy"])
    except ValueError:
        raise invalid("Access policy is not valid JSON.")
    if not isinstance(doc, dict) or not doc.get("Statement"):
        raise invalid("Access policy must be a JSON object with a Statement.")
    record["accessPolicy"] = p["accessPolicy"]
    table.put(p["destinationName"], record)
    return {}


def describe_destinations(ctx, p):
    prefix = p.get("DestinationNamePrefix") or ""
    items = sorted((d for d in _table(ctx.store, ctx.scope).values() if d["destinationName"].startswith(prefix)),
                   key=lambda d: d["destinationName"])
    try:
        page, token = pagination.paginate(items, p.get("limit") or 50, p.get("nextToken"),
                                          key=lambda d: d["destinationName"], context=prefix)
    except pagination.InvalidToken:
        raise invalid("The specified nextToken is invalid.")
    out = {"destinations": [_public(d) for d in page]}
    if token:
        out["nextToken"] = token
    return out


def delete_destination(ctx, p):
    table = _table(ctx.store, ctx.scope)
    if p["destinationName"] not in table:
        raise AwsError("ResourceNotFoundException", "The specified destination does not exist.")
    table.delete(p["destinationName"])
    return {}
