"""CloudWatch Logs filter patterns (sans-IO): ``compile(pattern)`` gives ``match(message) -> bool``.

Four kinds, as AWS's "Filter pattern syntax" describes them:

* terms: ``ERROR``, ``"quoted phrase"``, ``-excluded``, ``?either ?or``; every plain term must occur
  (case-sensitive substring), no ``-`` term may, and at least one ``?`` term must when there are any;
* JSON: ``{ $.level = "ERROR" && ($.latency > 500 || $.user.id NOT EXISTS) }`` with =, !=, <, >, <=, >=,
  ``*`` wildcards at either end of a string, IS NULL / IS TRUE / IS FALSE, EXISTS / NOT EXISTS;
* space-delimited: ``[ip, user, ..., status_code = 4* && bytes > 1000, bytes]`` over fields split on
  spaces, where ``[...]`` and ``"..."`` groups are one field each;
* regular expressions: ``%ERROR [0-9]+%``.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Callable

Matcher = Callable[[str], bool]


class PatternError(ValueError):
    pass


def compile(pattern: str | None) -> Matcher:
    extract = compile_extract(pattern)
    return lambda message: extract(message) is not None


@functools.lru_cache(maxsize=512)
def cached(pattern: str | None) -> Callable[[str], Fields | None]:
    """``compile_extract``, remembered: filters apply their pattern to every batch that arrives."""
    return compile_extract(pattern)


Fields = Callable[[str], object]  # "$.a.b" (JSON) or "$name" (space-delimited) -> value, None if absent


def compile_extract(pattern: str | None) -> Callable[[str], Fields | None]:
    """``extract(message)``: None when the pattern does not match, else a lookup of the fields the match
    bound (what metric filters' ``$field`` metric values and dimensions read)."""
    text = (pattern or "").strip()
    if not text:
        return lambda message: _NO_FIELDS
    if text.startswith("{"):
        if not text.endswith("}"):
            raise PatternError("Invalid JSON filter pattern: missing closing brace.")
        return _json_extract(text[1:-1])
    if text.startswith("["):
        if not text.endswith("]"):
            raise PatternError("Invalid space-delimited filter pattern: missing closing bracket.")
        return _delimited_extract(text[1:-1])
    if len(text) > 1 and text.startswith("%") and text.endswith("%"):
        try:
            rx = re.compile(text[1:-1])
        except re.error as exc:
            raise PatternError(f"Invalid regular expression: {exc}")
        return lambda message: _NO_FIELDS if rx.search(message) is not None else None
    terms = _terms_matcher(text)
    return lambda message: _NO_FIELDS if terms(message) else None


def _no_fields(ref: str):
    return None


_NO_FIELDS: Fields = _no_fields


def kind_of(pattern: str | None) -> str:
    """'json', 'delimited', 'regex' or 'terms' (metric filter dimensions need one of the first two)."""
    text = (pattern or "").strip()
    if text.startswith("{"):
        return "json"
    if text.startswith("["):
        return "delimited"
    if len(text) > 1 and text.startswith("%") and text.endswith("%"):
        return "regex"
    return "terms"


# -- terms ----------------------------------------------------------------------------------------

_TERM = re.compile(r'\s*([-?]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))')


def _terms_matcher(text: str) -> Matcher:
    required, excluded, optional = [], [], []
    pos = 0
    while pos < len(text):
        m = _TERM.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        prefix = m.group(1)
        term = m.group(2).replace('\\"', '"') if m.group(2) is not None else m.group(3)
        if prefix == "-" and m.group(3) is not None and term.startswith('"'):
            term = term.strip('"')
        {"-": excluded, "?": optional}.get(prefix, required).append(term)

    def match(message: str) -> bool:
        if any(t not in message for t in required):
            return False
        if any(t in message for t in excluded):
            return False
        return not optional or any(t in message for t in optional)
    return match


# -- a small expression language shared by JSON and space-delimited patterns -------------------------

_EXPR_TOKEN = re.compile(r"""\s*(?:
    (?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<word>[^\s()=!<>&|"]+)
)""", re.VERBOSE)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _expr_tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _EXPR_TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise PatternError(f"Invalid filter pattern near '{text[pos:pos + 20]}'.")
        pos = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
    return out


class _Cond:
    """``subject OP value`` or ``subject IS NULL|TRUE|FALSE`` or ``subject [NOT] EXISTS``."""

    def __init__(self, subject: str, op: str, value: str | None, quoted: bool):
        self.subject, self.op, self.value, self.quoted = subject, op, value, quoted
        self.number = float(value) if value is not None and not quoted and _NUMBER.match(value) else None

    def test(self, found: bool, value) -> bool:
        if self.op == "EXISTS":
            return found
        if self.op == "NOT EXISTS":
            return not found
        if not found:
            return False
        if self.op == "IS NULL":
            return value is None
        if self.op in ("IS TRUE", "IS FALSE"):
            return value is (self.op == "IS TRUE")
        if isinstance(value, (dict, list)) or value is None:
            return False  # the selector must reach a value node
        if isinstance(value, bool):
            value = "true" if value else "false"
        if self.op in ("<", ">", "<=", ">="):
            number = _as_number(value)
            if number is None or self.number is None:
                return False
            return {"<": number < self.number, ">": number > self.number,
                    "<=": number <= self.number, ">=": number >= self.number}[self.op]
        if self.number is not None:
            number = _as_number(value)
            equal = number is not None and number == self.number
        else:
            equal = _wildcard(self.value, str(value))
        return equal if self.op == "=" else not equal


def _as_number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        return float(value)
    return None


def _wildcard(pattern: str, text: str) -> bool:
    if pattern == "*":
        return True
    if "*" not in pattern:
        return pattern == text
    parts = [re.escape(p) for p in pattern.split("*")]
    return re.fullmatch(".*".join(parts), text, re.DOTALL) is not None


class _ExprParser:
    """OR of ANDs of conditions and parenthesised groups; && binds tighter than ||."""

    def __init__(self, text: str, subject_pattern: re.Pattern):
        self.toks = _expr_tokens(text)
        self.pos = 0
        self.subject = subject_pattern

    def peek(self):
        return self.toks[self.pos] if self.pos < len(self.toks) else (None, None)

    def parse(self):
        node = self.disj()
        if self.pos != len(self.toks):
            raise PatternError(f"Unexpected '{self.toks[self.pos][1]}' in filter pattern.")
        return node

    def disj(self):
        node = self.conj()
        while self.peek() == ("op", "||"):
            self.pos += 1
            node = ("or", node, self.conj())
        return node

    def conj(self):
        node = self.atom()
        while self.peek() == ("op", "&&"):
            self.pos += 1
            node = ("and", node, self.atom())
        return node

    def atom(self):
        kind, value = self.peek()
        if (kind, value) == ("op", "("):
            self.pos += 1
            node = self.disj()
            if self.peek() != ("op", ")"):
                raise PatternError("Missing ')' in filter pattern.")
            self.pos += 1
            return node
        if kind != "word" or not self.subject.match(value):
            raise PatternError(f"Expected a field selector, found '{value}'.")
        self.pos += 1
        subject = value
        kind, op = self.peek()
        if kind == "word" and op.upper() in ("IS", "NOT", "EXISTS"):
            words = []
            while self.peek()[0] == "word" and self.peek()[1].upper() in ("IS", "NOT", "EXISTS", "NULL", "TRUE",
                                                                           "FALSE"):
                words.append(self.peek()[1].upper())
                self.pos += 1
            phrase = " ".join(words)
            if phrase not in ("IS NULL", "IS TRUE", "IS FALSE", "EXISTS", "NOT EXISTS"):
                raise PatternError(f"Unknown condition '{phrase}' in filter pattern.")
            return ("cond", _Cond(subject, phrase, None, False))
        if kind != "op" or op not in ("=", "!=", "<", ">", "<=", ">="):
            raise PatternError(f"Expected a comparison after {subject}.")
        self.pos += 1
        kind, value = self.peek()
        if kind == "op" and value == "!" or kind is None or kind == "op":
            raise PatternError(f"Expected a value after {subject} {op}.")
        self.pos += 1
        if kind == "str":
            return ("cond", _Cond(subject, op, json.loads(value), True))
        return ("cond", _Cond(subject, op, value, False))


def _eval(node, lookup) -> bool:
    if node[0] == "and":
        return _eval(node[1], lookup) and _eval(node[2], lookup)
    if node[0] == "or":
        return _eval(node[1], lookup) or _eval(node[2], lookup)
    cond = node[1]
    return any(cond.test(found, value) for found, value in lookup(cond.subject))


# -- JSON ---------------------------------------------------------------------------------------

_SELECTOR = re.compile(r"^\$(\.[A-Za-z0-9_\-@]+|\[(\d+|\*)\]|\.\*)*$")
_STEP = re.compile(r"\.([A-Za-z0-9_\-@]+)|\[(\d+|\*)\]|\.(\*)")


def _select(doc, selector: str) -> list[tuple[bool, object]]:
    """(found, value) for each node the selector reaches ([*] fans out)."""
    nodes = [doc]
    for m in _STEP.finditer(selector[1:]):
        key, index, star = m.group(1), m.group(2), m.group(3)
        nxt = []
        for node in nodes:
            if key is not None and isinstance(node, dict) and key in node:
                nxt.append(node[key])
            elif index == "*" and isinstance(node, list):
                nxt.extend(node)
            elif index is not None and index != "*" and isinstance(node, list) and int(index) < len(node):
                nxt.append(node[int(index)])
            elif star and isinstance(node, dict):
                nxt.extend(node.values())
        nodes = nxt
        if not nodes:
            return [(False, None)]
    return [(True, n) for n in nodes]


def _json_extract(body: str):
    node = _ExprParser(body, _SELECTOR).parse() if body.strip() else None

    def extract(message: str):
        try:
            doc = json.loads(message)
        except ValueError:
            return None
        if not isinstance(doc, (dict, list)):
            return None
        if node is not None and not _eval(node, lambda selector: _select(doc, selector)):
            return None

        def field(ref: str):
            if not _SELECTOR.match(ref):
                return None
            found = [v for ok, v in _select(doc, ref) if ok]
            return found[0] if found else None
        return field
    return extract


# -- space-delimited ----------------------------------------------------------------------------------

_FIELD = re.compile(r'\[([^\]]*)\]|"((?:[^"\\]|\\.)*)"|(\S+)')
ELLIPSIS = ("...", "…")


def split_fields(message: str) -> list[str]:
    return [m.group(1) if m.group(1) is not None else m.group(2) if m.group(2) is not None else m.group(3)
            for m in _FIELD.finditer(message)]


def _split_slots(body: str) -> list[str]:
    slots, depth, quote, current = [], 0, False, []
    for ch in body:
        if ch == '"':
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        if ch == "," and not quote and depth == 0:
            slots.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    slots.append("".join(current).strip())
    return slots


_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*")


def _delimited_extract(body: str):
    slots = _split_slots(body) if body.strip() else []
    names: list[str | None] = []  # None: ellipsis
    conditions = []
    for i, slot in enumerate(slots, 1):
        if slot in ELLIPSIS:
            names.append(None)
            continue
        m = _NAME.match(slot)
        name = m.group(0) if m else f"${i}"
        names.append(name)
        if m and slot[m.end():].strip():
            conditions.append(_ExprParser(slot, re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")).parse())
        elif not m and slot:
            raise PatternError(f"Invalid field '{slot}' in space-delimited filter pattern.")

    def bindings(fields: list[str]):
        fixed = [n for n in names if n is not None]
        if None not in names:
            if len(fields) == len(names):
                yield dict(zip(names, fields))
            return
        # One or more ellipses: fields before the first are anchored at the start, those after the
        # last at the end; fields between ellipses are tried at every position.
        yield from _bind(names, fields, {})
        del fixed

    def extract(message: str):
        fields = split_fields(message)
        for bound in bindings(fields):
            if all(_eval(c, lambda name: [(name in bound, bound.get(name))]) for c in conditions):
                return lambda ref: bound.get(ref[1:]) if ref.startswith("$") else None
        return None
    return extract


def _bind(names: list, fields: list[str], bound: dict):
    if not names:
        if not fields:
            yield bound
        return
    head = names[0]
    if head is None:
        for skip in range(len(fields) + 1):
            yield from _bind(names[1:], fields[skip:], bound)
        return
    if not fields:
        return
    yield from _bind(names[1:], fields[1:], {**bound, head: fields[0]})
