"""Metric math (sans-IO): parse an expression, evaluate it over time series.

Values are scalars (float), time series (``Series``: sparse timestamp -> value)
or arrays of them (list).  The values and their arithmetic are in
``mathseries``, the functions (IF, FILL, RATE, SUM ...) in ``mathfuncs``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable

from .mathfuncs import FUNCTIONS, UNSUPPORTED
from .mathseries import MathError, Series, combine

__all__ = ["MathError", "Series", "Env", "parse", "evaluate", "references", "tokenize", "combine"]

# -- parsing ----------------------------------------------------------------------------------------

_TOKENS = re.compile(r"""\s*(?:
    (?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<str>"[^"]*"|“[^”]*”|'[^']*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/^<>(),\[\]])
)""", re.VERBOSE)


def tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKENS.match(text, pos)
        if not m or m.end() == pos:
            raise MathError(f"Unexpected character '{text[pos:].strip()[:1]}' at position {pos}.")
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "str":
            value = value[1:-1]
        if kind == "name" and value.upper() in ("AND", "OR") and value.isupper():
            kind, value = "op", "&&" if value == "AND" else "||"
        out.append((kind, value))
    return out


_BINARY = [("||",), ("&&",), ("==", "!=", "<=", ">=", "<", ">"), ("+", "-"), ("*", "/")]


class _Parser:
    def __init__(self, toks):
        self.toks, self.pos = toks, 0

    def peek(self):
        return self.toks[self.pos] if self.pos < len(self.toks) else (None, None)

    def expect(self, value):
        kind, v = self.peek()
        if v != value or kind not in ("op",):
            raise MathError(f"Expected '{value}' but found '{v if v is not None else 'end of expression'}'.")
        self.pos += 1

    def parse(self):
        node = self.binary(0)
        if self.pos != len(self.toks):
            raise MathError(f"Unexpected '{self.toks[self.pos][1]}'.")
        return node

    def binary(self, level):
        if level == len(_BINARY):
            return self.unary()
        node = self.binary(level + 1)
        while True:
            kind, v = self.peek()
            if kind == "op" and v in _BINARY[level]:
                self.pos += 1
                node = ("bin", v, node, self.binary(level + 1))
            else:
                return node

    def unary(self):
        kind, v = self.peek()
        if kind == "op" and v == "-":
            self.pos += 1
            return ("neg", self.unary())
        if kind == "op" and v == "+":
            self.pos += 1
            return self.unary()
        return self.power()

    def power(self):
        node = self.atom()
        kind, v = self.peek()
        if kind == "op" and v == "^":
            self.pos += 1
            return ("bin", "^", node, self.unary())
        return node

    def atom(self):
        kind, v = self.peek()
        if kind is None:
            raise MathError("The expression ends too early.")
        self.pos += 1
        if kind == "num":
            return ("num", float(v))
        if kind == "str":
            return ("str", v)
        if kind == "op" and v == "(":
            node = self.binary(0)
            self.expect(")")
            return node
        if kind == "op" and v == "[":
            items = [self.binary(0)]
            while self.peek() == ("op", ","):
                self.pos += 1
                items.append(self.binary(0))
            self.expect("]")
            return ("array", items)
        if kind == "name":
            if self.peek() == ("op", "("):
                self.pos += 1
                args = []
                if self.peek() != ("op", ")"):
                    args.append(self.binary(0))
                    while self.peek() == ("op", ","):
                        self.pos += 1
                        args.append(self.binary(0))
                self.expect(")")
                return ("call", v, args)
            if v[0].islower():
                return ("ref", v)
            return ("word", v)  # REPEAT, LINEAR, ASC, DESC, AVG ... as arguments
        raise MathError(f"Unexpected '{v}'.")


def parse(text: str):
    return _Parser(tokenize(text)).parse()


def references(node) -> set[str]:
    """Ids of other queries an expression uses (METRICS() is reported as '*')."""
    out: set[str] = set()

    def walk(n):
        if n[0] == "ref":
            out.add(n[1])
        elif n[0] == "call":
            if n[1] == "METRICS":
                out.add("*")
            for a in n[2]:
                walk(a)
        elif n[0] in ("bin",):
            walk(n[2])
            walk(n[3])
        elif n[0] == "neg":
            walk(n[1])
        elif n[0] == "array":
            for a in n[1]:
                walk(a)
    walk(node)
    return out


@dataclass
class Env:
    """What an expression can see: other queries' results by id, the request's metrics, the time grid."""

    lookup: Callable[[str], object]
    metrics: Callable[[str | None], list[Series]]
    grid: list[float]
    period: int


def evaluate(node, env: Env):
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "str":
        return node[1]
    if kind == "word":
        return node[1]
    if kind == "ref":
        return env.lookup(node[1])
    if kind == "neg":
        return combine("*", evaluate(node[1], env), -1.0)
    if kind == "array":
        out = []
        for item in node[1]:
            v = evaluate(item, env)
            if isinstance(v, list):
                out.extend(v)
            elif isinstance(v, Series):
                out.append(v)
            else:
                raise MathError("An array may hold only time series.")
        return out
    if kind == "bin":
        return combine(node[1], evaluate(node[2], env), evaluate(node[3], env))
    if kind == "call":
        name, args = node[1], node[2]
        if name == "METRICS":
            if len(args) > 1 or (args and args[0][0] != "str"):
                raise MathError("METRICS takes at most one string.")
            return env.metrics(args[0][1] if args else None)
        if name == "TIME_SERIES":
            if len(args) != 1:
                raise MathError("TIME_SERIES takes one scalar.")
            v = evaluate(args[0], env)
            if not isinstance(v, (int, float)):
                raise MathError("TIME_SERIES takes a scalar.")
            return Series({t: float(v) for t in env.grid} if not math.isnan(v) else {}, period=env.period,
                          grid=env.grid)
        if name in UNSUPPORTED:
            raise MathError(f"The function {name} is not supported by kumo.")
        fn = FUNCTIONS.get(name)
        if fn is None:
            raise MathError(f"Unknown function {name}.")
        values = [evaluate(a, env) for a in args]
        try:
            return fn(*values)
        except (TypeError, ValueError, ArithmeticError):
            raise MathError(f"Invalid arguments for {name}.")
    raise MathError(f"Cannot evaluate {kind}.")
