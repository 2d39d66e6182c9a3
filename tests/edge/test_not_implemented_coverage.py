"""Every operation `kumo coverage` reports as missing answers 501 NotImplemented naming it (issue 16, part 9)."""

import datetime
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from kumo import coverage

PER_SERVICE = 4  # a sample of each service's missing operations keeps the test fast


def _dummy(shape):
    kind = shape.type_name
    if kind == "structure":
        return {name: _dummy(member) for name, member in shape.members.items() if name in shape.required_members}
    return {"string": "x", "integer": 1, "long": 1, "boolean": False, "double": 1.0, "float": 1.0, "list": [],
            "map": {}, "blob": b"x", "timestamp": datetime.datetime(2026, 1, 1)}.get(kind, "x")


def _samples():
    for svc in coverage.report():
        for op in svc.missing[:PER_SERVICE]:
            yield svc.name, op


@pytest.mark.parametrize("service, operation", list(_samples()))
def test_missing_operation_answers_501_naming_it(aws, service, operation):
    client = aws(service, validate=False)
    model = client.meta.service_model.operation_model(operation)
    params = _dummy(model.input_shape) if model.input_shape is not None else {}
    with pytest.raises(ClientError) as e:
        getattr(client, coverage.xform_name(operation))(**params)
    err = e.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert err["Error"]["Code"] == "NotImplemented"
    assert operation in err["Error"]["Message"]


def test_kumo_coverage_command_prints_counts_per_service():
    out = subprocess.run([sys.executable, "-m", "kumo.cli", "coverage", "--summary"], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    for svc in coverage.report():
        assert f"{svc.name}: {len(svc.implemented)} of {svc.total} operations implemented" in out
    assert out.splitlines()[-1].startswith("total: ")
