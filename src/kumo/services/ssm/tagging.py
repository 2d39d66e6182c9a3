"""AddTagsToResource, RemoveTagsFromResource, ListTagsForResource, for parameters.

The other resource types these operations take (documents, maintenance windows, managed instances ...)
are Systems Manager capabilities kumo does not have, so no id of theirs exists: InvalidResourceId, as AWS
answers for an id it does not know.
"""

from __future__ import annotations

from ...aws.errors import AwsError
from ...core import tags as core_tags
from . import model, names


def _parameter(ctx, p) -> dict:
    if p["ResourceType"] != "Parameter":
        raise AwsError("InvalidResourceId", "The resource ID is not valid. Verify that you entered the correct ID "
                                            "and try again.")
    name = p["ResourceId"]
    if names.is_public(name):
        raise names.reserved_error(name)
    record = model.lookup(model.table(ctx), name)
    if record is None:
        raise AwsError("InvalidResourceId", "The resource ID is not valid. Verify that you entered the correct ID "
                                            "and try again.")
    return record


def add_tags_to_resource(ctx, p):
    record = _parameter(ctx, p)
    incoming = core_tags.to_dict(p["Tags"])
    current = core_tags.to_dict(record.get("_tags"))
    try:
        core_tags.validate(incoming, current)
    except core_tags.TagError as exc:
        if "exceeds" in str(exc):
            raise AwsError("TooManyTagsError", "The Targets parameter includes too many tags. Remove one or more "
                                               "tags and try again.")
        raise AwsError("ValidationException", str(exc))
    current.update(incoming)
    record["_tags"] = core_tags.to_list(current)
    model.table(ctx).put(record["Name"], record)
    return {}


def remove_tags_from_resource(ctx, p):
    record = _parameter(ctx, p)
    drop = set(p["TagKeys"])
    record["_tags"] = [t for t in record.get("_tags") or [] if t["Key"] not in drop]
    model.table(ctx).put(record["Name"], record)
    return {}


def list_tags_for_resource(ctx, p):
    return {"TagList": list(_parameter(ctx, p).get("_tags") or [])}
