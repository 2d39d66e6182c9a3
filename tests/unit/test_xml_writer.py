"""The generated XML writers write exactly what a plain walk of the model writes.

The reference below is the walk kumo used before writers were generated
(aws/protocols/xml_writer.py): every output shape of the XML services, filled
with values that exercise escaping, None members and list items, every scalar
type and self-referring shapes, must come out byte for byte the same.
"""

from __future__ import annotations

import datetime as dt
import random

import botocore.session
import pytest

from kumo.aws.protocols import xml_writer
from kumo.aws.protocols.base import RESPONSE_LOCATIONS, scalar_text


def _reference(out: list, shape, value, name: str, ts: str) -> None:
    t = shape.type_name
    ns = xml_writer.ns_attr(shape)
    if t == "structure":
        attrs, body = "", []
        for member, mshape in shape.members.items():
            if mshape.serialization.get("location") in RESPONSE_LOCATIONS:
                continue
            v = value.get(member)
            if v is None:
                continue
            if mshape.serialization.get("xmlAttribute"):
                attr = mshape.serialization.get("name", member)
                attrs += f' {attr}="{xml_writer.escape_attr(scalar_text(mshape, v, ts))}"'
            else:
                _reference(body, mshape, v, xml_writer.member_xml_name(mshape, member), ts)
        out.append(f"<{name}{ns}{attrs}>")
        out.extend(body)
        out.append(f"</{name}>")
    elif t == "list":
        flat = shape.serialization.get("flattened")
        inner = name if flat else shape.member.serialization.get("name", "member")
        if not flat:
            out.append(f"<{name}{ns}>")
        for v in value:
            if v is not None:
                _reference(out, shape.member, v, inner, ts)
        if not flat:
            out.append(f"</{name}>")
    elif t == "map":
        kname = shape.key.serialization.get("name", "key")
        vname = shape.value.serialization.get("name", "value")
        flat = shape.serialization.get("flattened")
        if not flat:
            out.append(f"<{name}{ns}>")
        for k, v in value.items():
            if v is None:
                continue
            out.append(f"<{name}>" if flat else "<entry>")
            _reference(out, shape.key, k, kname, ts)
            _reference(out, shape.value, v, vname, ts)
            out.append(f"</{name}>" if flat else "</entry>")
        if not flat:
            out.append(f"</{name}>")
    else:
        text = value if t in ("string", "character") and isinstance(value, str) else scalar_text(shape, value, ts)
        out.append(f"<{name}{ns}>{xml_writer.escape(text)}</{name}>")


def _sample(shape, rng: random.Random, depth: int = 0):
    t = shape.type_name
    if t == "structure":
        out = {}
        for member, mshape in shape.members.items():
            if rng.random() < 0.2 or (depth > 4 and mshape.type_name in ("structure", "list", "map")):
                continue
            out[member] = None if rng.random() < 0.1 else _sample(mshape, rng, depth + 1)
        return out
    if t == "list":
        return [None if rng.random() < 0.1 else _sample(shape.member, rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if t == "map":
        return {f"k{i}&<": (None if i == 1 else _sample(shape.value, rng, depth + 1)) for i in range(rng.randint(0, 3))}
    if t in ("string", "character"):
        return rng.choice(["plain-id", "a&b<c>d\re", "ünïcode ☃", "", "x" * 40, 12])
    if t in ("integer", "long", "short", "byte"):
        return rng.choice([0, -7, 2**40, True])
    if t in ("float", "double"):
        return rng.choice([1.5, 2, float("nan"), float("inf"), -float("inf"), 1e-7])
    if t == "boolean":
        return rng.choice([True, False, 0, 1])
    if t == "timestamp":
        return rng.choice([1700000000, 1700000000.123, 1700000000.9996,
                           dt.datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=dt.timezone.utc)])
    if t == "blob":
        return rng.choice([b"\x00\xffbytes", "text"])
    return "other"


SERVICES = ["ec2", "iam", "sts", "autoscaling", "elb", "elbv2", "cloudwatch", "sns", "s3", "route53", "cloudfront"]


@pytest.mark.parametrize("service", SERVICES)
def test_generated_writers_match_the_plain_walk(service):
    model = botocore.session.get_session().get_service_model(service)
    rng = random.Random(service)
    ops = model.operation_names
    if len(ops) > 200:  # EC2: a spread of its 700 operations keeps the test quick; its largest answers always
        ops = sorted(set(ops[::10]) | {"DescribeInstances", "RunInstances", "DescribeImages", "DescribeVpcs"})
    for op_name in ops:
        shape = model.operation_model(op_name).output_shape
        if shape is None:
            continue
        for ts in ("iso8601", "unixTimestamp"):
            for _ in range(3):
                value = _sample(shape, rng)
                expected: list[str] = []
                _reference(expected, shape, value, "Root", ts)
                got: list[str] = []
                xml_writer.write(got, shape, value, "Root", ts)
                assert "".join(got) == "".join(expected), op_name
                # The members alone (query and ec2 bodies) are the element without its own tags.
                members: list[str] = []
                xml_writer.write_members(members, shape, value, ts)
                inner = "".join(expected)
                assert "".join(members) == inner[inner.index(">") + 1:inner.rindex("</Root>")], op_name


def test_member_writer_skips_named_members():
    model = botocore.session.get_session().get_service_model("iam")
    shape = model.operation_model("GetRole").output_shape
    role = {"Role": {"RoleName": "r", "Arn": "arn"}}
    full, skipped = [], []
    xml_writer.write_members(full, shape, role)
    xml_writer.write_members(skipped, shape, role, skip=("Role",))
    assert "".join(full) == "<Role><RoleName>r</RoleName><Arn>arn</Arn></Role>"
    assert skipped == []
