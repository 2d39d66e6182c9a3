"""Log events live in a table of kumo's database, not as store records: a stream may hold millions.

Rows are ordered by (timestamp, id); ``id`` only grows (AUTOINCREMENT), so a
position in a stream is that pair, which is what kumo's GetLogEvents and
FilterLogEvents tokens carry.  Writes join the store's transaction, so an
acknowledged PutLogEvents survives kill -9.
"""

from __future__ import annotations

SCHEMA = """
CREATE TABLE IF NOT EXISTS logs_event (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    scope    TEXT NOT NULL,
    grp      TEXT NOT NULL,
    stream   TEXT NOT NULL,
    ts       INTEGER NOT NULL,
    ingested INTEGER NOT NULL,
    message  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_event_by_stream ON logs_event (scope, grp, stream, ts, id);
CREATE INDEX IF NOT EXISTS logs_event_by_group ON logs_event (scope, grp, ts, id)
"""
Row = tuple  # (id, stream, ts, ingested, message)


class EventStore:
    def __init__(self, store):
        self.store = store
        store.ensure_schema(SCHEMA)

    def append(self, scope: str, group: str, stream: str, events: list[tuple[int, str]], ingested: int) -> list[int]:
        """Insert the events; their ids, in order (one writer, so a batch's ids are consecutive)."""
        self.store.sql_many(
            "INSERT INTO logs_event(scope, grp, stream, ts, ingested, message) VALUES (?,?,?,?,?,?)",
            [(scope, group, stream, ts, ingested, message) for ts, message in events])
        last = self.store.select("SELECT last_insert_rowid()")[0][0]
        return list(range(last - len(events) + 1, last + 1))

    def get(self, event_id: int) -> tuple | None:
        """(scope, group, stream, ts, ingested, message) of one event."""
        rows = self.store.select("SELECT scope, grp, stream, ts, ingested, message FROM logs_event WHERE id=?",
                                 (event_id,))
        return rows[0] if rows else None

    def scan(self, scope: str, group: str, start: int | None, end: int | None, limit: int) -> list[Row]:
        """Up to ``limit`` events of a group in [start, end], oldest first (Logs Insights)."""
        sql = "SELECT id, stream, ts, ingested, message FROM logs_event WHERE scope=? AND grp=?"
        sql, params = _bounds(sql, [scope, group], start, end, None, None, end_inclusive=True)
        return self.store.select(f"{sql} ORDER BY ts, id LIMIT ?", [*params, limit])

    def stream_page(self, scope: str, group: str, stream: str, start: int | None, end: int | None,
                    after: tuple[int, int] | None, before: tuple[int, int] | None, limit: int,
                    newest: bool) -> list[Row]:
        """Up to ``limit`` events of one stream in time order; ``newest`` takes the last ones."""
        sql = "SELECT id, stream, ts, ingested, message FROM logs_event WHERE scope=? AND grp=? AND stream=?"
        params: list = [scope, group, stream]
        sql, params = _bounds(sql, params, start, end, after, before, end_inclusive=False)
        order = "DESC" if newest else "ASC"
        rows = self.store.select(f"{sql} ORDER BY ts {order}, id {order} LIMIT ?", [*params, limit])
        return rows[::-1] if newest else rows

    def group_scan(self, scope: str, group: str, streams: list[str] | None, start: int | None, end: int | None,
                   after: tuple[int, int] | None, chunk: int) -> list[Row]:
        sql = "SELECT id, stream, ts, ingested, message FROM logs_event WHERE scope=? AND grp=?"
        params: list = [scope, group]
        if streams is not None:
            sql += f" AND stream IN ({','.join('?' * len(streams))})"
            params.extend(streams)
        sql, params = _bounds(sql, params, start, end, after, None, end_inclusive=True)
        return self.store.select(f"{sql} ORDER BY ts, id LIMIT ?", [*params, chunk])

    def bounds(self, scope: str, group: str, stream: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
        rows = self.store.select(
            "SELECT MIN(ts), MAX(ts) FROM logs_event WHERE scope=? AND grp=? AND stream=?", (scope, group, stream))
        if not rows or rows[0][0] is None:
            return None
        first = self.store.select("SELECT ts, id FROM logs_event WHERE scope=? AND grp=? AND stream=? "
                                  "ORDER BY ts, id LIMIT 1", (scope, group, stream))[0]
        last = self.store.select("SELECT ts, id FROM logs_event WHERE scope=? AND grp=? AND stream=? "
                                 "ORDER BY ts DESC, id DESC LIMIT 1", (scope, group, stream))[0]
        return tuple(first), tuple(last)

    def delete_stream(self, scope: str, group: str, stream: str) -> None:
        self.store.sql("DELETE FROM logs_event WHERE scope=? AND grp=? AND stream=?", (scope, group, stream))

    def delete_group(self, scope: str, group: str) -> None:
        self.store.sql("DELETE FROM logs_event WHERE scope=? AND grp=?", (scope, group))

    def expire(self, scope: str, group: str, before_ms: int) -> None:
        self.store.sql("DELETE FROM logs_event WHERE scope=? AND grp=? AND ts<?", (scope, group, before_ms))

    def wipe(self) -> None:
        self.store.sql("DELETE FROM logs_event")


def _bounds(sql, params, start, end, after, before, end_inclusive: bool):
    if start is not None:
        sql += " AND ts>=?"
        params.append(start)
    if end is not None:
        sql += " AND ts<=?" if end_inclusive else " AND ts<?"
        params.append(end)
    if after is not None:
        sql += " AND (ts>? OR (ts=? AND id>?))"
        params.extend([after[0], after[0], after[1]])
    if before is not None:
        sql += " AND (ts<? OR (ts=? AND id<?))"
        params.extend([before[0], before[0], before[1]])
    return sql, params
