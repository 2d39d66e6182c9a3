"""Metrics Insights queries in GetMetricData and alarms (sans-IO parse, evaluation over the metric store).

    SELECT AVG|SUM|MIN|MAX|COUNT(metric) FROM namespace | SCHEMA(namespace[, key ...])
    [WHERE key = 'v' | key != 'v' | key IN ('a', 'b') | key NOT IN (...) joined by AND / OR, in parentheses]
    [GROUP BY key[, key ...]] [ORDER BY AVG|SUM|MIN|MAX|COUNT() [ASC|DESC]] [LIMIT n]

Each period aggregates the sample sets of every metric matched (AVG is Sum / SampleCount over them all).
Without GROUP BY the answer is one series; with it, one series per combination of the keys' values (a
metric without every key is left out), labelled by those values joined with a space.  ORDER BY ranks the
series by the function over the whole range; LIMIT (at most 500) keeps the first n.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FUNCS = {"AVG": "Average", "SUM": "Sum", "MIN": "Minimum", "MAX": "Maximum", "COUNT": "SampleCount"}
MAX_LIMIT = 500
_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<qname>"(?:[^"\\]|\\.)*")|(?P<op>!=|=|\(|\)|,)
                     |(?P<num>\d+(?![\w/]))|(?P<word>[A-Za-z0-9_./#:\-*]+))""", re.VERBOSE)
KEYWORDS = {"SELECT", "FROM", "SCHEMA", "WHERE", "AND", "OR", "NOT", "IN", "GROUP", "BY", "ORDER", "ASC", "DESC",
            "LIMIT"}


class InsightsError(ValueError):
    pass


def is_query(expression: str) -> bool:
    return expression.lstrip().upper().startswith("SELECT ")


@dataclass
class Query:
    func: str
    metric: str
    namespace: str
    schema: list[str] | None = None
    where: object = None
    group_by: list[str] = field(default_factory=list)
    order: tuple[str, bool] | None = None  # (func, descending)
    limit: int | None = None

    def selects(self, dims: dict[str, str]) -> bool:
        if self.schema is not None and set(dims) != set(self.schema):
            return False
        return self.where is None or _holds(self.where, dims)


def _holds(node, dims: dict[str, str]) -> bool:
    kind = node[0]
    if kind == "and":
        return _holds(node[1], dims) and _holds(node[2], dims)
    if kind == "or":
        return _holds(node[1], dims) or _holds(node[2], dims)
    _, key, op, values = node
    value = dims.get(key)
    if op == "=":
        return value == values[0]
    if op == "!=":
        return value != values[0]
    if op == "IN":
        return value in values
    return value not in values  # NOT IN


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise InsightsError(f"Syntax error near '{text[pos:].strip()[:20]}'.")
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)
        if kind in ("str", "qname"):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "word" and value.upper() in KEYWORDS:
            kind, value = "kw", value.upper()
        out.append((kind, value))
    return out


class _Parser:
    def __init__(self, toks):
        self.toks, self.pos = toks, 0

    def peek(self):
        return self.toks[self.pos] if self.pos < len(self.toks) else (None, None)

    def take(self, kind, value=None):
        k, v = self.peek()
        if k == kind and (value is None or v == value):
            self.pos += 1
            return v
        return None

    def need(self, kind, value=None, what=""):
        got = self.take(kind, value)
        if got is None:
            found = self.peek()[1]
            raise InsightsError(f"Expected {what or value or kind} but found {found!r}." if found is not None else
                                f"Expected {what or value or kind} at the end of the query.")
        return got

    def name(self, what: str) -> str:
        for kind in ("word", "qname"):
            got = self.take(kind)
            if got is not None:
                return got
        return self.need("word", what=what)

    def query(self) -> Query:
        self.need("kw", "SELECT")
        func = self.need("word", what="an aggregate function (AVG, SUM, MIN, MAX, COUNT)").upper()
        if func not in FUNCS:
            raise InsightsError(f"Unsupported function {func}; use AVG, SUM, MIN, MAX or COUNT.")
        self.need("op", "(")
        metric = self.name("a metric name")
        self.need("op", ")")
        self.need("kw", "FROM")
        schema = None
        if self.take("kw", "SCHEMA"):
            self.need("op", "(")
            namespace = self.name("a namespace")
            schema = []
            while self.take("op", ","):
                schema.append(self.name("a dimension key"))
            self.need("op", ")")
        else:
            namespace = self.name("a namespace")
        q = Query(func, metric, namespace, schema)
        if self.take("kw", "WHERE"):
            q.where = self.disj()
        if self.take("kw", "GROUP"):
            self.need("kw", "BY")
            q.group_by.append(self.name("a dimension key"))
            while self.take("op", ","):
                q.group_by.append(self.name("a dimension key"))
        if self.take("kw", "ORDER"):
            self.need("kw", "BY")
            order = self.need("word", what="an aggregate function").upper()
            if order not in FUNCS:
                raise InsightsError(f"Unsupported ORDER BY function {order}.")
            self.need("op", "(")
            self.need("op", ")")
            desc = False
            if self.take("kw", "DESC"):
                desc = True
            else:
                self.take("kw", "ASC")
            q.order = (order, desc)
        if self.take("kw", "LIMIT"):
            limit = int(self.need("num", what="a number"))
            if not 1 <= limit <= MAX_LIMIT:
                raise InsightsError(f"LIMIT must be between 1 and {MAX_LIMIT}.")
            q.limit = limit
        if self.peek()[0] is not None:
            raise InsightsError(f"Unexpected '{self.peek()[1]}'.")
        return q

    def disj(self):
        node = self.conj()
        while self.take("kw", "OR"):
            node = ("or", node, self.conj())
        return node

    def conj(self):
        node = self.cond()
        while self.take("kw", "AND"):
            node = ("and", node, self.cond())
        return node

    def cond(self):
        if self.take("op", "("):
            node = self.disj()
            self.need("op", ")")
            return node
        key = self.name("a dimension key")
        if self.take("op", "="):
            return ("cond", key, "=", [self.need("str", what="a 'quoted' value")])
        if self.take("op", "!="):
            return ("cond", key, "!=", [self.need("str", what="a 'quoted' value")])
        negate = bool(self.take("kw", "NOT"))
        self.need("kw", "IN", what="=, !=, IN or NOT IN")
        self.need("op", "(")
        values = [self.need("str", what="a 'quoted' value")]
        while self.take("op", ","):
            values.append(self.need("str", what="a 'quoted' value"))
        self.need("op", ")")
        return ("cond", key, "NOT IN" if negate else "IN", values)


def parse(text: str) -> Query:
    return _Parser(_tokens(text)).query()


def evaluate(q: Query, metrics, scope: str, start: float, end: float, period: int, since: float
             ) -> list[tuple[str, dict[float, float], float | None]]:
    """[(label, {period start: value}, rank value)] in the query's order."""
    groups: dict[tuple, dict[float, object]] = {}
    for _ns, _name, dkey in metrics.list(scope, q.namespace, q.metric, since):
        dims = {d["Name"]: d["Value"] for d in _dims_of(dkey)}
        if not q.selects(dims):
            continue
        if any(k not in dims for k in q.group_by):
            continue
        key = tuple(dims[k] for k in q.group_by)
        mid = metrics.find(scope, q.namespace, q.metric, dims)
        if mid is None:
            continue
        merged = groups.setdefault(key, {})
        for (ts, _unit), agg in metrics.buckets(mid, start, end, period).items():
            if ts in merged:
                merged[ts].merge(agg)
            else:
                merged[ts] = agg
    stat = FUNCS[q.func]
    out = []
    for key, merged in groups.items():
        values = {ts: v for ts, agg in merged.items() if (v := agg.value(stat)) is not None}
        rank = None
        if q.order:
            total = None
            for agg in merged.values():
                if total is None:
                    total = type(agg)()
                total.merge(agg)
            rank = total.value(FUNCS[q.order[0]]) if total is not None else None
        out.append((" ".join(key) if key else q.metric, values, rank))
    out.sort(key=lambda s: s[0])
    if q.order:
        desc = q.order[1]
        present = sorted((s for s in out if s[2] is not None), key=lambda s: s[2], reverse=desc)
        out = present + [s for s in out if s[2] is None]
    if not q.group_by and not out:
        out = [(q.metric, {}, None)]
    return out[:q.limit] if q.limit else out


def _dims_of(dkey: str) -> list[dict]:
    from .metrics import dims_of

    return dims_of(dkey)
