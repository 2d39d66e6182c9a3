"""Key tags: TagResource, UntagResource, ListResourceTags (TagKey/TagValue, as KMS names them)."""

from __future__ import annotations

from ...core import pagination
from ...core import tags as core_tags
from .model import KmsError, check_customer_managed, finder, invalid_state


def checked_tags(existing: list | None, new: list | None) -> list:
    """``existing`` with ``new`` merged in, as KMS checks them (TagException for a bad or surplus tag)."""
    incoming = core_tags.to_dict(new, "TagKey", "TagValue")
    current = core_tags.to_dict(existing, "TagKey", "TagValue")
    try:
        core_tags.validate(incoming, current)
    except core_tags.TagError as exc:
        raise KmsError("LimitExceededException" if "exceeds" in str(exc) else "TagException", str(exc)) from None
    current.update(incoming)
    return core_tags.to_list(current, "TagKey", "TagValue")


def _taggable(ctx, key_id: str, operation: str) -> dict:
    record = finder(ctx).key(key_id, aliases=False, other_accounts=False)
    check_customer_managed(record, operation)
    if record["KeyState"] == "PendingDeletion":
        raise invalid_state(f"{record['Arn']} is pending deletion.")
    return record


def tag_resource(ctx, p):
    record = _taggable(ctx, p["KeyId"], "TagResource")
    record["_tags"] = checked_tags(record["_tags"], p["Tags"])
    finder(ctx).save(record)
    return {}


def untag_resource(ctx, p):
    record = _taggable(ctx, p["KeyId"], "UntagResource")
    gone = set(p["TagKeys"])
    record["_tags"] = [t for t in record["_tags"] if t["TagKey"] not in gone]
    finder(ctx).save(record)
    return {}


def list_resource_tags(ctx, p):
    record = finder(ctx).key(p["KeyId"], aliases=False, other_accounts=False)
    items = sorted(record["_tags"], key=lambda t: t["TagKey"])
    try:
        page, token = pagination.paginate(items, p.get("Limit"), p.get("Marker"), lambda t: t["TagKey"],
                                          f"kms-tags|{record['Arn']}", default_limit=50)
    except pagination.InvalidToken:
        raise KmsError("InvalidMarkerException", "Invalid marker.") from None
    out = {"Tags": page, "Truncated": bool(token)}
    if token:
        out["NextMarker"] = token
    return out
