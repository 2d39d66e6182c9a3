"""Big answers serialised off the loop (aws/offload.py): which answers count as big, and the same bytes."""

from __future__ import annotations

import asyncio

from kumo.aws import offload, specs
from kumo.aws.protocols import serialize_response


def test_small_answers_stay_on_the_loop():
    assert not offload.big({"Roles": [{"RoleName": f"r{i}"} for i in range(100)], "IsTruncated": False})
    assert not offload.big({"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:root"})
    assert not offload.big({})


def test_long_lists_and_nested_lists_are_big():
    assert offload.big({"Datapoints": [{"Sum": 1.0} for _ in range(1440)], "Label": "x"})
    reservations = [{"ReservationId": f"r-{i}", "Instances": [{"InstanceId": f"i-{i}-{j}"} for j in range(50)]}
                    for i in range(40)]
    assert offload.big({"Reservations": reservations})


def test_offloaded_answer_is_byte_for_byte_the_inline_one():
    model = specs.service_model("cloudwatch")
    op = model.operation_model("GetMetricStatistics")
    result = {"Label": "day", "Datapoints": [
        {"Timestamp": 1_700_000_000 + 60 * i, "SampleCount": 1.0, "Average": float(i % 100), "Sum": float(i % 100),
         "Minimum": float(i % 100), "Maximum": float(i % 100), "Unit": "None"} for i in range(1440)]}
    assert offload.big(result)
    for protocol in specs.protocols_of(model):
        inline = serialize_response(protocol, op, result, "rid")
        moved = asyncio.run(offload.serialize(protocol, op, result, "rid"))
        assert (moved.status, moved.headers, moved.body) == (inline.status, inline.headers, inline.body), protocol
