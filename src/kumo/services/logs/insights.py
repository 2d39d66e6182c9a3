"""The Logs Insights query language (sans-IO): ``parse(text)`` gives a Query, ``Query.run(records)`` its rows.

Commands, joined by ``|``: ``fields``, ``filter``, ``parse`` (glob with ``*`` or a regex with named groups),
``stats`` (count, count_distinct, sum, avg, min, max, stddev, pct, earliest, latest ... ``by`` fields and
``bin(5m)``), ``sort``, ``limit``, ``display`` and ``dedup``.  Expressions: arithmetic, comparisons,
``like "text"`` / ``like /regex/`` / ``=~``, ``in [...]``, ``and``/``or``/``not`` and a set of functions
(insights_funcs.py).  A record is a dict of fields (@timestamp in ms, @message, @logStream, @log, and the
fields discovered in a JSON message, flattened with dots).
"""

from __future__ import annotations

import re

from .insights_expr import Parser, evaluate, text_of, tokens
from .insights_funcs import AGGREGATES, QueryError, number, truthy


class Query:
    def __init__(self, commands: list):
        self.commands = commands
        self.is_stats = any(c[0] == "stats" for c in commands)

    def run(self, records: list[dict]) -> tuple[list[list[tuple[str, object]]], int]:
        """(rows as [(field, value)], records matched)."""
        shown: list[str] = []
        rows = records
        matched = None
        stats_names: list[str] | None = None
        ordered = False
        for command in self.commands:
            op = command[0]
            if op == "fields":
                for node, alias in command[1]:
                    name = alias or text_of(node)
                    if node[0] != "field" or alias:
                        for rec in rows:
                            rec[name] = evaluate(node, rec)
                    if name not in shown:
                        shown.append(name)
            elif op == "display":
                shown = [alias or text_of(node) for node, alias in command[1]]
                for node, alias in command[1]:
                    if alias or node[0] != "field":
                        for rec in rows:
                            rec[alias or text_of(node)] = evaluate(node, rec)
            elif op == "filter":
                rows = [rec for rec in rows if truthy(evaluate(command[1], rec))]
            elif op == "parse":
                _, source, pattern, names = command
                for rec in rows:
                    value = evaluate(source, rec)
                    m = pattern.search(str(value)) if value is not None else None
                    if m is None:
                        continue
                    if names:
                        for name, captured in zip(names, m.groups()):
                            rec[name] = captured
                    else:
                        rec.update({k: v for k, v in m.groupdict().items() if v is not None})
                shown += [n for n in (names or list(pattern.groupindex)) if n not in shown]
            elif op == "stats":
                matched = len(rows)
                rows, stats_names = _stats(rows, command[1], command[2])
                shown = stats_names
            elif op == "sort":
                ordered = True
                for node, desc in reversed(command[1]):
                    keyed = [(_sort_key(evaluate(node, rec)), rec) for rec in rows]
                    present = sorted((k for k in keyed if k[0] is not None), key=lambda k: k[0], reverse=desc)
                    rows = [rec for _k, rec in present] + [rec for k, rec in keyed if k is None]
            elif op == "limit":
                if matched is None:
                    matched = len(rows)  # what the filters matched, before the limit cuts
                if not self.is_stats and not ordered:
                    rows = sorted(rows, key=lambda r: r.get("@timestamp", 0), reverse=True)
                    ordered = True
                rows = rows[:command[1]]
            elif op == "dedup":
                seen, kept = set(), []
                for rec in rows:
                    key = tuple(repr(evaluate(n, rec)) for n in command[1])
                    if key not in seen:
                        seen.add(key)
                        kept.append(rec)
                rows = kept
        if matched is None:
            matched = len(rows)
        if not self.is_stats and not ordered:
            rows = sorted(rows, key=lambda r: r.get("@timestamp", 0), reverse=True)
        if not shown:
            shown = ["@timestamp", "@message", "@logStream", "@log"]
        out = []
        for rec in rows:
            row = [(name, rec[name]) for name in shown if rec.get(name) is not None]
            if not self.is_stats and "@ptr" in rec:
                row.append(("@ptr", rec["@ptr"]))
            out.append(row)
        return out, matched


def _sort_key(value):
    if value is None:
        return None
    if isinstance(value, tuple):
        return (0, value[1], "")
    n = number(value)
    return (0, n, "") if n is not None else (1, 0, str(value))


def _stats(rows: list[dict], aggs: list, by: list):
    groups: dict[tuple, list[dict]] = {}
    for rec in rows:
        key = tuple(_hashable(evaluate(node, rec)) for node, _alias in by)
        groups.setdefault(key, []).append(rec)
    by_names = [alias or text_of(node) for node, alias in by]
    agg_names = [alias or text_of(node) for node, alias in aggs]
    out = []
    for key in sorted(groups, key=lambda k: tuple(_sort_key(v) or (2, 0, "") for v in k)):
        members = groups[key]
        rec = dict(zip(by_names, key))
        for (node, _alias), name in zip(aggs, agg_names):
            rec[name] = _aggregate(node, members)
        out.append(rec)
    if not by and not rows:
        rec = {name: _aggregate(node, []) for (node, _alias), name in zip(aggs, agg_names)}
        out = [rec]
    return out, by_names + agg_names


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def _aggregate(node, members: list[dict]):
    if node[0] == "arith":
        a, b = number(_aggregate(node[2], members)), number(_aggregate(node[3], members))
        if a is None or b is None:
            return None
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None, "%": a % b if b else None}[node[1]]
    if node[0] == "lit":
        return node[1]
    if node[0] != "call" or node[1] not in AGGREGATES:
        raise QueryError(f"stats needs an aggregate function, not {text_of(node)}")
    args = node[2]
    if node[1] == "count" and (not args or args[0] == ("lit", "*")):
        return len(members)
    values = [evaluate(args[0], rec) for rec in members] if args else []
    extra = [evaluate(a, members[0]) if members else None for a in args[1:]]
    if node[1] in ("earliest", "latest"):
        return AGGREGATES[node[1]](values, [rec.get("@timestamp", 0) for rec in members])
    return AGGREGATES[node[1]](values, *extra)


def _names(p: Parser) -> list[str]:
    names = []
    while True:
        kind, value = p.peek()
        if kind not in ("name", "field"):
            raise QueryError("expected a field name")
        names.append(value)
        p.pos += 1
        if not p.take_op(","):
            return names


def _items(p: Parser, stop: tuple = ()) -> list:
    items = []
    while True:
        node = p.expr()
        alias = None
        if p.word("as"):
            p.pos += 1
            kind, alias = p.peek()
            if kind not in ("name", "field"):
                raise QueryError("expected a name after 'as'")
            p.pos += 1
        items.append((node, alias))
        if p.done() or (stop and p.word(*stop)) or not p.take_op(","):
            return items


def _glob(pattern: str) -> re.Pattern:
    parts = pattern.split("*")
    body = "".join(re.escape(part) + ("(.*?)" if i < len(parts) - 2 else "(.*)" if i == len(parts) - 2 else "")
                   for i, part in enumerate(parts))
    return re.compile(body, re.DOTALL)


def _split_commands(text: str) -> list[str]:
    parts, current, quote = [], [], None
    for ch in text:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'`":
            quote = ch
        elif ch == "|":
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def parse(text: str) -> Query:
    commands = []
    for part in _split_commands(text):
        word, _, rest = part.partition(" ")
        op = word.lower().strip()
        p = Parser(tokens(rest, parse_mode=op == "parse"))
        if op in ("fields", "display"):
            commands.append((op, _items(p)))
        elif op == "filter":
            commands.append(("filter", p.expr()))
        elif op == "parse":
            source = p.expr() if p.peek()[0] not in ("str", "regex") else ("field", "@message")
            kind, pattern = p.peek()
            if kind not in ("str", "regex"):
                raise QueryError("parse needs a \"glob * pattern\" or a /regex/")
            p.pos += 1
            names = None
            if kind == "str":
                if not p.word("as"):
                    raise QueryError("parse with a glob pattern needs 'as' and field names")
                p.pos += 1
                names = _names(p)
                pattern = _glob(pattern)
            elif not pattern.groupindex:
                raise QueryError("parse with a regular expression needs named groups (?<name>...)")
            commands.append(("parse", source, pattern, names))
        elif op == "stats":
            aggs = _items(p, stop=("by",))
            by = []
            if p.word("by"):
                p.pos += 1
                by = _items(p)
            commands.append(("stats", aggs, by))
        elif op == "sort":
            keys = []
            while True:
                node = p.expr()
                desc = False
                if p.word("asc", "desc"):
                    desc = str(p.peek()[1]).lower() == "desc"
                    p.pos += 1
                keys.append((node, desc))
                if not p.take_op(","):
                    break
            commands.append(("sort", keys))
        elif op == "limit":
            kind, value = p.peek()
            if kind != "num" or value < 1 or value > 10000:
                raise QueryError("limit needs a number from 1 to 10000")
            p.pos += 1
            commands.append(("limit", int(value)))
        elif op == "dedup":
            commands.append(("dedup", [node for node, _ in _items(p)]))
        else:
            raise QueryError(f"unexpected command {word!r}")
        if not p.done():
            raise QueryError(f"unexpected symbol {p.peek()[1]!r} in {op}")
    if not commands:
        raise QueryError("the query is empty")
    return Query(commands)
