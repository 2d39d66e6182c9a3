"""XML, shape-driven, for the query, ec2 and rest-xml protocols.

``write`` renders a value of a shape as XML text (responses, by writers
generated per shape in xml_writer.py); ``read`` turns an element back into a
value of a shape (rest-xml request bodies).  Element names follow the model's
``locationName`` and ``flattened`` traits the way AWS's SDKs read them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from ..errors import ProtocolError
from .base import REQUEST_LOCATIONS, parse_scalar_text
from .limits import MAX_DEPTH, too_deep
from .xml_writer import escape, escape_attr, member_xml_name, write, write_members, writer  # noqa: F401 (the API)

_NS = re.compile(r"^\{.*?\}")


# -- reading ---------------------------------------------------------------------


class _BoundedBuilder(ET.TreeBuilder):
    """Builds the tree, refusing elements nested deeper than MAX_DEPTH."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0

    def start(self, tag, attrs):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise too_deep()
        return super().start(tag, attrs)

    def end(self, tag):
        self.depth -= 1
        return super().end(tag)


def parse_document(body: bytes) -> ET.Element:
    # No request of any AWS API carries a DTD; refusing them rules out entity expansion of every kind.
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise ProtocolError("Malformed XML: a document type declaration is not allowed")
    try:
        parser = ET.XMLParser(target=_BoundedBuilder())
        parser.feed(body)
        return parser.close()
    except ET.ParseError as exc:
        raise ProtocolError(f"Malformed XML: {exc}")


def tag(el: ET.Element) -> str:
    return _NS.sub("", el.tag)


def read(shape, node: Any) -> Any:
    """``node`` is an Element, or a list of Elements for flattened collections."""
    t = shape.type_name
    if t == "structure":
        if isinstance(node, list):
            node = node[0]
        return _read_structure(shape, node)
    if t == "list":
        if shape.serialization.get("flattened"):
            items = node if isinstance(node, list) else [node]
        else:
            if isinstance(node, list):
                node = node[0]
            items = list(node)
        return [read(shape.member, item) for item in items]
    if t == "map":
        entries = (node if isinstance(node, list) else [node]) if shape.serialization.get("flattened") else list(
            node[0] if isinstance(node, list) else node
        )
        kname = shape.key.serialization.get("name", "key")
        vname = shape.value.serialization.get("name", "value")
        result = {}
        for entry in entries:
            key = val = None
            for child in entry:
                if tag(child) == kname:
                    key = read(shape.key, child)
                elif tag(child) == vname:
                    val = read(shape.value, child)
            if key is not None:
                result[key] = val
        return result
    if isinstance(node, list):
        node = node[-1]
    return parse_scalar_text(shape, node.text or "")


def _read_structure(shape, el: ET.Element) -> dict:
    children: dict[str, list[ET.Element]] = {}
    for child in el:
        children.setdefault(tag(child), []).append(child)
    result: dict[str, Any] = {}
    for member_name, member_shape in shape.members.items():
        if member_shape.serialization.get("location") in REQUEST_LOCATIONS:
            continue
        if member_shape.serialization.get("xmlAttribute"):
            attr = member_shape.serialization.get("name", member_name)
            local = attr.split(":")[-1]
            for k, v in el.attrib.items():
                if k == attr or _NS.sub("", k) == local:
                    result[member_name] = parse_scalar_text(member_shape, v)
                    break
            continue
        # Requests name a flattened list's elements after the member itself (as SDKs write them).
        found = children.get(member_shape.serialization.get("name", member_name))
        if not found:
            continue
        flattened = member_shape.serialization.get("flattened")
        result[member_name] = read(member_shape, found if flattened else found[-1])
    return result
