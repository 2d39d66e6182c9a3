"""The filter-pattern matcher against AWS's documented examples."""

import pytest

from kumo.services.logs.patterns import PatternError, compile, split_fields

from .filter_examples import EXAMPLES, LINES


@pytest.mark.parametrize("pattern, expected", EXAMPLES, ids=[e[0] or "<empty>" for e in EXAMPLES])
def test_documented_examples(pattern, expected):
    match = compile(pattern)
    assert {key for key, line in LINES.items() if match(line)} == expected


def test_terms_are_case_sensitive():
    assert compile("error")("ERROR message") is False


def test_space_delimited_fields_group_brackets_and_quotes():
    assert split_fields(LINES["access-404"]) == ["127.0.0.1", "-", "frank", "10/Oct/2000:13:25:15 -0700",
                                                 "GET /index.html HTTP/1.0", "404", "1534"]


@pytest.mark.parametrize("bad", ["{ $.a = ", "{ $.a = 1", "[a, b", "{ a = 1 }", "{ $.a ~ 1 }", "%(%"])
def test_malformed_patterns_are_refused(bad):
    with pytest.raises(PatternError):
        compile(bad)
