"""Tags of Classic Load Balancers (kept in the load balancer's record, so they go when it goes)."""

from __future__ import annotations

from ...aws.errors import AwsError
from ...core import tags as core_tags
from .model import MAX_TAGS, find_lb, invalid, save


def merge_tags(existing: dict, tags: list[dict]) -> dict:
    keys = [t["Key"] for t in tags]
    if len(set(keys)) != len(keys):
        raise AwsError("DuplicateTagKeys", "A tag key was specified more than once.")
    new = core_tags.to_dict(tags)
    try:
        core_tags.validate(new, existing)
    except core_tags.TagError as exc:
        if "exceeds" in str(exc):
            raise AwsError("TooManyTags", f"The quota for the number of tags that can be assigned to a load balancer "
                                          f"has been reached ({MAX_TAGS}).")
        raise invalid(str(exc))
    return {**existing, **new}


def add_tags(ctx, p):
    lbs = [find_lb(ctx, name) for name in p["LoadBalancerNames"]]
    merged = [merge_tags(lb["_tags"], p["Tags"]) for lb in lbs]  # all checked before any is changed
    for lb, tags in zip(lbs, merged):
        lb["_tags"] = tags
        save(ctx, lb)
    return {}


def remove_tags(ctx, p):
    lbs = [find_lb(ctx, name) for name in p["LoadBalancerNames"]]
    gone = {t["Key"] for t in p["Tags"]}
    for lb in lbs:
        lb["_tags"] = {k: v for k, v in lb["_tags"].items() if k not in gone}
        save(ctx, lb)
    return {}


def describe_tags(ctx, p):
    out = []
    for name in dict.fromkeys(p["LoadBalancerNames"]):
        lb = find_lb(ctx, name)
        out.append({"LoadBalancerName": name, "Tags": core_tags.to_list(lb["_tags"])})
    return {"TagDescriptions": out}
