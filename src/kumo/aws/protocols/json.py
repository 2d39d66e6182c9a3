"""The json protocol (awsJson 1.0 and 1.1): X-Amz-Target names the operation."""

from __future__ import annotations

import json as _json
from typing import Any

from ..errors import AwsError, ProtocolError
from .base import HttpRequest, HttpResponse
from .document import Codec
from .jsontext import TextWriters
from .limits import load_json

CODEC = Codec(cbor=False, rename=True)
TEXT = TextWriters(CODEC.key)


def load_body(body: bytes) -> Any:
    if not body or not body.strip():
        return {}
    return load_json(body)


def dump(doc: Any) -> bytes:
    return _json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()


def parse_request(request: HttpRequest, operation) -> dict:
    doc = load_body(request.body)
    if not isinstance(doc, dict):
        raise ProtocolError("The request body must be a JSON object")
    shape = operation.input_shape
    return CODEC.read(shape, doc) if shape is not None else {}


def content_type(service_model) -> str:
    if service_model is None:
        return "application/x-amz-json-1.0"
    return f"application/x-amz-json-{service_model.metadata.get('jsonVersion', '1.0')}"


def serialize_response(operation, result: dict, request_id: str) -> HttpResponse:
    shape = operation.output_shape
    body = TEXT.text(shape, result or {}).encode() if shape is not None else b"{}"
    headers = {"Content-Type": content_type(operation.service_model), "x-amzn-RequestId": request_id}
    return HttpResponse(200, headers, body)


def error_document(error: AwsError, shape, codec: Codec, type_name: str) -> dict:
    """The body every document protocol uses for an error: __type, message, modeled members."""
    doc: dict[str, Any] = {"__type": type_name}
    message_key = "message"
    if shape is not None:
        for name in shape.members:
            if name.lower() == "message":
                message_key = name
        values = {k: v for k, v in error.fields.items() if k in shape.members}
        doc.update(codec.write(shape, values))
    doc[message_key] = error.message
    return doc


def error_type_and_headers(service_model, error: AwsError, shape, sender: bool) -> tuple[str, dict]:
    """``__type`` and extra headers; query-compatible services also name the query error code."""
    headers: dict[str, str] = {}
    type_name = shape.name if shape is not None else error.code
    if service_model is not None and "awsQueryCompatible" in service_model.metadata:
        headers["x-amzn-query-error"] = f"{error.code};{'Sender' if sender else 'Receiver'}"
    return type_name, headers


def serialize_error(service_model, error: AwsError, request_id: str) -> HttpResponse:
    status, sender, shape = error.resolve(service_model)
    type_name, headers = error_type_and_headers(service_model, error, shape, sender)
    headers.update({"Content-Type": content_type(service_model), "x-amzn-RequestId": request_id})
    headers.update(error.headers)
    return HttpResponse(status, headers, dump(error_document(error, shape, CODEC, type_name)))
