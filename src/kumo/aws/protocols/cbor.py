"""smithy-rpc-v2-cbor: ``POST /service/<Service>/operation/<Operation>`` with CBOR bodies."""

from __future__ import annotations

import cbor2

from ..errors import AwsError, ProtocolError
from .base import HttpRequest, HttpResponse
from .document import Codec
from .limits import InvalidText, check_document
from .json import error_document, error_type_and_headers

CODEC = Codec(cbor=True, rename=False)
CONTENT_TYPE = "application/cbor"


def split_path(path: str) -> tuple[str, str] | None:
    """(service, operation) from an RPCv2 path, or None."""
    parts = path.split("/")
    # ['', 'service', <svc>, 'operation', <op>] possibly behind a path prefix
    if len(parts) >= 5 and parts[-4] == "service" and parts[-2] == "operation":
        return parts[-3], parts[-1]
    return None


def parse_request(request: HttpRequest, operation) -> dict:
    shape = operation.input_shape
    if not request.body:
        return {}
    try:
        doc = cbor2.loads(request.body)
    except RecursionError:
        raise ProtocolError("The request body nests too deeply")
    except Exception as exc:
        if isinstance(exc, UnicodeDecodeError) or isinstance(exc.__cause__, UnicodeDecodeError):
            # A text string that is not UTF-8 (a surrogate's bytes among them): bad text, not bad framing.
            raise InvalidText("1 validation error detected: Value failed to satisfy constraint: "
                              "Member must contain only valid Unicode characters")
        raise ProtocolError(f"The request body is not valid CBOR: {exc}")
    if not isinstance(doc, dict):
        raise ProtocolError("The request body must be a CBOR map")
    check_document(doc)
    return CODEC.read(shape, doc) if shape is not None else {}


def _headers(request_id: str) -> dict:
    return {"Content-Type": CONTENT_TYPE, "smithy-protocol": "rpc-v2-cbor", "x-amzn-RequestId": request_id}


def serialize_response(operation, result: dict, request_id: str) -> HttpResponse:
    shape = operation.output_shape
    doc = CODEC.write(shape, result or {}) if shape is not None else {}
    return HttpResponse(200, _headers(request_id), cbor2.dumps(doc))


def serialize_error(service_model, error: AwsError, request_id: str) -> HttpResponse:
    status, sender, shape = error.resolve(service_model)
    type_name, headers = error_type_and_headers(service_model, error, shape, sender)
    namespace = service_model.metadata.get("targetPrefix", "") if service_model is not None else ""
    headers.update(_headers(request_id))
    headers.update(error.headers)
    doc = error_document(error, shape, CODEC, f"{namespace}#{type_name}" if namespace else type_name)
    return HttpResponse(status, headers, cbor2.dumps(doc))
