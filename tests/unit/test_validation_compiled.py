"""The compiled request checks report exactly what walking the shapes reported, in the same order.

``Walker`` below is the walk the compiled checkers replaced, kept as the reference. For every operation of
several services, parameters generated to break the models' constraints now and then (missing required
members, lengths and ranges out of bounds, values outside enums, nested lists and maps) must give the same
missing and invalid messages from both.
"""

from __future__ import annotations

import random

import botocore.session
import pytest

from kumo.aws.validation import OPEN_ENUMS, _lower_first, _num, _Problems, _show, checker

SERVICES = ("ec2", "cloudwatch", "sqs", "iam", "lambda", "dynamodb", "autoscaling", "elbv2", "logs", "sns")


class Walker:
    def __init__(self, check_enums: bool = True) -> None:
        self.missing: list[str] = []
        self.invalid: list[str] = []
        self.check_enums = check_enums

    def walk(self, shape, value, path: str) -> None:
        t = shape.type_name
        if value is None:
            return
        if t == "structure":
            if shape.is_document_type or not isinstance(value, dict):
                return
            for req in shape.required_members:
                if value.get(req) is None:
                    p = f"{path}.{_lower_first(req)}" if path else _lower_first(req)
                    self.missing.append(f"Value null at '{p}' failed to satisfy constraint: Member must not be null")
            for name, member in shape.members.items():
                if name in value:
                    p = f"{path}.{_lower_first(name)}" if path else _lower_first(name)
                    self.walk(member, value[name], p)
            return
        meta = shape.metadata
        if t == "list":
            if not isinstance(value, list):
                return
            self._length(meta, len(value), value, path, "length")
            for i, item in enumerate(value, 1):
                self.walk(shape.member, item, f"{path}.{i}" if path else str(i))
            return
        if t == "map":
            if not isinstance(value, dict):
                return
            self._length(meta, len(value), value, path, "length")
            for k, v in value.items():
                self.walk(shape.key, k, path)
                self.walk(shape.value, v, f"{path}.{k}")
            return
        if t == "string":
            if not isinstance(value, str):
                return
            self._length(meta, len(value), value, path, "length")
            enum = shape.enum if self.check_enums else None
            if enum and value not in enum:
                self.invalid.append(
                    f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                    f"Member must satisfy enum value set: [{', '.join(enum)}]"
                )
            return
        if t == "blob":
            if isinstance(value, (bytes, bytearray)):
                self._length(meta, len(value), value, path, "length")
            return
        if t in ("integer", "long", "short", "byte", "float", "double"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return
            lo, hi = meta.get("min"), meta.get("max")
            if lo is not None and value < lo:
                self.invalid.append(
                    f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                    f"Member must have value greater than or equal to {_num(lo)}"
                )
            if hi is not None and value > hi:
                self.invalid.append(
                    f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                    f"Member must have value less than or equal to {_num(hi)}"
                )

    def _length(self, meta, n, value, path, what) -> None:
        lo, hi = meta.get("min"), meta.get("max")
        if lo is not None and n < lo:
            self.invalid.append(
                f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                f"Member must have {what} greater than or equal to {_num(lo)}"
            )
        if hi is not None and n > hi:
            self.invalid.append(
                f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                f"Member must have {what} less than or equal to {_num(hi)}"
            )


def params(shape, rng: random.Random, depth: int = 0):
    """Parameters of the shape that break its constraints now and then (and its types, rarely)."""
    t = shape.type_name
    if rng.random() < 0.03:
        return rng.choice([None, "wrong", 5, [1], {"a": 1}, True])
    if t == "structure":
        if shape.is_document_type or depth > 5:
            return {}
        return {name: params(member, rng, depth + 1) for name, member in shape.members.items()
                if rng.random() < 0.5}
    if t == "list":
        return [params(shape.member, rng, depth + 1) for _ in range(rng.choice([0, 1, 2, 3, 150]) if depth < 4 else 0)]
    if t == "map":
        return {f"k{i}": params(shape.value, rng, depth + 1) for i in range(rng.randint(0, 3) if depth < 4 else 0)}
    if t == "string":
        options = ["", "ok", "x" * 300, "bogus-value"] + list(shape.enum or [])[:3]
        return rng.choice(options)
    if t == "blob":
        return rng.choice([b"", b"xy", b"z" * 5000])
    if t in ("integer", "long", "short", "byte"):
        return rng.choice([-1, 0, 1, 7, 10**12, True])
    if t in ("float", "double"):
        return rng.choice([-1.5, 0.0, 2.5, 1e20])
    if t == "boolean":
        return rng.choice([True, False])
    return rng.choice([0, 1700000000, "2026-01-01T00:00:00Z"])


@pytest.mark.parametrize("service", SERVICES)
def test_compiled_checks_report_what_the_walk_reported(service):
    model = botocore.session.get_session().get_service_model(service)
    rng, reported = random.Random(service), 0
    check_enums = service not in OPEN_ENUMS
    for op_name in model.operation_names:
        shape = model.operation_model(op_name).input_shape
        if shape is None:
            continue
        fn = checker(shape, check_enums)
        for _ in range(5):
            value = params(shape, rng)
            want = Walker(check_enums)
            want.walk(shape, value, "")
            got = _Problems()
            if fn is not None:
                fn(value, "", got)
            assert (got.missing, got.invalid) == (want.missing, want.invalid), op_name
            reported += bool(want.missing or want.invalid)
    assert reported > 20  # the generated parameters did break constraints
