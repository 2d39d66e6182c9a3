"""Validation messages quote the offending value whole, as AWS does (issue 16: kumo cut it at 64 characters)."""

import pytest
from botocore.exceptions import ClientError


def test_long_value_is_quoted_whole(aws):
    events = aws("events", validate=False)
    name = "r" * 70 + "!"  # too long and outside the pattern
    with pytest.raises(ClientError) as e:
        events.describe_rule(Name=name)
    message = e.value.response["Error"]["Message"]
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert f"'{name}'" in message and "..." not in message
