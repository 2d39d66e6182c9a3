"""The query and ec2 protocols: form-encoded requests, XML responses.

A request's flat keys (``Filter.1.Value.2``) are first folded into a tree
(``{"Filter": {"1": {"Value": {"2": ...}}}}``), then read by walking the input
shape over it, so lists, maps and nested structures need no special parsing.
ec2 differs from query only in names (``queryName``, capitalised
``locationName``), in lists (always ``Name.N``), and in the response and error
envelopes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from ..errors import AwsError, ProtocolError
from . import xml
from .base import HttpRequest, HttpResponse, parse_scalar_text
from .limits import MAX_DEPTH, MAX_FIELDS, too_deep

_CODE_AND_MESSAGE = ("Code", "code", "Message", "message")

_LEAF = ""  # key of a node's own value when it also has children


def form_params(request: HttpRequest) -> list[tuple[str, str]]:
    # Percent-escapes that are not UTF-8 decode to U+FFFD (parse_qsl's "replace"), so no lone surrogate gets in.
    try:
        pairs = parse_qsl(request.query, keep_blank_values=True, max_num_fields=MAX_FIELDS) if request.query else []
        ctype = request.headers.get("Content-Type", "")
        if request.body and (not ctype or "x-www-form-urlencoded" in ctype):
            try:
                text = request.body.decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolError("The request body is not valid UTF-8")
            pairs += parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise ProtocolError(f"The request has more than {MAX_FIELDS} parameters")
    return pairs


def _tree(pairs: list[tuple[str, str]]) -> dict:
    root: dict = {}
    for key, value in pairs:
        node = root
        parts = key.split(".")
        if len(parts) > MAX_DEPTH:
            raise too_deep()
        for part in parts[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = {} if nxt is None else {_LEAF: nxt}
                node[part] = nxt
            node = nxt
        last = parts[-1]
        if isinstance(node.get(last), dict):
            node[last][_LEAF] = value
        else:
            node[last] = value
    return root


class _Names:
    """How member names appear in a request: query and ec2 differ."""

    def __init__(self, ec2: bool):
        self.ec2 = ec2

    def member(self, shape, name: str) -> str:
        s = shape.serialization
        if self.ec2:
            if "queryName" in s:
                return s["queryName"]
            if "name" in s:
                return s["name"][0].upper() + s["name"][1:]
            return name
        if shape.type_name == "list" and s.get("flattened") and shape.member.serialization.get("name"):
            return shape.member.serialization["name"]
        return s.get("name", name)


def _indexed(node: dict) -> list:
    items = []
    for k, v in node.items():
        if k.isdigit():
            items.append((int(k), v))
    items.sort(key=lambda kv: kv[0])
    return [v for _, v in items]


def _read(shape, node: Any, names: _Names) -> Any:
    t = shape.type_name
    if t == "structure":
        if not isinstance(node, dict):
            if node == "":
                return {}
            raise ProtocolError(f"Expected a structure for {shape.name}")
        out = {}
        for member_name, member_shape in shape.members.items():
            key = names.member(member_shape, member_name)
            if key in node:
                out[member_name] = _read(member_shape, node[key], names)
        return out
    if t == "list":
        if not isinstance(node, dict):
            return []  # "Name=" is how an empty list is sent
        if not names.ec2 and not shape.serialization.get("flattened"):
            inner = shape.member.serialization.get("name", "member")
            node = node.get(inner, {})
            if not isinstance(node, dict):
                return []
        return [_read(shape.member, item, names) for item in _indexed(node)]
    if t == "map":
        if not isinstance(node, dict):
            return {}
        if not shape.serialization.get("flattened"):
            node = node.get("entry", {})
            if not isinstance(node, dict):
                return {}
        kname = shape.key.serialization.get("name", "key")
        vname = shape.value.serialization.get("name", "value")
        out = {}
        for entry in _indexed(node):
            if isinstance(entry, dict) and kname in entry:
                out[_read(shape.key, entry[kname], names)] = _read(shape.value, entry.get(vname, ""), names)
        return out
    if isinstance(node, dict):
        node = node.get(_LEAF, "")
    return parse_scalar_text(shape, node)


def parse_request(request: HttpRequest, operation, ec2: bool = False, pairs=None) -> dict:
    if pairs is None:
        pairs = form_params(request)
    shape = operation.input_shape
    if shape is None:
        return {}
    tree = _tree([(k, v) for k, v in pairs if k not in ("Action", "Version")])
    return _read(shape, tree, _Names(ec2))


# -- responses -----------------------------------------------------------------


def _xmlns(service_model) -> str:
    if service_model is None:
        return "https://amazonaws.com/doc/"
    md = service_model.metadata
    if md.get("xmlNamespace"):
        return md["xmlNamespace"]  # what AWS writes (SNS: http://sns.amazonaws.com/doc/2010-03-31/)
    if md.get("protocol") == "ec2":
        return f"http://ec2.amazonaws.com/doc/{md.get('apiVersion')}/"
    return f"https://{md.get('endpointPrefix', md.get('signingName', ''))}.amazonaws.com/doc/{md.get('apiVersion')}/"


def serialize_response(operation, result: dict, request_id: str, ec2: bool = False) -> HttpResponse:
    name = operation.name
    shape = operation.output_shape
    out: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>']
    out.append(f'<{name}Response xmlns="{_xmlns(operation.service_model)}">')
    if ec2:
        out.append(f"<requestId>{request_id}</requestId>")
        if shape is not None:
            xml.write_members(out, shape, result or {})
    else:
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper") or f"{name}Result"
            out.append(f"<{wrapper}>")
            xml.write_members(out, shape, result or {})
            out.append(f"</{wrapper}>")
        out.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>")
    out.append(f"</{name}Response>")
    # "replace": text stored before the edge refused lone surrogates must not turn every later answer into a 500.
    return HttpResponse(200, {"Content-Type": "text/xml"}, "".join(out).encode("utf-8", "replace"))


def serialize_error(service_model, error: AwsError, request_id: str, ec2: bool = False) -> HttpResponse:
    status, sender, shape = error.resolve(service_model)
    fields = []
    if shape is not None and error.fields:
        values = {k: v for k, v in error.fields.items() if k in shape.members}
        xml.write_members(fields, shape, values, skip=_CODE_AND_MESSAGE)
    code = xml.escape(error.code)
    message = xml.escape(error.message or "")
    if ec2:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message>{''.join(fields)}</Error>"
            f"</Errors><RequestID>{request_id}</RequestID></Response>"
        )
    else:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<ErrorResponse xmlns="{_xmlns(service_model)}"><Error><Type>{"Sender" if sender else "Receiver"}</Type>'
            f"<Code>{code}</Code><Message>{message}</Message>{''.join(fields)}</Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    headers = {"Content-Type": "text/xml"}
    headers.update(error.headers)
    return HttpResponse(status, headers, body.encode("utf-8", "replace"))
