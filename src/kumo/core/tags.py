"""Tags as AWS validates them, and conversions between their wire forms."""

from __future__ import annotations

from typing import Iterable

MAX_TAGS = 50
MAX_KEY = 128
MAX_VALUE = 256


class TagError(ValueError):
    """A tag set AWS would refuse; the message is AWS's wording."""


def to_dict(tags: Iterable[dict] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {t[key]: t.get(value, "") for t in (tags or [])}


def to_list(tags: dict[str, str] | None, key: str = "Key", value: str = "Value") -> list[dict]:
    return [{key: k, value: v} for k, v in (tags or {}).items()]


def validate(tags: dict[str, str], existing: dict[str, str] | None = None, allow_aws_prefix: bool = False) -> None:
    for k, v in tags.items():
        if not k or len(k) > MAX_KEY:
            raise TagError(f"Tag key '{k}' must be between 1 and {MAX_KEY} characters long.")
        if v is not None and len(v) > MAX_VALUE:
            raise TagError(f"Tag value for key '{k}' must be at most {MAX_VALUE} characters long.")
        if not allow_aws_prefix and k.lower().startswith("aws:"):
            raise TagError(f"Tag keys starting with 'aws:' are reserved for system use: '{k}'.")
    merged = dict(existing or {})
    merged.update(tags)
    if len(merged) > MAX_TAGS:
        raise TagError(f"The number of tags exceeds the limit of {MAX_TAGS}.")
