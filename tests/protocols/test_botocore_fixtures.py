"""botocore's protocol fixtures, run inverted against kumo's protocol layer.

* input cases: kumo parses the serialized HTTP request back into the case's params;
* output cases: kumo serializes the case's result (or error), and botocore's own
  client parser, reading kumo's bytes, must give the result back.

Counts are printed at the end of the run (see conftest.py).
"""

from __future__ import annotations

import base64
import copy
import math

import pytest
from botocore.awsrequest import HeadersDict
from botocore.model import NoShapeFoundError, OperationModel, ServiceModel
from botocore.parsers import create_parser
from botocore.utils import parse_timestamp
from dateutil.tz import tzutc

from kumo.aws import protocols
from kumo.aws.errors import AwsError
from kumo.aws.protocols.base import HttpRequest

from .fixtures import load_cases

# Expected failures, each with the reason it cannot pass.  Keep this list short.
_NO_TRACE = "an empty collection leaves nothing on the wire, so no server can tell it from an absent one"
_QUERY_MAP = (
    "these fixtures also put query parameters bound to named members into the catch-all map; kumo "
    "follows RestJsonQueryParamsStringListMap and the rest-xml fixtures, where named members take precedence"
)
XFAIL: dict[tuple[str, str], str] = {
    ("input", "Ec2EmptyQueryLists"): _NO_TRACE,
    ("input", "QueryEmptyQueryMaps"): _NO_TRACE,
    ("input", "RestJsonOmitsEmptyListQueryValues"): _NO_TRACE,
    ("input", "RestJsonHttpPrefixHeadersAreNotPresent"): _NO_TRACE,
    ("input", "HttpPrefixHeadersAreNotPresent"): _NO_TRACE,
    ("input", "RestJsonAllQueryStringTypes"): _QUERY_MAP,
    ("input", "RestJsonQueryStringEscaping"): _QUERY_MAP,
    ("input", "RestJsonSupportsNaNFloatQueryValues"): _QUERY_MAP,
    ("input", "RestJsonSupportsInfinityFloatQueryValues"): _QUERY_MAP,
    ("input", "RestJsonSupportsNegativeInfinityFloatQueryValues"): _QUERY_MAP,
    ("input", "RestJsonZeroAndFalseQueryValues"): _QUERY_MAP,
    # A header map with an empty prefix binds every response header, and every kumo
    # response carries x-amzn-RequestId (as AWS's do), so the client reads that one back too.
    ("output", "HttpPrefixHeadersResponse"): "every response carries x-amzn-RequestId, which a prefix-less header map picks up",
}


def _params(kind):
    out = []
    for protocol_file, suite, case, ident, skip in load_cases(kind):
        marks = []
        if skip:
            marks.append(pytest.mark.skip(reason=skip))
        elif (kind, case.get("id")) in XFAIL:
            marks.append(pytest.mark.xfail(reason=XFAIL[(kind, case["id"])], strict=True))
        out.append(pytest.param(suite, case, id=ident, marks=marks))
    return out


def _normalize(value):
    """Compare values the way the fixtures write them: bytes as text, special floats as strings.

    A member set to None is one the client does not send, so it compares as absent.
    """
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8")
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer():
            return int(value)
    return value


def _model(suite, case):
    description = copy.deepcopy({k: v for k, v in suite.items() if k != "cases"})
    name = case.get("given", {}).get("name", "OperationName")
    description["operations"] = {name: case["given"]}
    model = ServiceModel(description)
    return model, OperationModel(case["given"], model, name)


@pytest.mark.parametrize("suite, case", _params("input"))
def test_input(suite, case):
    model, operation = _model(suite, case)
    protocol = model.metadata["protocol"]
    serialized = case["serialized"]
    body = serialized.get("body", "") or ""
    body = base64.b64decode(body) if protocol == "smithy-rpc-v2-cbor" else body.encode("utf-8")
    request = HttpRequest.from_raw(serialized.get("method", "POST"), serialized["uri"], serialized.get("headers", {}), body)
    parsed = protocols.parse_request(protocol, request, operation)
    assert _normalize(parsed) == _normalize(case["params"])


def _timestamp(value):
    return parse_timestamp(value).astimezone(tzutc()).timestamp()


@pytest.mark.parametrize("suite, case", _params("output"))
def test_output(suite, case):
    model, operation = _model(suite, case)
    protocol = model.metadata["protocol"]
    case = copy.deepcopy(case)
    if "error" in case:
        error = AwsError(case.get("errorCode", ""), case.get("errorMessage", ""), fields=case["error"])
        response = protocols.serialize_error(protocol, model, error, "request-id")
    else:
        if protocol == "query" and operation.output_shape is not None and operation.output_shape.members:
            # As botocore's own runner does: real query models always name the result wrapper.
            operation.output_shape.serialization["resultWrapper"] = f"{operation.name}Result"
        response = protocols.serialize_response(protocol, operation, case["result"], "request-id")
    parser = create_parser(protocol)
    parser._timestamp_parser = _timestamp
    wire = {
        "status_code": response.status,
        "headers": HeadersDict(response.headers),
        "body": response.body,
        "context": {"operation_name": operation.name},
    }
    if "error" in case:
        parsed = parser.parse(wire, operation.output_shape)
        try:
            error_shape = model.shape_for_error_code(parsed.get("Error", {}).get("Code"))
        except NoShapeFoundError:
            error_shape = None
        if error_shape is not None:
            parsed.update(parser.parse(wire, error_shape))
        parsed.pop("ResponseMetadata", None)
        parsed["Error"] = {k: v for k, v in parsed["Error"].items() if k in ("Code", "Message")}
        expected = {"Error": {"Code": case.get("errorCode", ""), "Message": case.get("errorMessage", "")}}
        expected.update(case["error"])
        assert response.status >= 400
    else:
        parsed = parser.parse(wire, operation.output_shape)
        parsed.pop("ResponseMetadata", None)
        expected = case["result"]
    assert _normalize(parsed) == _normalize(expected)


def test_expected_failures_stay_under_two_percent():
    runnable = sum(1 for kind in ("input", "output") for *_, skip in load_cases(kind) if not skip)
    assert runnable > 600, "botocore's fixtures went missing"
    assert len(XFAIL) <= 0.02 * runnable, f"{len(XFAIL)} expected failures of {runnable} cases"
