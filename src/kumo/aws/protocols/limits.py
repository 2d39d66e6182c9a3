"""What a request may hold: how deep its documents nest, how many fields it has, and text that is Unicode.

Python reads JSON and walks documents recursively, so a body nested a
thousand deep would exhaust the stack (a ``RecursionError`` deep inside the
parser).  Every parser refuses nesting beyond ``MAX_DEPTH`` with the
protocol's serialization error instead; models nest far less, and AWS's own
front doors refuse pathological nesting too.

Strings must be Unicode scalar values.  JSON's ``\\ud800`` escape, and
headers of raw bytes (aiohttp decodes them with ``surrogateescape``), yield
lone surrogates that no store key, SQLite text, XML or UTF-8 answer can hold;
stored, one would poison every later answer that carries it.  They are
refused at the edge with the service's validation error.
"""

from __future__ import annotations

import json as _json
import re
from typing import Any

from ..errors import ProtocolError

MAX_DEPTH = 100
# Form fields in one query/ec2 request: far above what any operation takes (PutMetricData's 1,000 datums
# with their dimensions stay under 40,000), far below what exhausts memory.
MAX_FIELDS = 200_000

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class InvalidText(ProtocolError):
    """A string that is not valid Unicode: answered with the service's validation error, not a parse error."""

    validation = True


def too_deep() -> ProtocolError:
    return ProtocolError(f"The request nests deeper than {MAX_DEPTH} levels")


def check_text(text: str, where: str = "") -> str:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            at = f" at '{_printable(where)}'" if where else ""
            raise InvalidText(f"1 validation error detected: Value{at} failed to satisfy constraint: "
                              "Member must contain only valid Unicode characters")
    return text


def _printable(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def check_document(doc: Any) -> Any:
    """Refuse nesting beyond MAX_DEPTH and strings that are not Unicode, without recursion."""
    stack: list[tuple[Any, int, str]] = [(doc, 1, "")]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, dict):
            if depth > MAX_DEPTH:
                raise too_deep()
            for k, v in value.items():
                if isinstance(k, str):
                    check_text(k, path)
                if isinstance(v, (dict, list, str)):
                    stack.append((v, depth + 1, f"{path}.{k}" if path else str(k)))
        elif isinstance(value, list):
            if depth > MAX_DEPTH:
                raise too_deep()
            for i, v in enumerate(value, 1):
                if isinstance(v, (dict, list, str)):
                    stack.append((v, depth + 1, f"{path}.{i}" if path else str(i)))
        elif isinstance(value, str):
            check_text(value, path)
    return doc


def _no_constants(name: str) -> Any:
    # NaN and Infinity are not JSON (AWS sends them as the strings "NaN", "Infinity"); Python would accept them
    # and later fail to write them back.
    raise ValueError(f"{name} is not a JSON value")


def load_json(body: bytes | str) -> Any:
    """A JSON document, bounded in depth and holding only Unicode text; ProtocolError otherwise."""
    try:
        text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body
    except UnicodeDecodeError:
        raise ProtocolError("The request body is not valid UTF-8")
    try:
        doc = _json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise too_deep()
    except ValueError as exc:
        raise ProtocolError(f"The request body is not valid JSON: {exc}")
    # Walk the document only when it could break a rule: deep enough, or with a surrogate escape.
    if text.count("{") + text.count("[") > MAX_DEPTH or ("\\u" in text and _SURROGATE_ESCAPE.search(text)):
        check_document(doc)
    return doc
