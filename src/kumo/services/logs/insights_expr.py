"""Expressions of the Logs Insights query language (sans-IO): tokens, parsing, evaluation over a record.

Nodes: ("lit", v) ("field", name) ("call", name, args) ("arith", op, a, b) ("cmp", op, a, b) ("like", a, p)
("in", a, list) ("list", items) ("and"|"or", a, b) ("not", a).
"""

from __future__ import annotations

import re

from .insights_funcs import AGGREGATES, FUNCTIONS, QueryError, cmp_values, number, truthy

_TOKEN = re.compile(r"""\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<num>\d+(?:\.\d+)?(?:ms|mo|s|m|h|d|w|q|y)?(?![\w@]))
  | (?P<op>==|!=|<=|>=|=~|<|>|=|\+|-|\*|/|%|\(|\)|\[|\]|,)
  | (?P<name>`[^`]+`|[@A-Za-z_][\w.@$]*)
)""", re.VERBOSE)
_REGEX = re.compile(r"\s*/((?:[^/\\]|\\.)*)/([a-z]*)")
KEYWORDS = {"and", "or", "not", "like", "in", "as", "by", "asc", "desc"}
_DURATION = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "mo": 2592000, "q": 7776000,
             "y": 31536000}


def tokens(text: str, parse_mode: bool = False) -> list[tuple[str, object]]:
    """``parse_mode``: the text after ``parse``, where a /regex/ may follow the source field."""
    out: list[tuple[str, object]] = []
    pos = 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        prev = out[-1] if out else None
        regex_ok = prev is None or (prev[0] == "op" and prev[1] not in (")", "]")) or \
            (prev[0] == "name" and str(prev[1]).lower() in ("like", "in")) or (parse_mode and len(out) == 1)
        m = _REGEX.match(text, pos) if regex_ok else None
        if m:
            flags = re.IGNORECASE if "i" in m.group(2) else 0
            try:
                out.append(("regex", re.compile(m.group(1).replace("(?<", "(?P<").replace("(?P<=", "(?<=")
                                                .replace("(?P<!", "(?<!"), flags)))
            except re.error as exc:
                raise QueryError(f"Invalid regular expression /{m.group(1)}/: {exc}")
            pos = m.end()
            continue
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise QueryError(f"unexpected symbol found {text[pos:].strip()[:1]!r} at line 1 and position {pos + 1}")
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "num":
            unit = re.search(r"[a-z]+$", value)
            if unit:
                kind, value = "duration", float(value[:unit.start()]) * _DURATION[unit.group(0)]
            else:
                value = float(value)
        elif kind == "name" and value.startswith("`"):
            kind, value = "field", value[1:-1]
        out.append((kind, value))
    return out


class Parser:
    def __init__(self, toks):
        self.toks, self.pos = toks, 0

    def peek(self, offset: int = 0):
        i = self.pos + offset
        return self.toks[i] if i < len(self.toks) else (None, None)

    def word(self, *words) -> bool:
        kind, value = self.peek()
        return kind == "name" and str(value).lower() in words

    def take_op(self, op) -> bool:
        if self.peek() == ("op", op):
            self.pos += 1
            return True
        return False

    def expect_op(self, op):
        if not self.take_op(op):
            raise QueryError(f"expected '{op}' but found {self.peek()[1]!r}")

    def done(self) -> bool:
        return self.pos >= len(self.toks)

    # expressions: ("lit", v) ("field", name) ("call", name, args) ("op", op, a, b) ("not", a) ("neg", a)
    def expr(self):
        node = self.conj()
        while self.word("or"):
            self.pos += 1
            node = ("or", node, self.conj())
        return node

    def conj(self):
        node = self.neg()
        while self.word("and"):
            self.pos += 1
            node = ("and", node, self.neg())
        return node

    def neg(self):
        if self.word("not"):
            self.pos += 1
            return ("not", self.neg())
        return self.comparison()

    def comparison(self):
        left = self.additive()
        kind, value = self.peek()
        if kind == "op" and value in ("=", "==", "!=", "<", ">", "<=", ">="):
            self.pos += 1
            return ("cmp", "=" if value == "==" else value, left, self.additive())
        negate = False
        if self.word("not") and self.peek(1)[0] == "name" and str(self.peek(1)[1]).lower() in ("like", "in"):
            self.pos += 1
            negate = True
        if self.word("like") or (kind == "op" and value == "=~"):
            self.pos += 1
            kind, pattern = self.peek()
            if kind not in ("str", "regex"):
                raise QueryError("like needs a string or a /regex/")
            self.pos += 1
            node = ("like", left, pattern)
            return ("not", node) if negate else node
        if self.word("in"):
            self.pos += 1
            node = ("in", left, self.primary())
            return ("not", node) if negate else node
        return left

    def additive(self):
        node = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.peek()[1]
            self.pos += 1
            node = ("arith", op, node, self.term())
        return node

    def term(self):
        node = self.unary()
        while self.peek() in (("op", "*"), ("op", "/"), ("op", "%")):
            op = self.peek()[1]
            self.pos += 1
            node = ("arith", op, node, self.unary())
        return node

    def unary(self):
        if self.take_op("-"):
            return ("arith", "-", ("lit", 0.0), self.unary())
        return self.primary()

    def primary(self):
        kind, value = self.peek()
        if kind is None:
            raise QueryError("unexpected end of query")
        self.pos += 1
        if kind in ("str", "num", "duration", "regex"):
            return ("lit", value)
        if kind == "field":
            return ("field", value)
        if kind == "op" and value == "(":
            node = self.expr()
            self.expect_op(")")
            return node
        if kind == "op" and value == "[":
            items = []
            if not self.take_op("]"):
                items.append(self.expr())
                while self.take_op(","):
                    items.append(self.expr())
                self.expect_op("]")
            return ("list", items)
        if kind == "name":
            if self.take_op("("):
                args = []
                if not self.take_op(")"):
                    while True:
                        if self.peek() == ("op", "*") and self.peek(1) in (("op", ")"), ("op", ",")):
                            self.pos += 1
                            args.append(("lit", "*"))
                        else:
                            args.append(self.expr())
                        if self.take_op(")"):
                            break
                        self.expect_op(",")
                name = value.lower()
                if name not in FUNCTIONS and name not in AGGREGATES and name != "bin":
                    raise QueryError(f"unknown function {value}")
                return ("call", name, args)
            if value.lower() in ("true", "false"):
                return ("lit", value.lower() == "true")
            return ("field", value)
        raise QueryError(f"unexpected symbol {value!r}")


def evaluate(node, rec: dict):
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "field":
        return rec.get(node[1])
    if kind == "or":
        return truthy(evaluate(node[1], rec)) or truthy(evaluate(node[2], rec))
    if kind == "and":
        return truthy(evaluate(node[1], rec)) and truthy(evaluate(node[2], rec))
    if kind == "not":
        return not truthy(evaluate(node[1], rec))
    if kind == "cmp":
        return cmp_values(node[1], evaluate(node[2], rec), evaluate(node[3], rec))
    if kind == "like":
        value = evaluate(node[1], rec)
        if value is None:
            return False
        pattern = node[2]
        return pattern.search(str(value)) is not None if isinstance(pattern, re.Pattern) else pattern in str(value)
    if kind == "in":
        value = evaluate(node[1], rec)
        options = evaluate(node[2], rec)
        return value is not None and any(cmp_values("=", value, o) for o in options or [])
    if kind == "list":
        return [evaluate(n, rec) for n in node[1]]
    if kind == "arith":
        a, b = number(evaluate(node[2], rec)), number(evaluate(node[3], rec))
        if a is None or b is None:
            return None
        op = node[1]
        if op in ("/", "%") and b == 0:
            return None
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None, "%": a % b if b else None}[op]
    if kind == "call":
        name, args = node[1], node[2]
        if name == "bin":
            period = number(evaluate(args[0], rec)) if args else None
            ts = rec.get("@timestamp")
            if not period or ts is None:
                return None
            step = int(period * 1000)
            return ("time", int(ts) // step * step)
        if name in AGGREGATES:
            raise QueryError(f"{name} can only be used in stats")
        return FUNCTIONS[name](*[evaluate(a, rec) for a in args])
    raise QueryError(f"cannot evaluate {kind}")


def text_of(node) -> str:
    """The name Insights gives an unaliased expression: its text, as written."""
    kind = node[0]
    if kind == "field":
        return node[1]
    if kind == "lit":
        v = node[1]
        return f'"{v}"' if isinstance(v, str) and v != "*" else str(v if not isinstance(v, float) or not
                                                                          v.is_integer() else int(v))
    if kind == "call":
        if node[1] == "bin" and node[2] and node[2][0][0] == "lit":
            return f"bin({_durationtext_of(node[2][0][1])})"
        return f"{node[1]}({','.join(text_of(a) for a in node[2])})"
    if kind == "arith":
        return f"{text_of(node[2])}{node[1]}{text_of(node[3])}"
    return kind


def _durationtext_of(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds}s"


