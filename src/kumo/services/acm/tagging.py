"""Certificate tags: AddTagsToCertificate, RemoveTagsFromCertificate, ListTagsForCertificate."""

from __future__ import annotations

import unicodedata

from ...aws.errors import AwsError
from ...core import tags as core_tags
from .model import find, pattern_error, save

_TAG_PATTERN = r"[\p{L}\p{Z}\p{N}_.:\/=+\-@]*"
_TAG_PUNCTUATION = set("_.:/=+-@")


def _allowed(text: str) -> bool:
    # The model's pattern uses Unicode classes Python's re lacks: letters, separators, numbers.
    return all(c in _TAG_PUNCTUATION or unicodedata.category(c)[0] in "LZN" for c in text)


def _check_pattern(tags: list[dict]) -> None:
    for n, tag in enumerate(tags, 1):
        if not _allowed(tag["Key"]):
            raise pattern_error(tag["Key"], f"tags.{n}.member.key", _TAG_PATTERN)
        if tag.get("Value") is not None and not _allowed(tag["Value"]):
            raise pattern_error(tag["Value"], f"tags.{n}.member.value", _TAG_PATTERN)


def merge(existing: list[dict] | None, new: list[dict] | None) -> list[dict]:
    """``existing`` with ``new`` added (a key already there takes the new value), as ACM checks them."""
    new = new or []
    _check_pattern(new)
    incoming = core_tags.to_dict(new)
    current = core_tags.to_dict(existing)
    try:
        core_tags.validate(incoming, current)
    except core_tags.TagError as exc:
        raise AwsError("TooManyTagsException" if "exceeds" in str(exc) else "InvalidTagException", str(exc))
    current.update(incoming)
    return core_tags.to_list(current)


def add_tags_to_certificate(ctx, p):
    record = find(ctx, p["CertificateArn"])
    record["_tags"] = merge(record.get("_tags"), p["Tags"])
    save(ctx, record)
    return {}


def remove_tags_from_certificate(ctx, p):
    record = find(ctx, p["CertificateArn"])
    _check_pattern(p["Tags"])
    for tag in p["Tags"]:
        if tag["Key"].lower().startswith("aws:"):
            raise AwsError("InvalidTagException", f"Tag keys starting with 'aws:' are reserved for system use: "
                                                  f"'{tag['Key']}'.")
    kept = []
    for tag in record.get("_tags") or []:
        # A tag given with a value is removed only while it still has that value.
        if any(t["Key"] == tag["Key"] and t.get("Value") in (None, tag["Value"]) for t in p["Tags"]):
            continue
        kept.append(tag)
    record["_tags"] = kept
    save(ctx, record)
    return {}


def list_tags_for_certificate(ctx, p):
    return {"Tags": list(find(ctx, p["CertificateArn"]).get("_tags") or [])}
