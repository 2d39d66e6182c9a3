"""Tags on buckets and objects (TagSet: up to 50 on a bucket, 10 on an object)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from ...aws.errors import AwsError


def parse_tagging_header(text: str) -> list[dict]:
    """``x-amz-tagging: k1=v1&k2=v2`` as a TagSet."""
    tags = [{"Key": k, "Value": v} for k, v in parse_qsl(text, keep_blank_values=True)]
    check(tags, 10)
    return tags


def check(tags: list[dict], limit: int) -> None:
    keys = [t.get("Key") for t in tags]
    if len(tags) > limit:
        raise AwsError("BadRequest", f"Object tags cannot be greater than {limit}" if limit == 10 else
                       "Bucket tag count cannot be greater than 50", status=400)
    if len(set(keys)) != len(keys):
        raise AwsError("InvalidTag", "Cannot provide multiple Tags with the same key", status=400)
    for t in tags:
        key, value = t.get("Key") or "", t.get("Value") or ""
        if not key or len(key) > 128:
            raise AwsError("InvalidTag", "The TagKey you have provided is invalid", status=400)
        if len(value) > 256:
            raise AwsError("InvalidTag", "The TagValue you have provided is invalid", status=400)
        if key.startswith("aws:"):
            raise AwsError("InvalidTag", "System tags cannot be added/updated by requester", status=400)
