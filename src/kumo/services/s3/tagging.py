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


# -- handlers ---------------------------------------------------------------------------------------------


def _tagset(params) -> list[dict]:
    return [{"Key": t.get("Key"), "Value": t.get("Value", "")} for t in (params.get("Tagging") or {}).get("TagSet")
            or []]


def put_bucket_tagging(ctx, params):
    from . import buckets

    record = buckets.for_request(ctx, params)
    tags = _tagset(params)
    check(tags, 50)
    record["_tags"] = tags
    buckets.table(ctx.store).put(record["Name"], record)
    return {}


def get_bucket_tagging(ctx, params):
    from . import buckets

    record = buckets.for_request(ctx, params)
    if not record.get("_tags"):
        raise AwsError("NoSuchTagSet", "The TagSet does not exist", status=404, BucketName=record["Name"])
    return {"TagSet": record["_tags"]}


def delete_bucket_tagging(ctx, params):
    from . import buckets

    record = buckets.for_request(ctx, params)
    record["_tags"] = None
    buckets.table(ctx.store).put(record["Name"], record)
    return {}


def _version(ctx, params):
    from . import buckets, objects

    buckets.for_request(ctx, params)
    return objects.find(ctx.kumo, params["Bucket"], params["Key"], params.get("VersionId"))


def _answer(v) -> dict:
    return {"VersionId": v.version} if v.version != "null" else {}


def put_object_tagging(ctx, params):
    from . import storage

    v = _version(ctx, params)
    tags = _tagset(params)
    check(tags, 10)
    v.meta["Tags"] = tags
    storage.update_meta(ctx.store, v)
    return _answer(v)


def get_object_tagging(ctx, params):
    v = _version(ctx, params)
    return {"TagSet": v.meta.get("Tags") or [], **_answer(v)}


def delete_object_tagging(ctx, params):
    from . import storage

    v = _version(ctx, params)
    v.meta.pop("Tags", None)
    storage.update_meta(ctx.store, v)
    return _answer(v)


__all__ = ["put_bucket_tagging", "get_bucket_tagging", "delete_bucket_tagging", "put_object_tagging",
           "get_object_tagging", "delete_object_tagging"]
