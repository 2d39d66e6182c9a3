"""Metric alarm evaluation (sans-IO): datapoints of the evaluation range in, a verdict out.

CloudWatch retrieves more periods than EvaluationPeriods (the *evaluation
range*; N + 2 here, as in AWS's documented examples) and decides, as its
guide ("How the alarm state is evaluated when data is missing") describes:

* at least N real datapoints in the range: the N most recent are evaluated
  and TreatMissingData plays no part;
* fewer: every real datapoint of the range is evaluated, plus as few filled
  ones as make N.  ``breaching`` and ``notBreaching`` fill with that verdict.
  ``ignore`` and ``missing`` fill with nothing: M breaching datapoints still
  alarm and a non-breaching one means OK; with neither, ``ignore`` keeps the
  state while ``missing`` goes to INSUFFICIENT_DATA, except that a breaching
  verdict left from before the last N periods (the metric stopped) stays ALARM;
* no real datapoint at all: missing -> INSUFFICIENT_DATA, ignore -> unchanged,
  breaching -> ALARM, notBreaching -> OK.

tests/cloudwatch/test_alarm_eval.py checks every row of AWS's two tables.
"""

from __future__ import annotations

import datetime as _dt
import json
import operator
from dataclasses import dataclass, field

OK, ALARM, INSUFFICIENT = "OK", "ALARM", "INSUFFICIENT_DATA"
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")
EXTRA_PERIODS = 2

OPERATORS = {
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}
ANOMALY_OPERATORS = ("LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold",
                     "GreaterThanUpperThreshold")


@dataclass
class Point:
    timestamp: float
    value: float | None  # None: no data for this period
    samples: float = 0.0


@dataclass
class Verdict:
    state: str
    reason: str
    data: dict = field(default_factory=dict)


def breaches(value: float, comparison: str, threshold: float) -> bool:
    return OPERATORS[comparison][0](value, threshold)


def _stamp(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%d/%m/%y %H:%M:%S")


def iso_ms(ts: float) -> str:
    """AWS's timestamp format inside alarm JSON: 2026-11-27T06:40:00.000+0000."""
    d = _dt.datetime.fromtimestamp(ts, _dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}+0000"


def _num(v: float) -> str:
    return repr(float(v))


def _plural(n: int, word: str = "datapoint") -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def evaluate(points: list[Point], *, m: int, n: int, comparison: str, threshold: float, treat: str,
             current: str) -> Verdict | None:
    """The alarm's state after looking at ``points`` (oldest first); None keeps the current state."""
    treat = treat or "missing"
    words = OPERATORS[comparison][1]
    real = [p for p in points if p.value is not None]
    if len(real) >= n:
        evaluated = real[-n:]
        return _crossed(evaluated, [], m, n, comparison, threshold, words)
    if not real:
        if treat == "missing":
            return Verdict(INSUFFICIENT, f"Insufficient Data: {_plural(n)} {'were' if n != 1 else 'was'} unknown.")
        if treat == "ignore":
            return None
        state = ALARM if treat == "breaching" else OK
        label = "Breaching" if treat == "breaching" else "NonBreaching"
        return Verdict(state, f"Threshold Crossed: no datapoints were received for {_plural(n, 'period')} and "
                              f"{n} missing datapoint{'s were' if n != 1 else ' was'} treated as [{label}].")
    fill = n - len(real)
    if treat in ("breaching", "notBreaching"):
        return _crossed(real, [treat == "breaching"] * fill, m, n, comparison, threshold, words)
    bad = [p for p in real if breaches(p.value, comparison, threshold)]
    if len(bad) >= m or len(bad) < len(real):
        return _crossed(real, [], m, n, comparison, threshold, words)
    if treat == "ignore":
        return None
    newest_window = points[-n:]
    if any(p.value is not None for p in newest_window):
        return Verdict(INSUFFICIENT, f"Insufficient Data: {_plural(fill)} {'were' if fill != 1 else 'was'} unknown.")
    return _crossed(real, [], len(real), len(real), comparison, threshold, words)


def _crossed(real: list[Point], filled: list[bool], m: int, n: int, comparison: str, threshold: float,
             words: str) -> Verdict:
    bad = [p for p in real if breaches(p.value, comparison, threshold)]
    good = [p for p in real if not breaches(p.value, comparison, threshold)]
    n_bad = len(bad) + sum(1 for f in filled if f)
    n_good = len(good) + sum(1 for f in filled if not f)
    alarm = n_bad >= m
    shown = bad if alarm else good
    count = n_bad if alarm else n_good
    listed = ", ".join(f"{_num(p.value)} ({_stamp(p.timestamp)})" for p in reversed(shown))
    verb = "was" if count == 1 else "were"
    rel = words if alarm else f"not {words}"
    if n == 1:
        head = f"Threshold Crossed: 1 datapoint [{listed}] {verb} {rel} the threshold ({_num(threshold)})."
        return Verdict(ALARM if alarm else OK, head)
    need = m if alarm else n - m + 1
    transition = "OK -> ALARM" if alarm else "ALARM -> OK"
    missing = len(filled)
    extra = ""
    if missing:
        label = "Breaching" if filled and filled[0] else "NonBreaching"
        extra = f" and {missing} missing datapoint{'s were' if missing != 1 else ' was'} treated as [{label}]"
    reason = (f"Threshold Crossed: {count} out of the last {n} datapoints [{listed}] {verb} {rel} the threshold "
              f"({_num(threshold)}){extra} (minimum {_plural(need)} for {transition} transition).")
    return Verdict(ALARM if alarm else OK, reason)


def reason_data(verdict: Verdict, points: list[Point], *, now: float, period: int, threshold: float,
                statistic: str | None, unit: str | None, n: int) -> str:
    """StateReasonData as AWS writes it for a metric alarm (a JSON string)."""
    real = [p for p in points if p.value is not None]
    data: dict = {"version": "1.0", "queryDate": iso_ms(now)}
    if points:
        data["startDate"] = iso_ms(points[0].timestamp)
    if statistic:
        data["statistic"] = statistic
    if unit:
        data["unit"] = unit
    data["period"] = period
    data["recentDatapoints"] = [p.value for p in real]
    data["threshold"] = float(threshold)
    evaluated = []
    for p in reversed(points[-n:] if len(real) < n else real[-n:]):
        item = {"timestamp": iso_ms(p.timestamp)}
        if p.value is not None:
            if p.samples:
                item["sampleCount"] = float(p.samples)
            item["value"] = p.value
        evaluated.append(item)
    data["evaluatedDatapoints"] = evaluated
    return json.dumps(data, separators=(",", ":"))
