"""The rest-json and rest-xml protocols: members bound to the URI, query
string, headers, status code and body, as each operation's model says."""

from __future__ import annotations

import base64
import json as _json
import re
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from ..errors import AwsError, ProtocolError
from . import xml

_CODE_AND_MESSAGE = ("Code", "code", "Message", "message")
from .base import REQUEST_LOCATIONS, RESPONSE_LOCATIONS, HttpRequest, HttpResponse, b64encode, format_timestamp, parse_scalar_text, scalar_text
from .document import Codec
from .json import TEXT, dump, error_document, load_body
from .limits import check_text, load_json
from ..streaming import FileBody

JSON = Codec(cbor=False, rename=True)


# -- URI templates ------------------------------------------------------------------


class UriTemplate:
    """``/2015-03-31/functions/{FunctionName}/invocations?Qualifier`` as a matcher."""

    def __init__(self, template: str):
        path, _, query = template.partition("?")
        self.template = template
        self.literal_query = [q.split("=", 1) for q in query.split("&") if q]
        self.labels: list[str] = []
        pattern = ["^"]
        pos = 0
        literal = 0
        for m in re.finditer(r"\{([^}]+)\}", path):
            chunk = path[pos:m.start()]
            pattern.append(re.escape(chunk))
            literal += len(chunk)
            name = m.group(1)
            if name.endswith("+"):
                name = name[:-1]
                pattern.append(f"(?P<g{len(self.labels)}>.+)")
            else:
                pattern.append(f"(?P<g{len(self.labels)}>[^/]+)")
            self.labels.append(name)
            pos = m.end()
        tail = path[pos:]
        pattern.append(re.escape(tail))
        literal += len(tail)
        if tail.endswith("/") and len(path) > 1:
            pattern.append("?")
        else:
            pattern.append("/?")
        pattern.append("$")
        self.regex = re.compile("".join(pattern))
        # More literal text means a more specific route.
        self.specificity = (literal, len(self.literal_query), -len(self.labels))

    def match(self, raw_path: str, query_keys: set[str]) -> dict[str, str] | None:
        m = self.regex.match(raw_path)
        if m is None:
            return None
        for pair in self.literal_query:
            if pair[0] not in query_keys:
                return None
        return {self.labels[i]: unquote(v) for i, v in enumerate(m.groups())}


@lru_cache(maxsize=4096)
def template(uri: str) -> UriTemplate:
    return UriTemplate(uri)


# -- requests ----------------------------------------------------------------------


def _split_header_list(value: str) -> list[str]:
    items, buf, quoted, escaped = [], [], False, False
    for ch in value:
        if escaped:
            buf.append(ch)
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            items.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
    items.append("".join(buf).strip())
    return items


def _header_value(shape, raw: str) -> Any:
    t = shape.type_name
    if t == "list":
        member = shape.member
        parts = _split_header_list(raw)
        if member.type_name == "timestamp" and (member.serialization.get("timestampFormat") or "rfc822") == "rfc822":
            # RFC 822 dates hold a comma of their own: "Mon, 16 Dec 2019 23:48:18 GMT".
            parts = [", ".join(parts[i:i + 2]) for i in range(0, len(parts), 2)]
        return [_header_value(member, p) for p in parts]
    if t == "string" and shape.serialization.get("jsonvalue"):
        try:
            text = base64.b64decode(raw)
        except ValueError:
            raise ProtocolError(f"Invalid JSON value in header: {raw!r}")
        return load_json(text)
    if t == "timestamp":
        return parse_scalar_text(shape, raw, shape.serialization.get("timestampFormat") or "rfc822")
    return parse_scalar_text(shape, raw)


def parse_request(request: HttpRequest, operation, labels: dict[str, str] | None = None, xml_body: bool = False) -> dict:
    shape = operation.input_shape
    if shape is None:
        return {}
    if labels is None:
        keys = {k for k, _ in parse_qsl(request.query, keep_blank_values=True)}
        labels = template(operation.http.get("requestUri", "/")).match(request.path, keys) or {}
    query = parse_qsl(request.query, keep_blank_values=True) if request.query else []
    params: dict[str, Any] = {}
    payload = shape.serialization.get("payload")
    for name, member in shape.members.items():
        loc = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if loc == "uri":
            if wire in labels:
                params[name] = parse_scalar_text(member, labels[wire])
        elif loc == "querystring":
            if member.type_name == "map":
                # Parameters bound to their own members take precedence over the catch-all map.
                named = {m.serialization.get("name", n) for n, m in shape.members.items()
                         if m.serialization.get("location") == "querystring" and m.type_name != "map"}
                found: dict[str, Any] = {}
                for k, v in query:
                    if k in named:
                        continue
                    if member.value.type_name == "list":
                        found.setdefault(k, []).append(parse_scalar_text(member.value.member, v))
                    else:
                        found.setdefault(k, parse_scalar_text(member.value, v))
                if found:
                    params[name] = found
            elif member.type_name == "list":
                values = [v for k, v in query if k == wire]
                if values:
                    params[name] = [parse_scalar_text(member.member, v) for v in values]
            else:
                values = [v for k, v in query if k == wire]
                if values:
                    params[name] = parse_scalar_text(member, values[0])
        elif loc == "header":
            raw = request.headers.get(wire)
            if raw is not None:
                check_text(raw, wire)
                if member.type_name == "list" and raw == "":
                    params[name] = []
                else:
                    params[name] = _header_value(member, raw)
        elif loc == "headers":
            prefix = wire.lower()
            found = {check_text(k[len(prefix):], k): check_text(v, k) for k, v in request.headers.items()
                     if k.lower().startswith(prefix)}
            if found:
                params[name] = found
    if payload:
        member = shape.members[payload]
        if member.type_name == "blob":
            if request.body:
                params[payload] = request.body
        elif member.type_name == "string":
            if request.body:
                params[payload] = request.body.decode("utf-8", "replace")
        elif request.body and request.body.strip():
            value = _read_body(member, request.body, xml_body)
            if value != {} or member.type_name != "structure":  # "{}" is how SDKs send no payload
                params[payload] = value
    elif request.body and request.body.strip() and any(
        m.serialization.get("location") not in REQUEST_LOCATIONS for m in shape.members.values()
    ):
        params.update(_read_body(shape, request.body, xml_body))
    return params


def _read_body(shape, body: bytes, xml_body: bool) -> Any:
    if xml_body:
        return xml.read(shape, xml.parse_document(body))
    doc = load_body(body)
    if not isinstance(doc, dict) and shape.type_name == "structure" and not shape.is_document_type:
        raise ProtocolError("The request body must be a JSON object")
    return JSON.read(shape, doc)


# -- responses ---------------------------------------------------------------------


def _header_text(shape, value: Any) -> str:
    t = shape.type_name
    if t == "list":
        parts = []
        for v in value:
            if v is None:
                continue
            text = _header_text(shape.member, v)
            if shape.member.type_name == "string" and ("," in text or '"' in text):
                text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
            parts.append(text)
        return ", ".join(parts)
    if t == "string" and shape.serialization.get("jsonvalue"):
        return b64encode(_json.dumps(value, separators=(",", ":")))
    if t == "timestamp":
        return str(format_timestamp(value, shape.serialization.get("timestampFormat") or "rfc822"))
    return scalar_text(shape, value)


def _bind_outside_body(shape, result: dict, headers: dict) -> int | None:
    status = None
    for name, member in shape.members.items():
        value = result.get(name)
        if value is None:
            continue
        loc = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if loc == "header":
            if member.type_name == "list" and not value:
                continue
            headers[wire] = _header_text(member, value)
        elif loc == "headers":
            for k, v in value.items():
                headers[wire + k] = str(v)
        elif loc == "statusCode":
            status = int(value)
    return status


def _xmlns(service_model) -> str:
    if service_model is None:
        return "https://amazonaws.com/doc/"
    md = service_model.metadata
    return md.get("xmlNamespace") or f"https://{md.get('endpointPrefix', '')}.amazonaws.com/doc/{md.get('apiVersion')}/"


def _xml_document(shape, value: dict, service_model, root: str | None = None) -> bytes:
    name = root or shape.serialization.get("name") or shape.name
    out: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>']
    if shape.type_name == "structure" and not shape.serialization.get("xmlNamespace"):
        inner: list[str] = []
        xml.write(inner, shape, value, name)
        # Give the root element the service's namespace, as AWS does.
        first = inner[0]
        if first.startswith(f"<{name}") and "xmlns=" not in first:
            inner[0] = f'<{name} xmlns="{xml.escape_attr(_xmlns(service_model))}"' + first[len(name) + 1:]
        out.extend(inner)
    else:
        xml.write(out, shape, value, name)
    return "".join(out).encode("utf-8", "replace")


def serialize_response(operation, result: dict, request_id: str, xml_body: bool = False) -> HttpResponse:
    shape = operation.output_shape
    result = result or {}
    status = operation.http.get("responseCode", 200)
    headers: dict[str, str] = {"x-amzn-RequestId": request_id}
    if shape is None:
        return HttpResponse(status, headers, b"")
    bound = _bind_outside_body(shape, result, headers)
    if bound is not None:
        status = bound
    payload = shape.serialization.get("payload")
    body = b""
    stream = None
    if payload:
        member = shape.members[payload]
        value = result.get(payload)
        if member.type_name in ("blob", "string"):
            if isinstance(value, FileBody):
                stream, value = value, None
            if value is not None:
                body = value.encode() if isinstance(value, str) else bytes(value)
            ctype = headers.get("Content-Type") or ("text/plain" if member.type_name == "string" else "application/octet-stream")
            headers.setdefault("Content-Type", ctype)
        elif value is not None:
            if xml_body:
                body = _xml_document(member, value, operation.service_model, member.serialization.get("name") or member.name)
            else:
                body = TEXT.text(member, value).encode()
    elif xml_body and operation.name == "GetBucketLocation":
        # S3 answers the bare element with the region as its text (botocore reads it so), not a wrapper.
        xmlns = _xmlns(operation.service_model)
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="{xmlns}">'
                f'{xml.escape(result.get("LocationConstraint") or "")}</LocationConstraint>').encode()
    else:
        has_body_members = any(m.serialization.get("location") not in RESPONSE_LOCATIONS for m in shape.members.values())
        if has_body_members and status != 204:
            if xml_body:
                body = _xml_document(shape, result, operation.service_model)
            else:
                body = TEXT.text(shape, result).encode()
    if body and "Content-Type" not in headers:
        headers["Content-Type"] = "application/xml" if xml_body else "application/json"
    return HttpResponse(status, headers, body, stream=stream)


def serialize_error(service_model, error: AwsError, request_id: str, xml_body: bool = False) -> HttpResponse:
    status, sender, shape = error.resolve(service_model)
    headers: dict[str, str] = {"x-amzn-RequestId": request_id}
    if shape is not None and error.fields:
        _bind_outside_body(shape, error.fields, headers)
    headers.update(error.headers)
    if xml_body and service_model is not None and service_model.metadata.get("serviceId") == "S3":
        return _s3_error(error, status, headers, request_id)
    if xml_body:
        fields: list[str] = []
        if shape is not None:
            values = {k: v for k, v in error.fields.items() if k in shape.members}
            xml.write_members(fields, shape, values, skip=_CODE_AND_MESSAGE)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<ErrorResponse xmlns="{xml.escape_attr(_xmlns(service_model))}"><Error>'
            f"<Type>{'Sender' if sender else 'Receiver'}</Type><Code>{xml.escape(error.code)}</Code>"
            f"<Message>{xml.escape(error.message or '')}</Message>{''.join(fields)}</Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers["Content-Type"] = "application/xml"
        return HttpResponse(status, headers, body.encode("utf-8", "replace"))
    headers["x-amzn-ErrorType"] = error.code
    headers["Content-Type"] = "application/json"
    doc = error_document(error, shape, JSON, error.code)
    doc.pop("__type", None)
    return HttpResponse(status, headers, dump(doc))


def _s3_error(error: AwsError, status: int, headers: dict, request_id: str) -> HttpResponse:
    """S3's own error document: a bare <Error> with the fields it names (BucketName, Key ...) beside Code."""
    extra = "".join(f"<{xml.escape(k)}>{xml.escape(str(v))}</{xml.escape(k)}>" for k, v in error.fields.items()
                    if v is not None and isinstance(v, (str, int, float)))
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{xml.escape(error.code)}</Code>'
            f"<Message>{xml.escape(error.message or '')}</Message>{extra}<RequestId>{request_id}</RequestId>"
            f"<HostId>{request_id}</HostId></Error>")
    headers["Content-Type"] = "application/xml"
    headers.setdefault("x-amz-request-id", request_id)
    return HttpResponse(status, headers, body.encode("utf-8", "replace"))


def quote_label(value: str, greedy: bool = False) -> str:
    return quote(value, safe="/~" if greedy else "~")
