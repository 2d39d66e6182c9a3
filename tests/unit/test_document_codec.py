"""The compiled JSON/CBOR codecs give exactly what walking the shapes gave, on real botocore shapes.

``walk_write`` and ``walk_read`` below are the shape walks the compiled codecs replaced, kept here as the
reference: for every operation of several services (recursive shapes, renamed members, timestamps in each
format, blobs, special floats, document types, nested maps and lists), values generated from the shape are
written by both and must encode to the same bytes; the documents read back must give the same values; and
malformed documents must be refused with the same error.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random

import botocore.session
import cbor2
import pytest
from cbor2 import CBORTag

from kumo.aws.errors import ProtocolError
from kumo.aws.protocols.base import (REQUEST_LOCATIONS, RESPONSE_LOCATIONS, b64decode, b64encode, format_timestamp,
                                     json_float, member_value_check, parse_timestamp, to_epoch)
from kumo.aws.protocols.document import Codec
from kumo.aws.protocols.jsontext import TextWriters

SERVICES = ("cloudwatch", "lambda", "sqs", "dynamodb", "apigateway", "kinesis", "logs", "ecs", "events",
            "bedrock-agent-runtime")


def walk_read(codec: Codec, shape, value):
    if value is None:
        return None
    t = shape.type_name
    if t == "structure":
        if shape.is_document_type:
            return value
        if not isinstance(value, dict):
            raise ProtocolError(f"Expected an object for {shape.name}, got {type(value).__name__}")
        out = {}
        for member_name, member_shape in shape.members.items():
            if member_shape.serialization.get("location") in REQUEST_LOCATIONS:
                continue
            raw = value.get(codec.key(member_shape, member_name))
            if raw is not None:
                out[member_name] = walk_read(codec, member_shape, raw)
        return out
    if t == "list":
        if not isinstance(value, list):
            raise ProtocolError(f"Expected a list for {shape.name}, got {type(value).__name__}")
        return [walk_read(codec, shape.member, v) for v in value]
    if t == "map":
        if not isinstance(value, dict):
            raise ProtocolError(f"Expected a map for {shape.name}, got {type(value).__name__}")
        return {k: walk_read(codec, shape.value, v) for k, v in value.items()}
    if t == "timestamp":
        if isinstance(value, dt.datetime):
            return to_epoch(value)
        if isinstance(value, CBORTag):
            value = value.value
        if isinstance(value, bool):
            raise ProtocolError("Expected a timestamp, got a boolean")
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, str):
            return parse_timestamp(value, shape.serialization.get("timestampFormat"))
        raise ProtocolError(f"Expected a timestamp, got {type(value).__name__}")
    if t == "blob":
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        if isinstance(value, str):
            return b64decode(value)
        raise ProtocolError(f"Expected a blob, got {type(value).__name__}")
    return member_value_check(shape, value)


def epoch_number(value):
    epoch = to_epoch(value)
    if isinstance(epoch, float) and epoch.is_integer():
        return int(epoch)
    return round(epoch, 3) if isinstance(epoch, float) and not math.isnan(epoch) else epoch


def walk_write(codec: Codec, shape, value):
    t = shape.type_name
    if t == "structure":
        if shape.is_document_type:
            return value
        out = {}
        for member_name, member_shape in shape.members.items():
            v = value.get(member_name)
            if v is None or member_shape.serialization.get("location") in RESPONSE_LOCATIONS:
                continue
            out[codec.key(member_shape, member_name)] = walk_write(codec, member_shape, v)
        return out
    if t == "list":
        return [None if v is None else walk_write(codec, shape.member, v) for v in value]
    if t == "map":
        return {k: (None if v is None else walk_write(codec, shape.value, v)) for k, v in value.items()}
    if t == "timestamp":
        if codec.cbor:
            return CBORTag(1, epoch_number(value))
        return format_timestamp(value, shape.serialization.get("timestampFormat") or "unixTimestamp")
    if t == "blob":
        if codec.cbor:
            return value.encode() if isinstance(value, str) else bytes(value)
        return b64encode(value)
    if t in ("float", "double"):
        return float(value) if codec.cbor else json_float(value)
    if t in ("integer", "long", "short", "byte"):
        return int(value)
    if t == "boolean":
        return bool(value)
    return value


FLOATS = [0.0, 1.5, -2.25, 1e300, 3, float("nan"), float("inf"), float("-inf"), 0.1 + 0.2]
TIMES = [0, 1700000000, 1700000000.5, 1700000000.1234, dt.datetime(2026, 12, 3, 13, 1, 2, 500000),
         dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), "2026-12-03T13:01:02Z", 1e9 + 0.0004]


def sample(shape, rng: random.Random, depth: int = 0):
    """A value of the shape as a handler could return it (None now and then in lists and maps)."""
    t = shape.type_name
    if t == "structure":
        if shape.is_document_type:
            return rng.choice([{"a": [1, "x", None, {"b": 2.5}]}, [1, 2], "text", 7, None])
        if depth > 4:
            return {}
        return {name: sample(member, rng, depth + 1) for name, member in shape.members.items() if rng.random() < 0.8}
    if t == "list":
        n = 0 if depth > 4 else rng.randint(0, 3)
        return [None if rng.random() < 0.1 else sample(shape.member, rng, depth + 1) for _ in range(n)]
    if t == "map":
        n = 0 if depth > 4 else rng.randint(0, 3)
        return {f"k{i}": None if rng.random() < 0.1 else sample(shape.value, rng, depth + 1) for i in range(n)}
    if t == "timestamp":
        return rng.choice(TIMES)
    if t == "blob":
        return rng.choice([b"\x00\xffbytes", "text blob", bytearray(b"ba")])
    if t in ("float", "double"):
        return rng.choice(FLOATS)
    if t in ("integer", "long", "short", "byte"):
        return rng.choice([0, -5, 2**40, 3.0, True])
    if t == "boolean":
        return rng.choice([True, False, 1, 0])
    return rng.choice(["", "text", "ünïcode", "x" * 40])


def encode(codec: Codec, doc) -> bytes:
    if codec.cbor:
        return cbor2.dumps(doc)
    return json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()


def _operations():
    session = botocore.session.get_session()
    for name in SERVICES:
        model = session.get_service_model(name)
        for op in model.operation_names:
            yield name, model.operation_model(op)


OPERATIONS = list(_operations())
CODECS = {"json": lambda: Codec(cbor=False, rename=True), "cbor": lambda: Codec(cbor=True, rename=False)}


@pytest.mark.parametrize("kind", sorted(CODECS))
def test_writes_match_the_shape_walk(kind):
    codec, rng, compared = CODECS[kind](), random.Random(14), 0
    for _, op in OPERATIONS:
        for shape in (op.output_shape, op.input_shape, *op.error_shapes):
            if shape is None:
                continue
            for _ in range(4):
                value = sample(shape, rng)
                assert encode(codec, codec.write(shape, value)) == encode(codec, walk_write(codec, shape, value)), \
                    (op.name, shape.name)
                compared += 1
    assert compared > 2000


@pytest.mark.parametrize("kind", sorted(CODECS))
def test_reads_match_the_shape_walk(kind):
    codec, rng, compared = CODECS[kind](), random.Random(15), 0
    for _, op in OPERATIONS:
        shape = op.input_shape
        if shape is None:
            continue
        for _ in range(4):
            doc = walk_write(codec, shape, sample(shape, rng))
            if not codec.cbor:
                doc = json.loads(encode(codec, doc))  # as the request body would read
            got, want = codec.read(shape, doc), walk_read(codec, shape, doc)
            assert _same(got, want), (op.name, got, want)
            compared += 1
    assert compared > 500


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _shape(service: str, name: str):
    return botocore.session.get_session().get_service_model(service).shape_for(name)


@pytest.mark.parametrize("kind", sorted(CODECS))
@pytest.mark.parametrize("service,shape_name,doc", [
    ("cloudwatch", "GetMetricStatisticsInput", {"Namespace": 5}),
    ("cloudwatch", "GetMetricStatisticsInput", {"Statistics": "Sum"}),
    ("cloudwatch", "GetMetricStatisticsInput", {"StartTime": True}),
    ("cloudwatch", "GetMetricStatisticsInput", {"StartTime": [1]}),
    ("cloudwatch", "GetMetricStatisticsInput", {"StartTime": "yesterday"}),
    ("cloudwatch", "GetMetricStatisticsInput", {"Period": 1.5}),
    ("cloudwatch", "GetMetricStatisticsInput", {"Period": "60"}),
    ("cloudwatch", "GetMetricStatisticsInput", {"Dimensions": [{"Name": "a", "Value": None}, "x"]}),
    ("cloudwatch", "PutMetricDataInput", {"MetricData": [{"MetricName": "m", "Value": "high"}]}),
    ("cloudwatch", "PutMetricDataInput", {"MetricData": [{"MetricName": "m", "StorageResolution": False}]}),
    ("dynamodb", "PutItemInput", {"TableName": "t", "Item": {"a": {"B": 5}}}),
    ("dynamodb", "PutItemInput", {"TableName": "t", "Item": ["a"]}),
    ("dynamodb", "PutItemInput", {"TableName": "t", "Item": {"a": {"BOOL": "yes"}}}),
    ("dynamodb", "PutItemInput", {"TableName": "t", "Item": {"a": {"M": {"b": {"NULL": True, "L": {}}}}}}),
    ("sqs", "SendMessageRequest", {"QueueUrl": "u", "MessageBody": "b", "DelaySeconds": None}),
    ("sqs", "SendMessageRequest", {"QueueUrl": "u", "MessageAttributes": {"a": {"DataType": "Binary",
                                                                             "BinaryValue": 3}}}),
    ("events", "PutEventsRequest", {"Entries": [{"Time": "2026-12-03T00:00:00Z", "Detail": "{}"}]}),
])
def test_malformed_documents_are_refused_alike(kind, service, shape_name, doc):
    codec, shape = CODECS[kind](), _shape(service, shape_name)
    try:
        want = ("ok", walk_read(codec, shape, doc))
    except ProtocolError as e:
        want = ("error", str(e))
    try:
        got = ("ok", codec.read(shape, doc))
    except ProtocolError as e:
        got = ("error", str(e))
    assert _same(got, want)


def test_a_day_of_datapoints_matches_byte_for_byte():
    """GetMetricStatistics's answer at 1,440 points x 5 statistics, in both document protocols."""
    shape = _shape("cloudwatch", "GetMetricStatisticsOutput")
    points = [{"Timestamp": 1764720000 + 60 * i, "SampleCount": 1.0, "Average": i * 0.5, "Sum": float(i),
               "Minimum": 0.1 * i, "Maximum": i, "Unit": "None"} for i in range(1440)]
    value = {"Label": "floor", "Datapoints": points}
    for codec in (CODECS["json"](), CODECS["cbor"]()):
        assert encode(codec, codec.write(shape, value)) == encode(codec, walk_write(codec, shape, value))
    codec = CODECS["json"]()
    assert TextWriters(codec.key).text(shape, value).encode() == encode(codec, walk_write(codec, shape, value))


def test_renamed_members_are_written_and_read_under_their_wire_name():
    """API Gateway's lists travel as "item" (locationName): JSON renames, RPCv2 CBOR does not."""
    shape = _shape("apigateway", "RestApis")
    value = {"items": [{"id": "a1", "name": "api", "createdDate": 1700000000}], "position": "p"}
    json_doc = CODECS["json"]().write(shape, value)
    assert json_doc == {"position": "p", "item": [{"id": "a1", "name": "api", "createdDate": 1700000000}]}
    assert CODECS["json"]().read(shape, json_doc) == value
    assert "items" in CODECS["cbor"]().write(shape, value)


def test_json_text_is_what_dumping_the_document_gives():
    """The JSON answers' text, written straight from the shape, is byte for byte json.dumps of the document."""
    codec, rng, compared = CODECS["json"](), random.Random(16), 0
    text = TextWriters(codec.key)
    for _, op in OPERATIONS:
        for shape in (op.output_shape, op.input_shape):
            if shape is None:
                continue
            for _ in range(4):
                value = sample(shape, rng)
                assert text.text(shape, value).encode() == encode(codec, walk_write(codec, shape, value)), \
                    (op.name, shape.name)
                compared += 1
    assert compared > 1500


def test_json_text_refuses_what_json_refuses():
    """A timestamp that is not a number (NaN) cannot be written, by either way."""
    codec = CODECS["json"]()
    shape = _shape("cloudwatch", "Datapoint")
    with pytest.raises(ValueError):
        encode(codec, walk_write(codec, shape, {"Timestamp": float("nan")}))
    with pytest.raises(ValueError):
        TextWriters(codec.key).text(shape, {"Timestamp": float("nan")})
