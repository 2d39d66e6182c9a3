"""TagResource and UntagResource."""

from __future__ import annotations

from .lifecycle import check_tags
from .model import find, save


def tag_resource(ctx, p):
    record = find(ctx, p["SecretId"])
    record["Tags"] = check_tags(p["Tags"], record.get("Tags"))
    save(ctx, record)
    return {}


def untag_resource(ctx, p):
    record = find(ctx, p["SecretId"])
    gone = set(p["TagKeys"])
    record["Tags"] = [t for t in record.get("Tags") or [] if t["Key"] not in gone]
    save(ctx, record)
    return {}
