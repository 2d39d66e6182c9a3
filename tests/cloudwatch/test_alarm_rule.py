"""Composite alarm rules."""

import pytest

from kumo.services.cloudwatch.alarm_rule import RuleError, parse

STATES = {"cpu": "ALARM", "disk": "OK", "net io": "INSUFFICIENT_DATA",
          "arn:aws:cloudwatch:us-east-1:123456789012:alarm:mem": "ALARM"}


@pytest.mark.parametrize("rule, holds", [
    ("ALARM(cpu)", True),
    ('ALARM("cpu") AND OK(disk)', True),
    ("ALARM(cpu) AND NOT OK(disk)", False),
    ('ALARM(disk) OR INSUFFICIENT_DATA("net io")', True),
    ("ALARM(cpu) AND (ALARM(disk) OR OK(disk))", True),
    ("ALARM(disk) OR ALARM(cpu) AND OK(disk)", True),   # AND binds tighter than OR
    ("(ALARM(disk) OR ALARM(cpu)) AND ALARM(disk)", False),
    ("NOT NOT ALARM(cpu)", True),
    ("TRUE AND NOT FALSE", True),
    ("ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:mem)", True),
    ("ALARM(missing)", False),
    ("AT_LEAST(2, ALARM, (cpu, disk, arn:aws:cloudwatch:us-east-1:123456789012:alarm:mem))", True),
    ("AT_LEAST(50%, NOT OK, (cpu, disk))", True),
    ("AT_LEAST(3, ALARM, (cpu, disk))", False),
])
def test_rules(rule, holds):
    assert parse(rule).holds(STATES.get) is holds


def test_rule_names_its_alarms():
    assert parse('ALARM(a) OR (OK("b c") AND NOT INSUFFICIENT_DATA(d))').alarms == ["a", "b c", "d"]


@pytest.mark.parametrize("rule", ["ALARM(a", "ALARM(a) AND", "BOGUS(a)", "ALARM()", "ALARM(a) OK(b)", "(ALARM(a)"])
def test_bad_rules(rule):
    with pytest.raises(RuleError):
        parse(rule)
