"""Schedule expressions, pure: AWS's rate() and cron() forms and when they fire next."""

import datetime as dt

import pytest

from kumo.core import schedules
from kumo.services.sns.delivery import MANAGED_POLICY, retry_delay


def at(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp()


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("expression", ["rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)",
                                        "rate(1 day)", "rate(7 days)", "cron(0 10 * * ? *)",
                                        "cron(15 12 * * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(0 8 1 * ? *)",
                                        "cron(0/15 * * * ? *)", "cron(0/10 * ? * MON-FRI *)",
                                        "cron(0/5 8-17 ? * MON-FRI *)", "cron(0 9 ? * 2#1 *)",
                                        "cron(0 0 L * ? *)", "cron(0 0 ? * 6L *)", "cron(0 12 15W * ? *)"])
def test_aws_documented_expressions_parse(expression):
    schedules.parse(expression)


@pytest.mark.parametrize("expression", ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(1 week)",
                                        "cron(0 10 * * * *)", "cron(0 10 ? * ? *)", "cron(0 10 * *)",
                                        "cron(61 10 * * ? *)", "cron(0 25 * * ? *)", "every minute", ""])
def test_bad_expressions(expression):
    with pytest.raises(schedules.ScheduleError):
        schedules.parse(expression)


def test_rate_steps_from_its_start():
    rate = schedules.parse("rate(5 minutes)")
    start = at("2026-01-01T00:00:00")
    assert rate.next_after(start, start) == start + 300
    assert rate.next_after(start + 300, start) == start + 600
    assert rate.next_after(start + 301, start) == start + 600


@pytest.mark.parametrize("expression, now, expected", [
    ("cron(0 10 * * ? *)", "2026-03-04T09:59:00", "2026-03-04T10:00"),
    ("cron(0 10 * * ? *)", "2026-03-04T10:00:00", "2026-03-05T10:00"),
    ("cron(0/15 * * * ? *)", "2026-03-04T10:01:00", "2026-03-04T10:15"),
    ("cron(0 18 ? * MON-FRI *)", "2026-03-06T19:00:00", "2026-03-09T18:00"),  # Friday evening -> Monday
    ("cron(0 8 1 * ? *)", "2026-03-04T00:00:00", "2026-04-01T08:00"),
    ("cron(0 0 L * ? *)", "2026-02-01T00:00:00", "2026-02-28T00:00"),
    ("cron(0 9 ? * 2#1 *)", "2026-03-04T00:00:00", "2026-04-06T09:00"),  # first Monday of April
    ("cron(0 0 ? * 6L *)", "2026-03-01T00:00:00", "2026-03-27T00:00"),  # last Friday of March
    ("cron(0 12 15W * ? *)", "2026-03-01T00:00:00", "2026-03-16T12:00"),  # the 15th is a Sunday
    ("cron(30 6 * * ? 2027)", "2026-03-04T00:00:00", "2027-01-01T06:30"),
])
def test_cron_next(expression, now, expected):
    assert iso(schedules.parse(expression).next_after(at(now))) == expected


def test_sns_retry_phases():
    default = {"minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3, "numNoDelayRetries": 0,
               "numMinDelayRetries": 0, "numMaxDelayRetries": 0, "backoffFunction": "linear"}
    assert [retry_delay(default, n) for n in (1, 2, 3, 4)] == [20, 20, 20, None]
    assert [retry_delay(MANAGED_POLICY, n) for n in (1, 2, 3, 4, 5)] == [0, 0, 0, 1, 1]
    backoff = [retry_delay(MANAGED_POLICY, n) for n in range(6, 16)]
    assert backoff == sorted(backoff) and backoff[-1] == pytest.approx(20)
    assert retry_delay(MANAGED_POLICY, 16) == 20 and retry_delay(MANAGED_POLICY, 100016) is None
