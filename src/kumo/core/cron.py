"""Cron field syntax shared by EventBridge schedules and Auto Scaling recurrences."""

from __future__ import annotations


def field(text: str, lo: int, hi: int, names: dict | None = None) -> frozenset:
    """The values a cron field names: ``*``/``?``, lists, ranges, steps (``a/n`` runs to ``hi``), names."""
    out: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
            if step <= 0:
                raise ValueError(text)
        if part in ("*", "?"):
            first, last = lo, hi
        elif "-" in part:
            a, b = part.split("-", 1)
            first, last = value(a, names), value(b, names)
        else:
            first = value(part, names)
            last = hi if step > 1 else first
        if not (lo <= first <= hi and lo <= last <= hi) or first > last:
            raise ValueError(text)
        out.update(range(first, last + 1, step))
    return frozenset(out)


def value(text: str, names: dict | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    return int(text)
