"""XML, shape-driven, for the query, ec2 and rest-xml protocols.

``write`` renders a value of a shape as XML text (responses); ``read`` turns an
element back into a value of a shape (rest-xml request bodies).  Element names
follow the model's ``locationName`` and ``flattened`` traits the way AWS's
SDKs read them.
"""

from __future__ import annotations

import re
import weakref
import xml.etree.ElementTree as ET
from typing import Any, Callable

from ..errors import ProtocolError
from .base import REQUEST_LOCATIONS, RESPONSE_LOCATIONS, parse_scalar_text, scalar_text
from .limits import MAX_DEPTH, too_deep

_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_NEEDS_ESC = re.compile(r"[&<>\r]")
_ESC_ATTR = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;"})
_NS = re.compile(r"^\{.*?\}")


def escape(text: str) -> str:
    return text.translate(_ESC) if _NEEDS_ESC.search(text) else text


def escape_attr(text: str) -> str:
    return text.translate(_ESC_ATTR)


def member_xml_name(member_shape, member_name: str) -> str:
    """The element name a structure member is written under."""
    if member_shape.type_name == "list" and member_shape.serialization.get("flattened"):
        inner = member_shape.member.serialization.get("name")
        if inner:
            return inner
    return member_shape.serialization.get("name", member_name)


def _ns_attr(shape) -> str:
    ns = shape.serialization.get("xmlNamespace")
    if not ns:
        return ""
    if isinstance(ns, dict):
        prefix = ns.get("prefix")
        attr = f"xmlns:{prefix}" if prefix else "xmlns"
        return f' {attr}="{escape_attr(ns.get("uri", ""))}"'
    return f' xmlns="{escape_attr(ns)}"'


def write(out: list[str], shape, value: Any, name: str, timestamp_format: str = "iso8601") -> None:
    writer(shape, name, timestamp_format)(out, value)


def write_members(out: list[str], shape, value: dict, timestamp_format: str = "iso8601", skip=()) -> None:
    """The members of a structure, without an element of its own."""
    for member_name, is_attr, _attr, fn in _structure_plan(shape, timestamp_format):
        v = value.get(member_name)
        if v is None or is_attr or member_name in skip:
            continue
        fn(out, v)


# Writers are compiled once per (shape, element name, timestamp format): walking botocore's
# shape objects on every response costs more than the rest of a request put together.
_compiled: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_plans: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def writer(shape, name: str, ts: str) -> Callable[[list, Any], None]:
    per = _compiled.get(shape)
    if per is None:
        per = _compiled[shape] = {}
    fn = per.get((name, ts))
    if fn is None:
        fn = per[(name, ts)] = _compile(shape, name, ts)
    return fn


def _structure_plan(shape, ts: str) -> list:
    per = _plans.get(shape)
    if per is None:
        per = _plans[shape] = {}
    plan = per.get(ts)
    if plan is None:
        plan = []
        for member_name, member_shape in shape.members.items():
            if member_shape.serialization.get("location") in RESPONSE_LOCATIONS:
                continue  # headers and status code are written elsewhere
            if member_shape.serialization.get("xmlAttribute"):
                attr = member_shape.serialization.get("name", member_name)
                plan.append((member_name, True, attr, member_shape))
            else:
                plan.append((member_name, False, None,
                             writer(member_shape, member_xml_name(member_shape, member_name), ts)))
        per[ts] = plan
    return plan


def _compile(shape, name: str, ts: str) -> Callable[[list, Any], None]:
    t = shape.type_name
    ns = _ns_attr(shape)
    close = f"</{name}>"
    if t == "structure":
        def write_structure(out: list, value: dict) -> None:
            attrs = ""
            at = len(out)
            out.append("")
            for member_name, is_attr, attr, fn in _structure_plan(shape, ts):
                v = value.get(member_name)
                if v is None:
                    continue
                if is_attr:
                    attrs += f' {attr}="{escape_attr(scalar_text(fn, v, ts))}"'
                else:
                    fn(out, v)
            out[at] = f"<{name}{ns}{attrs}>"
            out.append(close)
        return write_structure
    if t == "list":
        if shape.serialization.get("flattened"):
            def write_flat_list(out: list, value: list) -> None:
                item = writer(shape.member, name, ts)
                for v in value:
                    if v is not None:
                        item(out, v)
            return write_flat_list
        inner = shape.member.serialization.get("name", "member")
        open_tag = f"<{name}{ns}>"

        def write_list(out: list, value: list) -> None:
            item = writer(shape.member, inner, ts)
            out.append(open_tag)
            for v in value:
                if v is not None:
                    item(out, v)
            out.append(close)
        return write_list
    if t == "map":
        kname = shape.key.serialization.get("name", "key")
        vname = shape.value.serialization.get("name", "value")
        flat = shape.serialization.get("flattened")
        entry_open, entry_close = (f"<{name}>", close) if flat else ("<entry>", "</entry>")
        open_tag = f"<{name}{ns}>"

        def write_map(out: list, value: dict) -> None:
            kw, vw = writer(shape.key, kname, ts), writer(shape.value, vname, ts)
            if not flat:
                out.append(open_tag)
            for k, v in value.items():
                if v is None:
                    continue
                out.append(entry_open)
                kw(out, k)
                vw(out, v)
                out.append(entry_close)
            if not flat:
                out.append(close)
        return write_map
    open_tag = f"<{name}{ns}>"
    if t in ("string", "character"):
        def write_string(out: list, value: Any) -> None:
            text = value if isinstance(value, str) else str(value)
            out.append(f"{open_tag}{escape(text)}{close}")
        return write_string

    def write_scalar(out: list, value: Any) -> None:
        out.append(f"{open_tag}{escape(scalar_text(shape, value, ts))}{close}")
    return write_scalar


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
