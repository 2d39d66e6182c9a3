"""Request parsing and response serialization for the six protocols botocore knows.

Everything here is driven by botocore's service model objects; service code
only ever sees and returns plain dicts keyed by the model's member names.
"""

from __future__ import annotations

from ..errors import AwsError
from . import cbor, json, query, rest
from .base import HttpRequest, HttpResponse

PROTOCOLS = ("query", "ec2", "json", "rest-json", "rest-xml", "smithy-rpc-v2-cbor")


def parse_request(protocol: str, request: HttpRequest, operation, **kw) -> dict:
    if protocol == "query":
        return query.parse_request(request, operation, ec2=False, pairs=kw.get("pairs"))
    if protocol == "ec2":
        return query.parse_request(request, operation, ec2=True, pairs=kw.get("pairs"))
    if protocol == "json":
        return json.parse_request(request, operation)
    if protocol == "rest-json":
        return rest.parse_request(request, operation, kw.get("labels"), xml_body=False)
    if protocol == "rest-xml":
        return rest.parse_request(request, operation, kw.get("labels"), xml_body=True)
    if protocol == "smithy-rpc-v2-cbor":
        return cbor.parse_request(request, operation)
    raise ValueError(f"unknown protocol {protocol}")


def serialize_response(protocol: str, operation, result: dict, request_id: str) -> HttpResponse:
    if protocol in ("query", "ec2"):
        return query.serialize_response(operation, result, request_id, ec2=protocol == "ec2")
    if protocol == "json":
        return json.serialize_response(operation, result, request_id)
    if protocol in ("rest-json", "rest-xml"):
        return rest.serialize_response(operation, result, request_id, xml_body=protocol == "rest-xml")
    if protocol == "smithy-rpc-v2-cbor":
        return cbor.serialize_response(operation, result, request_id)
    raise ValueError(f"unknown protocol {protocol}")


def serialize_error(protocol: str, service_model, error: AwsError, request_id: str) -> HttpResponse:
    if protocol in ("query", "ec2"):
        return query.serialize_error(service_model, error, request_id, ec2=protocol == "ec2")
    if protocol == "json":
        return json.serialize_error(service_model, error, request_id)
    if protocol in ("rest-json", "rest-xml"):
        return rest.serialize_error(service_model, error, request_id, xml_body=protocol == "rest-xml")
    if protocol == "smithy-rpc-v2-cbor":
        return cbor.serialize_error(service_model, error, request_id)
    raise ValueError(f"unknown protocol {protocol}")


__all__ = ["HttpRequest", "HttpResponse", "PROTOCOLS", "parse_request", "serialize_response", "serialize_error"]
