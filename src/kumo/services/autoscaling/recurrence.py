"""Recurrence of scheduled actions: Unix cron (five fields) in a time zone, stepped as a pure function.

    minute hour day-of-month month day-of-week
    * , - / in every field; JAN-DEC and SUN-SAT names; day-of-week 0-7 (0 and 7 are Sunday).
    As in Unix cron, when both day fields are restricted a day matching either one fires.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...core.cron import field as _field

_MONTHS = {m: i + 1 for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                                            "NOV", "DEC"))}
_DAYS = {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
SEARCH_DAYS = 366 * 8  # far enough for any valid expression (29 February needs up to 8 years)


class RecurrenceError(ValueError):
    pass


@dataclass(frozen=True)
class Recurrence:
    minutes: frozenset
    hours: frozenset
    days: frozenset
    months: frozenset
    weekdays: frozenset  # 0 = Sunday
    any_day: bool  # day-of-month is *
    any_weekday: bool  # day-of-week is *
    zone: dt.tzinfo

    def _day_ok(self, day: dt.date) -> bool:
        if day.month not in self.months:
            return False
        weekday = (day.weekday() + 1) % 7
        dom, dow = day.day in self.days, weekday in self.weekdays
        if self.any_day and self.any_weekday:
            return True
        if self.any_day:
            return dow
        if self.any_weekday:
            return dom
        return dom or dow

    def next_after(self, when: float) -> float | None:
        """The first firing strictly after ``when`` (epoch seconds)."""
        local = dt.datetime.fromtimestamp(when, self.zone)
        day = local.date()
        for _ in range(SEARCH_DAYS):
            if self._day_ok(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        moment = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
                        stamp = moment.timestamp()
                        # A wall time skipped by a DST change does not exist there: skip it.
                        if dt.datetime.fromtimestamp(stamp, self.zone).replace(tzinfo=None) != moment.replace(
                                tzinfo=None):
                            continue
                        if stamp > when:
                            return stamp
            day += dt.timedelta(days=1)
        return None


def zone(name: str | None) -> dt.tzinfo:
    if not name:
        return dt.timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RecurrenceError(f"Invalid time zone: {name}")


def parse(expression: str, time_zone: str | None = None) -> Recurrence:
    fields = (expression or "").split()
    if len(fields) != 5:
        raise RecurrenceError(f"Invalid recurrence string: {expression}")
    minute, hour, dom, month, dow = fields
    try:
        weekdays = _field(dow, 0, 7, _DAYS)
        weekdays = frozenset(0 if d == 7 else d for d in weekdays)
        return Recurrence(_field(minute, 0, 59), _field(hour, 0, 23), _field(dom, 1, 31),
                          _field(month, 1, 12, _MONTHS), weekdays, dom in ("*", "?"), dow in ("*", "?"),
                          zone(time_zone))
    except (ValueError, KeyError) as exc:
        if isinstance(exc, RecurrenceError):
            raise
        raise RecurrenceError(f"Invalid recurrence string: {expression}")
