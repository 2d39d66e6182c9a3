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


class _Parser:
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


def _evaluate(node, rec: dict):
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "field":
        return rec.get(node[1])
    if kind == "or":
        return truthy(_evaluate(node[1], rec)) or truthy(_evaluate(node[2], rec))
    if kind == "and":
        return truthy(_evaluate(node[1], rec)) and truthy(_evaluate(node[2], rec))
    if kind == "not":
        return not truthy(_evaluate(node[1], rec))
    if kind == "cmp":
        return cmp_values(node[1], _evaluate(node[2], rec), _evaluate(node[3], rec))
    if kind == "like":
        value = _evaluate(node[1], rec)
        if value is None:
            return False
        pattern = node[2]
        return pattern.search(str(value)) is not None if isinstance(pattern, re.Pattern) else pattern in str(value)
    if kind == "in":
        value = _evaluate(node[1], rec)
        options = _evaluate(node[2], rec)
        return value is not None and any(cmp_values("=", value, o) for o in options or [])
    if kind == "list":
        return [_evaluate(n, rec) for n in node[1]]
    if kind == "arith":
        a, b = number(_evaluate(node[2], rec)), number(_evaluate(node[3], rec))
        if a is None or b is None:
            return None
        op = node[1]
        if op in ("/", "%") and b == 0:
            return None
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None, "%": a % b if b else None}[op]
    if kind == "call":
        name, args = node[1], node[2]
        if name == "bin":
            period = number(_evaluate(args[0], rec)) if args else None
            ts = rec.get("@timestamp")
            if not period or ts is None:
                return None
            step = int(period * 1000)
            return ("time", int(ts) // step * step)
        if name in AGGREGATES:
            raise QueryError(f"{name} can only be used in stats")
        return FUNCTIONS[name](*[_evaluate(a, rec) for a in args])
    raise QueryError(f"cannot evaluate {kind}")


def _text(node) -> str:
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
            return f"bin({_duration_text(node[2][0][1])})"
        return f"{node[1]}({','.join(_text(a) for a in node[2])})"
    if kind == "arith":
        return f"{_text(node[2])}{node[1]}{_text(node[3])}"
    return kind


def _duration_text(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds}s"


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
                    name = alias or _text(node)
                    if node[0] != "field" or alias:
                        for rec in rows:
                            rec[name] = _evaluate(node, rec)
                    if name not in shown:
                        shown.append(name)
            elif op == "display":
                shown = [alias or _text(node) for node, alias in command[1]]
                for node, alias in command[1]:
                    if alias or node[0] != "field":
                        for rec in rows:
                            rec[alias or _text(node)] = _evaluate(node, rec)
            elif op == "filter":
                rows = [rec for rec in rows if truthy(_evaluate(command[1], rec))]
            elif op == "parse":
                _, source, pattern, names = command
                for rec in rows:
                    value = _evaluate(source, rec)
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
                    keyed = [(_sort_key(_evaluate(node, rec)), rec) for rec in rows]
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
                    key = tuple(repr(_evaluate(n, rec)) for n in command[1])
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
        key = tuple(_hashable(_evaluate(node, rec)) for node, _alias in by)
        groups.setdefault(key, []).append(rec)
    by_names = [alias or _text(node) for node, alias in by]
    agg_names = [alias or _text(node) for node, alias in aggs]
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
        raise QueryError(f"stats needs an aggregate function, not {_text(node)}")
    args = node[2]
    if node[1] == "count" and (not args or args[0] == ("lit", "*")):
        return len(members)
    values = [_evaluate(args[0], rec) for rec in members] if args else []
    extra = [_evaluate(a, members[0]) if members else None for a in args[1:]]
    if node[1] in ("earliest", "latest"):
        return AGGREGATES[node[1]](values, [rec.get("@timestamp", 0) for rec in members])
    return AGGREGATES[node[1]](values, *extra)


def _names(p: _Parser) -> list[str]:
    names = []
    while True:
        kind, value = p.peek()
        if kind not in ("name", "field"):
            raise QueryError("expected a field name")
        names.append(value)
        p.pos += 1
        if not p.take_op(","):
            return names


def _items(p: _Parser, stop: tuple = ()) -> list:
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
        p = _Parser(tokens(rest, parse_mode=op == "parse"))
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
