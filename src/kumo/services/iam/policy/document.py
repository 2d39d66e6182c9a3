"""A policy document as the evaluator reads it: statements, their elements, and where each one sits.

Parsing is lenient where IAM's own validation already refused bad documents
when they were stored, and strict about shape (a Statement that is not an
object is a MalformedPolicy).  Each statement keeps its position in the
document's text (1-based line and column of its first and last character), which
is what the simulator reports as a matched statement's StartPosition and EndPosition.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

VERSION_2012 = "2012-10-17"


class MalformedPolicy(ValueError):
    pass


@dataclass(frozen=True)
class Condition:
    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    key: str  # as written; keys compare case-insensitively
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    effect: str  # "Allow" | "Deny"
    sid: str | None = None
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    principal: dict | None = None  # {"AWS": (...), "Service": (...)} or {"*": ("*",)}
    not_principal: dict | None = None
    conditions: tuple[Condition, ...] = ()
    start: tuple[int, int] = (1, 1)
    end: tuple[int, int] = (1, 1)


@dataclass(frozen=True)
class Policy:
    """One policy of a principal or resource, named as the simulator reports it."""

    source_id: str  # SourcePolicyId: an inline policy's name, a managed policy's ARN, "PolicyInputList.1" ...
    source_type: str  # SourcePolicyType: user, group, role, aws-managed, user-managed, resource, none
    version: str
    statements: tuple[Statement, ...] = field(default=())

    @property
    def variables(self) -> bool:
        """Policy variables are substituted only in documents of the 2012-10-17 language version."""
        return self.version == VERSION_2012


def parse(text: str, source_id: str = "", source_type: str = "none") -> Policy:
    version, statements = _parse_cached(text)
    return Policy(source_id, source_type, version, statements)


@lru_cache(maxsize=2048)
def _parse_cached(text: str) -> tuple[str, tuple[Statement, ...]]:
    try:
        doc = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise MalformedPolicy("This policy contains invalid Json") from exc
    if not isinstance(doc, dict) or "Statement" not in doc:
        raise MalformedPolicy("Syntax errors in policy.")
    version = doc.get("Version") or "2008-10-17"
    raw = doc["Statement"]
    items = raw if isinstance(raw, list) else [raw]
    spans = _statement_spans(text, len(items))
    return version, tuple(_statement(item, span) for item, span in zip(items, spans))


def _strings(value, element: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise MalformedPolicy(f"Syntax errors in policy: {element} must be a string or a list of strings.")


def _principal(value) -> dict:
    if value == "*":
        return {"*": ("*",)}
    if not isinstance(value, dict):
        raise MalformedPolicy("Syntax errors in policy: invalid Principal.")
    return {kind: _strings(v, "Principal") for kind, v in value.items()}


def condition_values(value) -> tuple[str, ...]:
    """Condition values as strings: booleans as IAM spells them, numbers as written."""
    items = value if isinstance(value, list) else [value]
    out = []
    for v in items:
        if isinstance(v, bool):
            out.append("true" if v else "false")
        elif isinstance(v, (int, float, str)):
            out.append(str(v))
        else:
            raise MalformedPolicy("Syntax errors in policy: condition values must be strings, numbers or booleans.")
    return tuple(out)


def _conditions(block) -> tuple[Condition, ...]:
    if block is None:
        return ()
    if not isinstance(block, dict):
        raise MalformedPolicy("Syntax errors in policy: Condition must be an object.")
    out = []
    for operator, pairs in block.items():
        if not isinstance(pairs, dict):
            raise MalformedPolicy(f"Syntax errors in policy: condition {operator} must map keys to values.")
        for key, value in pairs.items():
            out.append(Condition(operator, key, condition_values(value)))
    return tuple(out)


def _statement(item, span) -> Statement:
    if not isinstance(item, dict):
        raise MalformedPolicy("Syntax errors in policy.")
    effect = item.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicy("Syntax errors in policy: Effect must be Allow or Deny.")
    if ("Action" in item) == ("NotAction" in item):
        raise MalformedPolicy("Syntax errors in policy: a statement needs exactly one of Action and NotAction.")

    def opt(name, conv=_strings):
        return conv(item[name], name) if name in item else None

    return Statement(
        effect=effect,
        sid=item.get("Sid"),
        actions=opt("Action"),
        not_actions=opt("NotAction"),
        resources=opt("Resource"),
        not_resources=opt("NotResource"),
        principal=_principal(item["Principal"]) if "Principal" in item else None,
        not_principal=_principal(item["NotPrincipal"]) if "NotPrincipal" in item else None,
        conditions=_conditions(item.get("Condition")),
        start=span[0],
        end=span[1],
    )


# -- where each statement sits in the text ------------------------------------------------------------


def _statement_spans(text: str, count: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) line/column of each statement: the elements of the top-level Statement value."""
    decoder = json.JSONDecoder()
    fallback = [((1, 1), (1, 1))] * count
    try:
        i = _skip(text, 0)
        if text[i] != "{":
            return fallback
        i += 1
        while True:
            i = _skip(text, i)
            if text[i] == "}":
                return fallback
            key, i = decoder.raw_decode(text, i)
            i = _skip(text, i) + 1  # the colon
            i = _skip(text, i)
            if key != "Statement":
                _, i = decoder.raw_decode(text, i)
                i = _skip(text, i)
                if text[i] == ",":
                    i += 1
                continue
            if text[i] != "[":
                _, end = decoder.raw_decode(text, i)
                return [(_pos(text, i), _pos(text, end - 1))]
            spans = []
            i += 1
            while len(spans) < count:
                i = _skip(text, i)
                _, end = decoder.raw_decode(text, i)
                spans.append((_pos(text, i), _pos(text, end - 1)))
                i = _skip(text, end)
                if text[i] == ",":
                    i += 1
            return spans
    except (ValueError, IndexError):
        return fallback


def _skip(text: str, i: int) -> int:
    while text[i] in " \t\r\n":
        i += 1
    return i


def _pos(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1
