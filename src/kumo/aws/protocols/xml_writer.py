"""XML writers generated as Python source, once per output shape.

A response of 500 EC2 instances or 100 Auto Scaling groups is tens of
thousands of elements.  Walking botocore's shapes for each one (or calling a
closure per element) cost more than the rest of the request, so each shape's
writer is Python code generated from the model: nested structures and lists
are inlined with their element names as literals, each member is one
``dict.get``, and a string is escaped only when it holds a character that
needs it.  Shapes that refer to themselves are written by calling their own
writer.  The bytes are the same as the plain walk of the model produces
(tests/unit/test_xml_writer.py holds both to that).
"""

from __future__ import annotations

import re
import weakref
from typing import Any, Callable

from .base import RESPONSE_LOCATIONS, b64encode, float_text, iso8601, rfc822, scalar_text, unix

_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_NEEDS_ESC = re.compile(r"[&<>\r]")
_ESC_ATTR = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;"})
# Text that may sit inside a generated double-quoted f-string as it is.
_LITERAL = re.compile(r"^[A-Za-z0-9_:./<> =-]*$")
_INLINE_DEPTH = 8  # deeper structures are written by a call to their own writer


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


def ns_attr(shape) -> str:
    ns = shape.serialization.get("xmlNamespace")
    if not ns:
        return ""
    if isinstance(ns, dict):
        prefix = ns.get("prefix")
        attr = f"xmlns:{prefix}" if prefix else "xmlns"
        return f' {attr}="{escape_attr(ns.get("uri", ""))}"'
    return f' xmlns="{escape_attr(ns)}"'


def body_members(shape) -> list[tuple[str, Any, str]]:
    """(member name, shape, element name) of the members written as elements, in model order."""
    return [(name, m, member_xml_name(m, name)) for name, m in shape.members.items()
            if m.serialization.get("location") not in RESPONSE_LOCATIONS and not m.serialization.get("xmlAttribute")]


def _attributes(shape) -> list[tuple[str, Any, str]]:
    return [(name, m, m.serialization.get("name", name)) for name, m in shape.members.items()
            if m.serialization.get("location") not in RESPONSE_LOCATIONS and m.serialization.get("xmlAttribute")]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _timestamp_fn(shape, ts: str) -> Callable[[Any], str]:
    fmt = (shape.serialization.get("timestampFormat") or ts).lower()
    if fmt == "iso8601":
        return iso8601
    if fmt == "rfc822":
        return rfc822
    return lambda value: str(unix(value))


class _Gen:
    """Source of one writer: lines of code, and the constants and functions they name."""

    def __init__(self, ts: str):
        self.ts = ts
        self.lines: list[str] = []
        self.env: dict[str, Any] = {"_esc": escape, "_text": _text, "_float": float_text, "_b64": b64encode,
                                    "_attr": escape_attr, "_scalar": scalar_text}
        self._names: dict[int, str] = {}
        self._n = 0

    def var(self) -> str:
        self._n += 1
        return f"_v{self._n}"

    def ref(self, obj: Any, hint: str = "k") -> str:
        """A name in the generated code's globals bound to ``obj``."""
        key = id(obj)
        name = self._names.get(key)
        if name is None:
            name = self._names[key] = f"_{hint}{len(self._names)}"
            self.env[name] = obj
        return name

    def lit(self, text: str) -> str:
        """``text`` as a piece of a double-quoted f-string."""
        if _LITERAL.match(text):
            return text
        return "{" + self.ref(text) + "}"

    def emit(self, indent: int, code: str) -> None:
        self.lines.append("    " * indent + code)

    # -- one value of a shape, known not to be None ---------------------------------------------
    def value(self, indent: int, shape, name: str, var: str, stack: tuple) -> None:
        t = shape.type_name
        if t == "structure":
            self.structure(indent, shape, name, var, stack)
        elif t == "list":
            self.list(indent, shape, name, var, stack)
        elif t == "map":
            self.emit(indent, f"{self.ref(writer(shape, name, self.ts), 'w')}(out, {var})")
        else:
            self.scalar(indent, shape, name, var)

    def scalar(self, indent: int, shape, name: str, var: str) -> None:
        t = shape.type_name
        open_, close = self.lit(f"<{name}{ns_attr(shape)}>"), self.lit(f"</{name}>")
        if t in ("string", "character"):
            self.emit(indent, f"if type({var}) is not str: {var} = _text({var})")
            self.emit(indent, f"if '&' in {var} or '<' in {var} or '>' in {var} or '\\r' in {var}: "
                              f"{var} = {var}.translate(_ESCT)")
            self.env["_ESCT"] = _ESC
            self.emit(indent, f'a(f"{open_}{{{var}}}{close}")')
        elif t == "boolean":
            self.emit(indent, f'a(f"{open_}true{close}" if {var} else f"{open_}false{close}")')
        elif t in ("integer", "long", "short", "byte"):
            self.emit(indent, f'a(f"{open_}{{int({var})}}{close}")')
        elif t in ("float", "double"):
            self.emit(indent, f'a(f"{open_}{{_float({var})}}{close}")')
        elif t == "timestamp":
            fn = self.ref(_timestamp_fn(shape, self.ts), "t")
            self.emit(indent, f'a(f"{open_}{{{fn}({var})}}{close}")')
        elif t == "blob":
            self.emit(indent, f'a(f"{open_}{{_b64({var})}}{close}")')
        else:
            self.emit(indent, f'a(f"{open_}{{_esc(_scalar({self.ref(shape, "s")}, {var}, {self.ts!r}))}}{close}")')

    def structure(self, indent: int, shape, name: str, var: str, stack: tuple) -> None:
        key = shape_key(shape)
        if key in stack or len(stack) >= _INLINE_DEPTH:
            self.emit(indent, f"{self.ref(writer(shape, name, self.ts), 'w')}(out, {var})")
            return
        ns = ns_attr(shape)
        attrs = _attributes(shape)
        if attrs:
            at = self.var()
            self.emit(indent, f'{at} = ""')
            for member, mshape, attr in attrs:
                x = self.var()
                self.emit(indent, f"{x} = {var}.get({member!r})")
                self.emit(indent, f"if {x} is not None: {at} += f' {attr}=\"{{_attr(_scalar("
                                  f"{self.ref(mshape, 's')}, {x}, {self.ref(self.ts, 'ts')}))}}\"'")
            self.emit(indent, f'a(f"{self.lit(f"<{name}{ns}")}{{{at}}}>")')
        else:
            self.emit(indent, f'a("{self.lit_plain(f"<{name}{ns}>")}")')
        self.members(indent, shape, var, stack + (key,), ())
        self.emit(indent, f'a("{self.lit_plain(f"</{name}>")}")')

    def lit_plain(self, text: str) -> str:
        """``text`` inside a plain double-quoted string (a constant tag)."""
        return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")

    def members(self, indent: int, shape, var: str, stack: tuple, skip) -> None:
        for member, mshape, element in body_members(shape):
            if member in skip:
                continue
            x = self.var()
            self.emit(indent, f"{x} = {var}.get({member!r})")
            self.emit(indent, f"if {x} is not None:")
            self.value(indent + 1, mshape, element, x, stack)

    def list(self, indent: int, shape, name: str, var: str, stack: tuple) -> None:
        item = self.var()
        if shape.serialization.get("flattened"):
            self.emit(indent, f"for {item} in {var}:")
            self.emit(indent + 1, f"if {item} is not None:")
            self.value(indent + 2, shape.member, name, item, stack)
            return
        inner = shape.member.serialization.get("name", "member")
        self.emit(indent, f'a("{self.lit_plain(f"<{name}{ns_attr(shape)}>")}")')
        self.emit(indent, f"for {item} in {var}:")
        self.emit(indent + 1, f"if {item} is not None:")
        self.value(indent + 2, shape.member, inner, item, stack)
        self.emit(indent, f'a("{self.lit_plain(f"</{name}>")}")')

    def function(self, fname: str) -> Callable:
        source = f"def {fname}(out, v):\n    a = out.append\n" + "\n".join(self.lines) + "\n"
        if not self.lines:
            source += "    pass\n"
        namespace = dict(self.env)
        exec(compile(source, f"<xml writer {fname}>", "exec"), namespace)
        fn = namespace[fname]
        fn.source = source  # for reading a writer while debugging
        return fn


def _map_writer(shape, name: str, ts: str) -> Callable[[list, Any], None]:
    kname = shape.key.serialization.get("name", "key")
    vname = shape.value.serialization.get("name", "value")
    flat = shape.serialization.get("flattened")
    entry_open, entry_close = (f"<{name}>", f"</{name}>") if flat else ("<entry>", "</entry>")
    open_tag, close = f"<{name}{ns_attr(shape)}>", f"</{name}>"
    kw, vw = writer(shape.key, kname, ts), writer(shape.value, vname, ts)

    def write_map(out: list, value: dict) -> None:
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


# Compiled once per shape, element name and timestamp format.  botocore makes a new Shape object each time
# it resolves a reference, with the referring member's traits merged in, so writers are found by what
# determines them: the owning model, the shape's name and its serialization traits.
_writers: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # shape object -> {(name, ts): fn}
_by_model: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # resolver -> {(key, name, ts): fn}
_member_writers: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def shape_key(shape) -> tuple:
    return (shape.name, shape.type_name, repr(sorted(shape.serialization.items())))


def writer(shape, name: str, ts: str = "iso8601") -> Callable[[list, Any], None]:
    """The function writing a value of ``shape`` as element ``name`` onto a list of text pieces."""
    per = _writers.get(shape)
    if per is None:
        per = _writers[shape] = {}
    fn = per.get((name, ts))
    if fn is None:
        fn = per[(name, ts)] = _model_writer(shape, name, ts)
    return fn


def _model_writer(shape, name: str, ts: str) -> Callable[[list, Any], None]:
    owner = shape._shape_resolver
    table = _by_model.get(owner)
    if table is None:
        table = _by_model[owner] = {}
    key = (shape_key(shape), name, ts)
    fn = table.get(key)
    if fn is None:
        # A shape that contains itself reaches here again while its writer is being generated: it then
        # calls through this forwarder, which finds the finished writer.
        table[key] = lambda out, value: table[key](out, value)
        if shape.type_name == "map":
            fn = _map_writer(shape, name, ts)
        else:
            gen = _Gen(ts)
            gen.value(1, shape, name, "v", ())
            fn = gen.function("write_" + re.sub(r"\W", "_", shape.name or "value"))
        table[key] = fn
    return fn


def write(out: list[str], shape, value: Any, name: str, timestamp_format: str = "iso8601") -> None:
    writer(shape, name, timestamp_format)(out, value)


def write_members(out: list[str], shape, value: dict, timestamp_format: str = "iso8601", skip=()) -> None:
    """The members of a structure, without an element of its own."""
    per = _member_writers.get(shape)
    if per is None:
        per = _member_writers[shape] = {}
    key = (timestamp_format, tuple(skip))
    fn = per.get(key)
    if fn is None:
        gen = _Gen(timestamp_format)
        gen.members(1, shape, "v", (shape_key(shape),), key[1])
        fn = per[key] = gen.function("write_members_" + re.sub(r"\W", "_", shape.name or "value"))
    fn(out, value)
