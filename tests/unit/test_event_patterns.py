"""Event patterns, pure: AWS's documented examples, validation, and SNS filter-policy attribute forms."""

import json

import pytest

from kumo.services.events import patterns
from kumo.services.sns import filter_policy
from tests.events.pattern_cases import CASES, EVENT, INVALID


def test_the_table_covers_every_operator():
    covered = {op for op, _, _ in CASES}
    for op in ("exact", "prefix", "prefix-ignore-case", "suffix", "suffix-ignore-case", "anything-but",
               "anything-but-number", "anything-but-prefix", "anything-but-suffix", "anything-but-ignore-case",
               "anything-but-wildcard", "numeric", "cidr", "exists", "equals-ignore-case", "wildcard", "$or",
               "nested", "and", "array", "null", "empty"):
        assert op in covered
    assert len(CASES) >= 40


@pytest.mark.parametrize("op, pattern, expected", CASES, ids=[f"{i}-{c[0]}" for i, c in enumerate(CASES)])
def test_documented_examples(op, pattern, expected):
    patterns.check(pattern)
    assert patterns.matches(pattern, EVENT) is expected


@pytest.mark.parametrize("pattern", INVALID, ids=range(len(INVALID)))
def test_invalid_patterns_are_refused(pattern):
    with pytest.raises(patterns.PatternError):
        patterns.parse(json.dumps(pattern))


def test_missing_object_matches_only_absence():
    assert patterns.matches({"detail": {"x": [{"exists": False}]}}, {"source": "a"})
    assert not patterns.matches({"detail": {"x": ["1"]}}, {"source": "a"})
    assert not patterns.matches({"detail": ["a"]}, {"detail": {"x": 1}})  # a leaf never matches an object


def test_arrays_of_objects():
    event = {"detail": {"items": [{"sku": "a", "n": 1}, {"sku": "b", "n": 7}]}}
    assert patterns.matches({"detail": {"items": {"n": [{"numeric": [">", 5]}]}}}, event)
    assert not patterns.matches({"detail": {"items": {"sku": ["c"]}}}, event)


def test_wildcard_escapes():
    assert patterns.matches({"k": [{"wildcard": r"a\*b"}]}, {"k": "a*b"})
    assert not patterns.matches({"k": [{"wildcard": r"a\*b"}]}, {"k": "axxb"})


def test_sns_attribute_forms():
    attrs = {"store": {"DataType": "String", "StringValue": "example_corp"},
             "price": {"DataType": "Number", "StringValue": "210.75"},
             "size": {"DataType": "Number", "StringValue": "3"},
             "colors": {"DataType": "String.Array", "StringValue": json.dumps(["red", "green"])},
             "blob": {"DataType": "Binary", "BinaryValue": b"x"}}
    policy = lambda d: filter_policy.check(json.dumps(d), "MessageAttributes")  # noqa: E731
    assert filter_policy.matches(policy({"store": ["example_corp"], "price": [{"numeric": [">=", 100]}]}),
                                 "MessageAttributes", attrs, "")
    assert filter_policy.matches(policy({"colors": ["green"]}), "MessageAttributes", attrs, "")
    assert filter_policy.matches(policy({"size": [3]}), "MessageAttributes", attrs, "")
    assert not filter_policy.matches(policy({"blob": [{"exists": True}]}), "MessageAttributes", attrs, "")
    assert filter_policy.matches(policy({"missing": [{"exists": False}]}), "MessageAttributes", attrs, "")
    with pytest.raises(Exception):
        filter_policy.check(json.dumps({"a": {"b": ["c"]}}), "MessageAttributes")  # nesting needs MessageBody
    body = filter_policy.check(json.dumps({"a": {"b": ["c"]}}), "MessageBody")
    assert filter_policy.matches(body, "MessageBody", None, json.dumps({"a": {"b": "c"}}))
    assert not filter_policy.matches(body, "MessageBody", None, "plain text")
