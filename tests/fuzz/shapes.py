"""Hypothesis strategies for an operation's input, read from its botocore shape.

Values are mostly what the model allows (so requests get past the front door
and into the handlers), with a share of boundary values (lengths and numbers
at min/max and one past them), missing required members, and odd strings
(empty, huge, control characters, lone surrogates, other scripts).  String
members often take a value kumo handed out earlier (``Pool``: ids, ARNs,
names harvested from answers), so handlers see resources that exist.
Hypothesis needs the same draws to lead to the same choices, so a pooled value
is drawn as a ``PoolRef`` (member name, index) and filled in afterwards
(``resolve``).
"""

from __future__ import annotations

import datetime as dt
import re
import threading

from hypothesis import strategies as st

MAX_DEPTH = 6
HUGE = 70_000  # above most services' string limits, below their body limits

ODD_STRINGS = [
    "", " ", "\x00", "\t\r\n", "a\x00b", "\x7f\x1b[31m", "\ud800", "a\udfffb", "\ufeff", "\u202eevil",
    "ünïcødé", "日本語", "🐍" * 3, "%00", "%zz", "../../etc/passwd", "/", "*", "?", "'\"<>&;", "${x}", "{}", "[]",
    "null", "true", "-1", "0", "1e309", "NaN", "0x10", "   padded   ", "a" * 256, "a" * 1025,
]

# Plausible values for members whose name says what they hold (reaching past the first check).
BY_NAME = [
    (re.compile(r"cidr", re.I), ["10.0.0.0/16", "10.0.1.0/24", "172.31.0.0/20", "0.0.0.0/0", "10.0.0.0/33",
                                 "300.0.0.0/8", "::/0", "2600:1f18::/56", "10.0.0.0", "fz78156"]),
    (re.compile(r"(ip|address)$|ipaddress", re.I), ["10.0.0.5", "127.0.0.1", "0.0.0.0", "255.255.255.255",
                                                   "10.0.0.256", "::1", "fz78156", "-1"]),
    (re.compile(r"arn$", re.I), ["arn:aws:iam::123456789012:role/fuzz", "arn:aws:sqs:us-east-1:123456789012:q",
                                 "arn:aws:sns:us-east-1:123456789012:t", "arn:aws:lambda:us-east-1:123456789012:"
                                 "function:f", "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/"
                                 "app/x/0123456789abcdef", "arn:", "arn:aws:::", "not-an-arn"]),
    # Only loopback: kumo delivers to endpoints it is given (SNS subscriptions, destinations).
    (re.compile(r"(url|endpoint)$", re.I), ["http://127.0.0.1:4566/123456789012/q", "http://localhost:9/x",
                                            "http://", "q", "https://127.0.0.1:9/"]),
    (re.compile(r"policy|document|json|pattern|template", re.I), [
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},'
        '"Action":"sts:AssumeRole"}]}', '{"source":["aws.ec2"]}', '{"a":[{"prefix":""}]}', "{", "[]", '{"a":1}']),
    (re.compile(r"expression$", re.I), ["rate(5 minutes)", "cron(0 12 * * ? *)", "rate(0 minutes)", "cron(",
                                        "0 12 * * *", "m1+m2", "SUM(METRICS())"]),
    (re.compile(r"(time|date)$", re.I), ["2026-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                                        "yesterday"]),
    (re.compile(r"port", re.I), ["80", "443", "0", "65536", "-1"]),
    (re.compile(r"(^|[a-z])id$", re.I), ["i-0123456789abcdef0", "vpc-0123456789abcdef0", "subnet-01234567",
                                         "sg-0123456789abcdef0", "ami-0123456789abcdef0", "eni-01234567",
                                         "igw-01234567", "rtb-01234567", "acl-01234567", "vol-01234567",
                                         "lt-0123456789abcdef0", "pl-01234567", "i-", "default"]),
    (re.compile(r"name$", re.I), ["fuzz", "fuzz-1", "Fuzz_Name.2", "a", "-", "default", "main"]),
]


def roll(draw) -> int:
    """A percentile, 0-99, near uniform: hypothesis' integers(0, 99) lands in 0-9 a third of the time."""
    return draw(st.integers(0, 2**32 - 1)) % 100


class Pool:
    """Values kumo accepted or handed out, by member name, so later requests can name real resources."""

    LIMIT = 24

    def __init__(self) -> None:
        self._values: dict[str, list] = {}
        self._lock = threading.Lock()

    def add(self, name: str, value) -> None:
        if not isinstance(value, str) or not value or len(value) > 2048:
            return
        key = _key(name)
        with self._lock:
            values = self._values.setdefault(key, [])
            if value in values:
                return
            values.append(value)
            if len(values) > self.LIMIT:
                del values[0]

    def get(self, name: str) -> list:
        with self._lock:
            return list(self._values.get(_key(name), ()))

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def harvest(self, shape, value, name: str = "") -> None:
        """Remember every string in ``value`` (parsed by ``shape``) under its member name."""
        if shape is None or value is None:
            return
        t = shape.type_name
        if t == "structure" and isinstance(value, dict):
            for member, mshape in shape.members.items():
                if member in value:
                    self.harvest(mshape, value[member], member)
        elif t == "list" and isinstance(value, list):
            for item in value[:50]:
                self.harvest(shape.member, item, name)
        elif t == "map" and isinstance(value, dict):
            for k, v in list(value.items())[:50]:
                self.harvest(shape.value, v, name)
        elif t == "string" and name:
            self.add(name, value)


class PoolRef:
    """A string member to be filled from the pool when the request is built (or ``fallback``)."""

    __slots__ = ("name", "index", "fallback")

    def __init__(self, name: str, index: int, fallback: str):
        self.name, self.index, self.fallback = name, index, fallback


def resolve(value, pool: Pool):
    """``value`` with every ``PoolRef`` replaced by a pooled value of its member, or its fallback."""
    if isinstance(value, PoolRef):
        found = pool.get(value.name)
        return found[value.index % len(found)] if found else value.fallback
    if isinstance(value, dict):
        return {resolve(k, pool): resolve(v, pool) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, pool) for v in value]
    return value


def _key(name: str) -> str:
    name = name.lower()
    # InstanceIds / InstanceId, and the query serializer's singular list members.
    return name[:-1] if name.endswith("s") and len(name) > 3 else name


class Generator:
    """``generator.params(op)`` is a strategy for the input of ``op``.

    A ``wild`` generator mixes in boundary values, missing required members and odd strings; a tame one
    keeps to what the model allows, so more requests get past validation into the handlers.
    """

    def __init__(self, pool: Pool, caps: dict | None = None, wild: bool = True):
        self.pool = pool
        self.wild = wild
        # {member name: (lo, hi)}: numbers that start real work (instance counts) are kept small.
        self.caps = caps or {}

    def params(self, op):
        shape = op.input_shape
        if shape is None:
            return st.just({})
        return self._structure(shape, 0, top=True)

    # -- shapes ---------------------------------------------------------------------------
    def value(self, shape, name: str, depth: int):
        t = shape.type_name
        if t == "structure":
            if shape.is_document_type:
                return _documents()
            return self._structure(shape, depth)
        if t == "list":
            return self._list(shape, name, depth)
        if t == "map":
            return self._map(shape, name, depth)
        if t == "string":
            return self._string(shape, name)
        if t in ("integer", "long", "short", "byte"):
            return self._integer(shape, name)
        if t in ("float", "double"):
            return self._float(shape) if self.wild else st.floats(0, 1e6)
        if t == "boolean":
            return st.booleans()
        if t == "timestamp":
            return _timestamps()
        if t == "blob":
            return _blobs(shape) if self.wild else st.binary(min_size=shape.metadata.get("min", 0), max_size=64)
        return st.none()

    def _structure(self, shape, depth: int, top: bool = False):
        required = set(shape.required_members)
        if depth >= MAX_DEPTH or not shape.members:
            return st.just({})

        @st.composite
        def build(draw):
            out = {}
            if depth >= MAX_DEPTH:
                return out
            members = shape.members
            # A top-level input names many optional members; take a few of them.
            keep = 45 if not top else 25
            for name, mshape in members.items():
                if mshape.serialization.get("location") == "header" and mshape.type_name == "map":
                    if roll(draw) >= 10:
                        continue
                pct = roll(draw)
                if name in required:
                    if pct < 4 and self.wild:  # missing a required member
                        continue
                elif pct >= keep:
                    continue
                out[name] = draw(self.value(mshape, name, depth + 1))
            if shape.metadata.get("union") and len(out) > 1 and roll(draw) < 80:
                first = sorted(out)[0]
                out = {first: out[first]}
            return out

        return build()

    def _list(self, shape, name: str, depth: int):
        lo, hi = shape.metadata.get("min", 0), shape.metadata.get("max")
        if depth >= MAX_DEPTH:
            return st.just([])

        @st.composite
        def build(draw):
            pct = roll(draw)
            if depth >= MAX_DEPTH:
                return []
            if pct < 70 or not self.wild:
                n = draw(st.integers(max(lo, 0), max(lo, 0) + 3))
                n = min(n, hi) if hi is not None else n
            elif pct < 80:
                n = 0
            elif pct < 90 and hi is not None and hi <= 200:
                n = draw(st.sampled_from([hi, hi + 1]))
            else:
                n = draw(st.integers(0, 12))
            item = self.value(shape.member, name, depth + 1)
            if n > 12:  # long lists repeat a few drawn items, keeping hypothesis' data small
                few = [draw(item) for _ in range(3)]
                return [few[i % 3] for i in range(n)]
            return [draw(item) for _ in range(n)]

        return build()

    def _map(self, shape, name: str, depth: int):
        if depth >= MAX_DEPTH:
            return st.just({})

        @st.composite
        def build(draw):
            if depth >= MAX_DEPTH:
                return {}
            n = draw(st.integers(0, 3))
            out = {}
            for _ in range(n):
                k = draw(self._string(shape.key, "Key"))
                out[k] = draw(self.value(shape.value, name, depth + 1))
            return out

        return build()

    def _string(self, shape, name: str):
        enum = shape.enum
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
        plausible = [values for pattern, values in BY_NAME if pattern.search(name)]

        @st.composite
        def build(draw):
            pct = roll(draw)
            if enum and (pct < 65 or not self.wild):
                return draw(st.sampled_from(list(enum)))
            if pct < 50:
                # Resolved against the pool once drawn (``resolve``): hypothesis' draws must not depend on it.
                fallback = draw(st.sampled_from(plausible[0] if plausible else ["fuzz", "fuzz-1"]))
                return PoolRef(name, draw(st.integers(0, Pool.LIMIT - 1)), fallback)
            if plausible and pct < 75:
                values = plausible[draw(st.integers(0, len(plausible) - 1))]
                return draw(st.sampled_from(values))
            if pct < 85 or not self.wild:
                return draw(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=lo or 0,
                                    max_size=max(lo or 0, min(hi or 24, 24))))
            if pct < 90 and (lo is not None or hi is not None):
                sizes = [n for n in ((lo or 0) - 1, lo, hi, (hi or 0) + 1) if n is not None and 0 <= n <= HUGE]
                n = draw(st.sampled_from(sizes))
                return draw(st.sampled_from("ax9-_")) * n
            if pct < 93:
                return draw(st.sampled_from("aZ\u00e9\u4e00")) * draw(st.sampled_from([1024, 4097, 65536, HUGE]))
            return draw(st.sampled_from(ODD_STRINGS))

        return build()

    def _integer(self, shape, name: str):
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
        cap = self.caps.get(name)
        if cap:
            lo, hi = cap
        edges = [0, 1, -1, 2**31 - 1, 2**31, -(2**31) - 1, 2**63 - 1]
        for n in (lo, hi):
            if n is not None:
                edges += [int(n) - 1, int(n), int(n) + 1]
        if cap:
            edges = [e for e in edges if e <= cap[1]]
        low = int(lo) if lo is not None else (-5 if self.wild else 0)
        high = int(hi) if hi is not None else 1000
        if not self.wild:
            return st.integers(low, max(low, min(high, max(low, 0) + 1000)))
        return st.one_of(st.integers(low, max(low, high)), st.sampled_from(edges))

    def _float(self, shape):
        return st.one_of(st.floats(-1e6, 1e6), st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324, float("inf"),
                                                                 float("-inf"), float("nan")]))


def _timestamps():
    edges = [dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc),
             dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc)]
    return st.one_of(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1),
                                  timezones=st.just(dt.timezone.utc)), st.sampled_from(edges))


def _blobs(shape):
    hi = shape.metadata.get("max")
    edges = [b"", b"\x00", b"PK\x03\x04" + b"\x00" * 26, b"\xff" * 1024]
    if hi is not None and hi <= HUGE:
        edges.append(b"x" * (int(hi) + 1))
    return st.one_of(st.binary(max_size=64), st.sampled_from(edges))


def _documents():
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.text(max_size=8))
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                          st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                        max_leaves=8)
