"""Schedule expressions: rate() and cron(), parsed and stepped in pure functions (times in epoch seconds, UTC).

    rate(value unit)   unit: minute(s), hour(s), day(s); singular exactly when value is 1
    cron(minutes hours day-of-month month day-of-week year)
        * , - / everywhere; ? in one of the two day fields; L and W in day-of-month;
        L and # in day-of-week (1-7 = SUN-SAT, or SUN..SAT); JAN..DEC for months.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from .cron import field as _field, value as _value

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {d: i + 1 for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
MAX_YEARS = 200  # cron searches at most this far ahead (its year field ends at 2199)


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class Rate:
    seconds: int

    def next_after(self, when: float, start: float) -> float:
        """The first firing strictly after ``when``; firings fall every period from ``start``."""
        periods = int((when - start) // self.seconds) + 1
        return start + max(1, periods) * self.seconds


@dataclass(frozen=True)
class Cron:
    minutes: frozenset
    hours: frozenset
    dom: str  # raw day-of-month field (L and W need the month to resolve)
    months: frozenset
    dow: str  # raw day-of-week field
    years: frozenset | None

    def next_after(self, when: float, start: float = 0.0) -> float | None:
        t = dt.datetime.fromtimestamp(int(when) // 60 * 60 + 60, dt.timezone.utc)
        day = t.date()
        for _ in range(366 * MAX_YEARS):
            if (self.years is None or day.year in self.years) and day.month in self.months and self._day_ok(day):
                first_minute = t.hour * 60 + t.minute if day == t.date() else 0
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        if hour * 60 + minute >= first_minute:
                            moment = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.timezone.utc)
                            return moment.timestamp()
            if self.years is not None and day.year > max(self.years):
                return None
            day += dt.timedelta(days=1)
        return None

    def _day_ok(self, day: dt.date) -> bool:
        if self.dom != "?":
            return _dom_matches(self.dom, day)
        return _dow_matches(self.dow, day)


def parse(expression: str) -> Rate | Cron:
    expression = (expression or "").strip()
    m = _RATE.match(expression)
    if m:
        value, unit = int(m.group(1)), m.group(2)
        if value <= 0 or (value == 1) != (not unit.endswith("s")):
            raise ScheduleError(expression)
        return Rate(value * _UNIT[unit.rstrip("s")])
    m = _CRON.match(expression)
    if not m:
        raise ScheduleError(expression)
    fields = m.group(1).split()
    if len(fields) != 6:
        raise ScheduleError(expression)
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleError(expression)  # exactly one of the day fields must be "?"
    try:
        cron = Cron(_field(minutes, 0, 59), _field(hours, 0, 23), dom, _field(month, 1, 12, _MONTHS), dow,
                    None if year == "*" else _field(year, 1970, 2199))
        if dom != "?":
            _dom_matches(dom, dt.date(2024, 1, 1))
        else:
            _dow_matches(dow, dt.date(2024, 1, 1))
    except (ValueError, KeyError):
        raise ScheduleError(expression)
    return cron


def _dom_matches(field: str, day: dt.date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    for part in field.split(","):
        if part == "L":
            if day.day == last:
                return True
        elif part.endswith("W"):
            if day == _nearest_weekday(day.year, day.month, int(part[:-1]), last):
                return True
        elif day.day in _field(part, 1, 31):
            return True
    return False


def _nearest_weekday(year: int, month: int, target: int, last: int) -> dt.date:
    if not 1 <= target <= 31:
        raise ValueError(target)
    d = dt.date(year, month, min(target, last))
    if d.weekday() == 5:  # Saturday: Friday before, unless that leaves the month
        return d - dt.timedelta(days=1) if d.day > 1 else d + dt.timedelta(days=2)
    if d.weekday() == 6:  # Sunday: Monday after, unless that leaves the month
        return d + dt.timedelta(days=1) if d.day < last else d - dt.timedelta(days=2)
    return d


def _dow_matches(field: str, day: dt.date) -> bool:
    weekday = (day.weekday() + 1) % 7 + 1  # SUN=1 .. SAT=7
    last = calendar.monthrange(day.year, day.month)[1]
    for part in field.split(","):
        if "#" in part:
            name, nth = part.split("#")
            if not 1 <= int(nth) <= 5:
                raise ValueError(part)
            if weekday == _value(name, _DAYS) and (day.day - 1) // 7 + 1 == int(nth):
                return True
        elif part.endswith("L") and part != "L":
            if weekday == _value(part[:-1], _DAYS) and day.day + 7 > last:
                return True
        elif part == "L":
            if weekday == 7:
                return True
        elif weekday in _field(part, 1, 7, _DAYS):
            return True
    return False
