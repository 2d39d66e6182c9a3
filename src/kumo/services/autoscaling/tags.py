"""An Auto Scaling group's tags: CreateOrUpdateTags, DeleteTags, DescribeTags, and the checks they share."""

from __future__ import annotations

from ...aws.errors import AwsError
from ...core import tags as tagging
from .model import GROUP, find_group, invalid, page, save_group, table


def check_tags(ctx, name: str, raw: list[dict], existing: list[dict] | None = None) -> list[dict]:
    tags = {t["Key"]: t for t in existing or []}
    for t in raw or []:
        key = t.get("Key")
        if not key:
            raise invalid("Tag key must be specified.")
        if key.lower().startswith("aws:"):
            raise invalid(f"Tag keys starting with 'aws:' are reserved for system use: '{key}'.")
        if len(key) > 128 or len(t.get("Value") or "") > 256:
            raise invalid(f"Tag key or value too long: '{key}'.")
        tags[key] = {"ResourceId": name, "ResourceType": "auto-scaling-group", "Key": key,
                     "Value": t.get("Value") or "", "PropagateAtLaunch": bool(t.get("PropagateAtLaunch", False))}
    if len(tags) > tagging.MAX_TAGS:
        raise AwsError("LimitExceeded", f"The number of tags exceeds the limit of {tagging.MAX_TAGS}.")
    return list(tags.values())


def _groups_of_tags(ctx, tags: list[dict]) -> dict[str, list[dict]]:
    by_group: dict[str, list[dict]] = {}
    for t in tags:
        if (t.get("ResourceType") or "auto-scaling-group") != "auto-scaling-group":
            raise invalid(f"Invalid resource type: {t.get('ResourceType')}")
        if not t.get("ResourceId"):
            raise invalid("ResourceId must be specified for each tag.")
        by_group.setdefault(t["ResourceId"], []).append(t)
    return by_group


def create_or_update_tags(ctx, p):
    for name, tags in _groups_of_tags(ctx, p["Tags"]).items():
        group = find_group(ctx, name)
        group["Tags"] = check_tags(ctx, name, tags, group.get("Tags"))
        save_group(ctx, ctx.scope, group)
    return {}


def delete_tags(ctx, p):
    for name, tags in _groups_of_tags(ctx, p["Tags"]).items():
        group = find_group(ctx, name)
        keys = {t["Key"] for t in tags}
        group["Tags"] = [t for t in group.get("Tags", []) if t["Key"] not in keys]
        save_group(ctx, ctx.scope, group)
    return {}


def describe_tags(ctx, p):
    fields = {"auto-scaling-group": "ResourceId", "key": "Key", "value": "Value",
              "propagate-at-launch": "PropagateAtLaunch"}
    tags = [t for g in sorted(table(ctx, GROUP).values(), key=lambda g: g["AutoScalingGroupName"])
            for t in sorted(g.get("Tags", []), key=lambda t: t["Key"])]
    for f in p.get("Filters") or []:
        field = fields.get(f.get("Name"))
        if field is None:
            raise invalid(f"Filter type {f.get('Name')} is not correct. Allowed Filter types are: auto-scaling-group "
                          f"key value propagate-at-launch")
        values = [v.lower() for v in f.get("Values") or []] if field == "PropagateAtLaunch" else f.get("Values") or []
        tags = [t for t in tags if (str(t[field]).lower() if field == "PropagateAtLaunch" else t[field]) in values]
    return page(tags, p, lambda t: f"{t['ResourceId']}\x00{t['Key']}", "Tags", f"tags/{ctx.scope}/{p.get('Filters')}")
