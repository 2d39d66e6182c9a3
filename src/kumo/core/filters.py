"""AWS's ``Filters`` (Name + Values) as EC2 and friends apply them.

Within one filter the values are ORed; across filters the conditions are
ANDed.  Values may hold ``*`` and ``?`` wildcards.  ``tag:<key>``,
``tag-key`` and ``tag-value`` work on any record that has tags.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

Accessor = Callable[[Any], Any]


class UnknownFilter(ValueError):
    def __init__(self, name: str):
        super().__init__(f"The filter '{name}' is invalid")
        self.name = name


@lru_cache(maxsize=1024)
def _pattern(value: str) -> re.Pattern:
    # AWS escapes wildcards with a backslash; fnmatch has no escape, so translate by hand.
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value) and value[i + 1] in "*?\\":
            out.append(re.escape(value[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def value_matches(actual: Any, wanted: Iterable[str]) -> bool:
    """Does ``actual`` (a scalar or a list of scalars) match any wanted value?"""
    if actual is None:
        return False
    actuals = actual if isinstance(actual, (list, tuple, set)) else [actual]
    for a in actuals:
        if a is None:
            continue
        text = ("true" if a else "false") if isinstance(a, bool) else str(a)
        for w in wanted:
            if _pattern(w).match(text):
                return True
    return False


def tags_of(record: Any) -> dict[str, str]:
    tags = record.get("Tags") if isinstance(record, dict) else None
    if isinstance(tags, dict):
        return tags
    if isinstance(tags, list):
        return {t.get("Key"): t.get("Value", "") for t in tags}
    return {}


def apply(
    records: Iterable[Any],
    filters: list[dict] | None,
    accessors: Mapping[str, Accessor],
    tags: Callable[[Any], dict[str, str]] = tags_of,
) -> list[Any]:
    """Keep the records that pass every filter; unknown names raise UnknownFilter."""
    records = list(records)
    for f in filters or []:
        name = f.get("Name") or ""
        values = [v for v in (f.get("Values") or []) if v is not None]
        if name.startswith("tag:"):
            key = name[4:]
            records = [r for r in records if value_matches(tags(r).get(key), values)]
        elif name == "tag-key":
            records = [r for r in records if value_matches(list(tags(r)), values)]
        elif name == "tag-value":
            records = [r for r in records if value_matches(list(tags(r).values()), values)]
        elif name in accessors:
            get = accessors[name]
            records = [r for r in records if value_matches(get(r), values)]
        else:
            raise UnknownFilter(name)
    return records
