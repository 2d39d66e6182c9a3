"""Composite alarm rules (sans-IO): ``ALARM(a) AND NOT (OK("b c") OR INSUFFICIENT_DATA(arn))``.

Grammar, as AWS documents AlarmRule: the functions ALARM, OK and
INSUFFICIENT_DATA take an alarm name or ARN (double quotes when it has
spaces or parentheses); TRUE and FALSE are constants; AND, OR, NOT and
parentheses combine them (NOT binds tightest, then AND, then OR); and
``AT_LEAST(M, STATE, (alarm, ...))`` holds when at least M of the listed
alarms (a count, or a percentage such as ``50%``) are in STATE, which may be
prefixed by NOT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

STATES = {"ALARM": "ALARM", "OK": "OK", "INSUFFICIENT_DATA": "INSUFFICIENT_DATA"}


class RuleError(ValueError):
    pass


_TOKEN = re.compile(r'\s*(?:(\()|(\))|(,)|"((?:[^"\\]|\\.)*)"|([^\s(),"]+))')


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise RuleError(f"Unexpected character at position {pos} of the alarm rule.")
        pos = m.end()
        if m.group(1):
            out.append(("(", "("))
        elif m.group(2):
            out.append((")", ")"))
        elif m.group(3):
            out.append((",", ","))
        elif m.group(4) is not None:
            out.append(("str", m.group(4).replace('\\"', '"')))
        else:
            out.append(("word", m.group(5)))
    return out


@dataclass
class Rule:
    text: str
    node: tuple
    alarms: list[str]  # every name or ARN the rule mentions, in order

    def holds(self, state_of: Callable[[str], str | None]) -> bool:
        return _eval(self.node, state_of)


def parse(text: str) -> Rule:
    p = _Parser(_tokens(text))
    node = p.expr()
    if p.pos != len(p.toks):
        raise RuleError(f"Unexpected '{p.toks[p.pos][1]}' in the alarm rule.")
    return Rule(text, node, p.alarms)


class _Parser:
    def __init__(self, toks):
        self.toks = toks
        self.pos = 0
        self.alarms: list[str] = []

    def peek(self, kind=None, value=None):
        if self.pos >= len(self.toks):
            return None
        tok = self.toks[self.pos]
        if kind and tok[0] != kind:
            return None
        if value and (tok[0] != "word" or tok[1].upper() != value):
            return None
        return tok

    def take(self, kind, what):
        tok = self.peek(kind)
        if tok is None:
            found = self.toks[self.pos][1] if self.pos < len(self.toks) else "the end of the rule"
            raise RuleError(f"Expected {what} but found {found} in the alarm rule.")
        self.pos += 1
        return tok[1]

    def expr(self):
        node = self.conj()
        while self.peek("word", "OR"):
            self.pos += 1
            node = ("or", node, self.conj())
        return node

    def conj(self):
        node = self.neg()
        while self.peek("word", "AND"):
            self.pos += 1
            node = ("and", node, self.neg())
        return node

    def neg(self):
        if self.peek("word", "NOT"):
            self.pos += 1
            return ("not", self.neg())
        return self.atom()

    def name(self) -> str:
        tok = self.peek()
        if tok is None or tok[0] not in ("str", "word"):
            raise RuleError("Expected an alarm name or ARN in the alarm rule.")
        self.pos += 1
        # Bare names may contain characters the tokenizer splits on only inside quotes.
        if not tok[1]:
            raise RuleError("An alarm name in the alarm rule is empty.")
        self.alarms.append(tok[1])
        return tok[1]

    def atom(self):
        if self.peek("("):
            self.pos += 1
            node = self.expr()
            self.take(")", "')'")
            return node
        word = self.take("word", "ALARM, OK, INSUFFICIENT_DATA, AT_LEAST, TRUE, FALSE, NOT or '('").upper()
        if word in ("TRUE", "FALSE"):
            return ("const", word == "TRUE")
        if word in STATES:
            self.take("(", "'('")
            name = self.name()
            self.take(")", "')'")
            return ("state", STATES[word], name)
        if word == "AT_LEAST":
            return self.at_least()
        raise RuleError(f"Unknown function {word} in the alarm rule.")

    def at_least(self):
        self.take("(", "'('")
        raw = self.take("word", "a count or percentage")
        pct = raw.endswith("%")
        try:
            amount = float(raw[:-1]) if pct else int(raw)
        except ValueError:
            raise RuleError(f"AT_LEAST needs a count or a percentage, not {raw}.")
        self.take(",", "','")
        negate = False
        if self.peek("word", "NOT"):
            self.pos += 1
            negate = True
        state = self.take("word", "a state").upper()
        if state not in STATES:
            raise RuleError(f"Unknown state {state} in AT_LEAST.")
        self.take(",", "','")
        self.take("(", "'('")
        names = [self.name()]
        while self.peek(","):
            self.pos += 1
            names.append(self.name())
        self.take(")", "')'")
        self.take(")", "')'")
        return ("at_least", amount, pct, negate, state, names)


def _eval(node, state_of) -> bool:
    kind = node[0]
    if kind == "const":
        return node[1]
    if kind == "state":
        return state_of(node[2]) == node[1]
    if kind == "not":
        return not _eval(node[1], state_of)
    if kind == "and":
        return _eval(node[1], state_of) and _eval(node[2], state_of)
    if kind == "or":
        return _eval(node[1], state_of) or _eval(node[2], state_of)
    if kind == "at_least":
        _, amount, pct, negate, state, names = node
        hits = sum(1 for n in names if (state_of(n) == state) != negate)
        need = amount / 100.0 * len(names) if pct else amount
        return hits >= need
    raise RuleError(f"bad node {kind}")
