"""Where datapoints live: two tables of kumo's own database, not store records.

A busy kumo puts thousands of datapoints a minute (its own AWS/EC2 metrics
included), and GetMetricStatistics reads a day of them at once.  As records
they would all sit in memory and be rewritten as JSON; as rows of
``cw_metric`` (one per namespace, name and dimension set) and ``cw_datum``
(one per put sample set, indexed by metric and time) they cost one SQLite
insert each and are read by range.  The tables are in the store's database
and its transactions, so a put is committed before its response, and rolled
back with the request that failed.

Resolution and retention follow AWS: standard-resolution samples are stored
on the minute, high-resolution ones on the second; ``compact`` merges older
samples into 1-minute (after 3 hours), 5-minute (after 15 days) and 1-hour
(after 63 days) sample sets and drops them after 455 days.  Merged sets keep
their raw values, so percentiles stay available where AWS keeps them.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from typing import Iterable

from .stats import Agg

SCHEMA = """
CREATE TABLE IF NOT EXISTS cw_metric (
    id        INTEGER PRIMARY KEY,
    scope     TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name      TEXT NOT NULL,
    dims      TEXT NOT NULL,
    last_put  REAL NOT NULL,
    UNIQUE (scope, namespace, name, dims)
);
CREATE TABLE IF NOT EXISTS cw_datum (
    metric INTEGER NOT NULL,
    ts     REAL NOT NULL,
    res    INTEGER NOT NULL,
    unit   TEXT NOT NULL,
    n      REAL NOT NULL,
    total  REAL NOT NULL,
    lo     REAL NOT NULL,
    hi     REAL NOT NULL,
    raw    TEXT
);
CREATE INDEX IF NOT EXISTS cw_datum_by_metric ON cw_datum (metric, ts);
CREATE INDEX IF NOT EXISTS cw_datum_by_age ON cw_datum (ts);
"""

HOUR, DAY = 3600, 86400
# (age, resolution): samples older than age are merged to that resolution (None: dropped).
RETENTION = ((455 * DAY, None), (63 * DAY, 3600), (15 * DAY, 300), (3 * HOUR, 60))
LISTED_FOR = 14 * DAY  # ListMetrics shows metrics with data in the last two weeks
TOUCH_EVERY = 60.0  # last_put is rewritten at most this often per metric


def dims_key(dims: dict[str, str] | Iterable) -> str:
    items = dims.items() if isinstance(dims, dict) else dims
    return json.dumps(sorted([str(k), str(v)] for k, v in items), separators=(",", ":"))


def dims_of(key: str) -> list[dict]:
    return [{"Name": k, "Value": v} for k, v in json.loads(key)]


class MetricStore:
    def __init__(self, store):
        self.store = store
        store.ensure_schema(SCHEMA)
        self._ids: dict[tuple, int] = {}
        self._touched: dict[int, float] = {}
        store.on_rollback(self.forget)

    def forget(self) -> None:
        """Drop caches (after a rollback or a wipe), so they never name rows that are gone."""
        self._ids.clear()
        self._touched.clear()

    # -- writing ----------------------------------------------------------------------------
    def _metric(self, scope: str, namespace: str, name: str, dkey: str, ts: float) -> int:
        key = (scope, namespace, name, dkey)
        mid = self._ids.get(key)
        if mid is None:
            row = self.store.select(
                "SELECT id FROM cw_metric WHERE scope=? AND namespace=? AND name=? AND dims=?", key)
            if row:
                mid = row[0][0]
            else:
                mid = self.store.sql(
                    "INSERT INTO cw_metric(scope, namespace, name, dims, last_put) VALUES (?,?,?,?,?)",
                    (*key, ts)).lastrowid
                self._touched[mid] = ts
            self._ids[key] = mid
        if ts - self._touched.get(mid, -math.inf) >= TOUCH_EVERY:
            self.store.sql("UPDATE cw_metric SET last_put=max(last_put, ?) WHERE id=?", (ts, mid))
            self._touched[mid] = ts
        return mid

    def put(self, scope: str, samples: list[tuple]) -> None:
        """Store sample sets: (namespace, name, dims, ts, unit, res, n, sum, min, max, raw|None).

        ``ts`` is the time of the put (for RecentlyActive) when the sample's own time is older.
        """
        rows = []
        for namespace, name, dims, ts, unit, res, n, total, lo, hi, raw, put_at in samples:
            mid = self._metric(scope, namespace, name, dims_key(dims), put_at)
            step = 1 if res < 60 else 60
            rows.append((mid, math.floor(ts / step) * step, 1 if res < 60 else 60, unit, n, total, lo, hi,
                         None if raw is None else json.dumps(raw, separators=(",", ":"))))
        self.store.sql_many(
            "INSERT INTO cw_datum(metric, ts, res, unit, n, total, lo, hi, raw) VALUES (?,?,?,?,?,?,?,?,?)", rows)

    # -- reading ----------------------------------------------------------------------------
    def find(self, scope: str, namespace: str, name: str, dims) -> int | None:
        key = (scope, namespace, name, dims_key(dims))
        mid = self._ids.get(key)
        if mid is not None:
            return mid
        row = self.store.select("SELECT id FROM cw_metric WHERE scope=? AND namespace=? AND name=? AND dims=?", key)
        return row[0][0] if row else None

    @staticmethod
    def _where(mid: int, start: float, end: float, period: int, unit: str | None) -> tuple[str, list]:
        where = "metric=? AND ts>=? AND ts<? AND (res<=60 OR ? % res = 0)"
        params: list = [mid, start, end, period]
        if unit is not None:
            where += " AND unit=?"
            params.append(unit)
        return where, params

    def periods(self, mid: int, start: float, end: float, period: int,
                unit: str | None = None) -> list[tuple[float, str, float, float, float, float]]:
        """(period start, unit, SampleCount, Sum, Minimum, Maximum) per period and unit, in time order."""
        where, params = self._where(mid, start, end, period, unit)
        rows = self.store.select(
            f"SELECT CAST((ts - ?) / ? AS INTEGER) AS b, unit, SUM(n), SUM(total), MIN(lo), MAX(hi) "
            f"FROM cw_datum WHERE {where} GROUP BY b, unit ORDER BY b, unit", [start, period, *params])
        return [(start + b * period, u, n, total, lo, hi) for b, u, n, total, lo, hi in rows]

    def buckets(self, mid: int, start: float, end: float, period: int, unit: str | None = None,
                raw: bool = False) -> dict[tuple[float, str], Agg]:
        """Sample sets of one metric grouped per period from ``start`` (and per unit)."""
        out: dict[tuple[float, str], Agg] = {}
        if not raw:
            for ts, u, n, total, lo, hi in self.periods(mid, start, end, period, unit):
                out[(ts, u)] = Agg(n, total, lo, hi, None)
            return out
        where, params = self._where(mid, start, end, period, unit)
        rows = self.store.select(f"SELECT ts, unit, n, total, lo, hi, raw FROM cw_datum WHERE {where}", params)
        for ts, u, n, total, lo, hi, rawtext in rows:
            key = (start + ((ts - start) // period) * period, u)
            agg = out.get(key)
            if agg is None:
                agg = out[key] = Agg()
            agg.add(n, total, lo, hi, None if rawtext is None else json.loads(rawtext))
        return out

    def list(self, scope: str, namespace: str | None, name: str | None, since: float) -> list[tuple[str, str, str]]:
        sql = "SELECT namespace, name, dims FROM cw_metric WHERE scope=? AND last_put>=?"
        params: list = [scope, since]
        if namespace is not None:
            sql += " AND namespace=?"
            params.append(namespace)
        if name is not None:
            sql += " AND name=?"
            params.append(name)
        return self.store.select(sql + " ORDER BY namespace, name, dims", params)

    # -- retention ------------------------------------------------------------------------
    def compact(self, now: float) -> int:
        """Merge or drop samples past AWS's retention for their resolution; returns rows affected."""
        changed = 0
        for age, res in RETENTION:
            cutoff = now - age
            if res is None:
                changed += self.store.sql("DELETE FROM cw_datum WHERE ts<?", (cutoff,)).rowcount
                continue
            rows = self.store.select(
                "SELECT rowid, metric, ts, unit, n, total, lo, hi, raw FROM cw_datum WHERE ts<? AND res<?",
                (cutoff, res))
            if not rows:
                continue
            merged: dict[tuple, Agg] = defaultdict(Agg)
            for _rowid, mid, ts, unit, n, total, lo, hi, rawtext in rows:
                merged[(mid, math.floor(ts / res) * res, unit)].add(
                    n, total, lo, hi, None if rawtext is None else json.loads(rawtext))
            self.store.sql_many("DELETE FROM cw_datum WHERE rowid=?", [(r[0],) for r in rows])
            self.store.sql_many(
                "INSERT INTO cw_datum(metric, ts, res, unit, n, total, lo, hi, raw) VALUES (?,?,?,?,?,?,?,?,?)",
                [(mid, ts, res, unit, a.n, a.sum, a.min, a.max,
                  None if a.raw is None else json.dumps(sorted(a.raw.items()), separators=(",", ":")))
                 for (mid, ts, unit), a in merged.items()])
            changed += len(rows)
        return changed

    def wipe(self) -> None:
        self.store.sql("DELETE FROM cw_datum")
        self.store.sql("DELETE FROM cw_metric")
        self.forget()

    def count(self) -> int:
        return self.store.select("SELECT COUNT(*) FROM cw_datum")[0][0]
