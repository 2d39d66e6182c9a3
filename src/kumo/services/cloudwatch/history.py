"""Alarm history: a table of its own, since a flapping alarm writes an item every minute.

Items are kept for 30 days, as AWS keeps them, and outlive the alarm they
describe (DescribeAlarmHistory still finds a deleted alarm's items).
"""

from __future__ import annotations

import json

SCHEMA = """
CREATE TABLE IF NOT EXISTS cw_history (
    scope   TEXT NOT NULL,
    alarm   TEXT NOT NULL,
    type    TEXT NOT NULL,
    ts      REAL NOT NULL,
    item    TEXT NOT NULL,
    summary TEXT NOT NULL,
    data    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cw_history_by_alarm ON cw_history (scope, alarm, ts);
CREATE INDEX IF NOT EXISTS cw_history_by_time ON cw_history (scope, ts);
CREATE INDEX IF NOT EXISTS cw_history_by_age ON cw_history (ts);
"""
KEEP_FOR = 30 * 86400


class History:
    def __init__(self, store):
        self.store = store
        store.ensure_schema(SCHEMA)

    def add(self, scope: str, alarm: str, alarm_type: str, ts: float, item: str, summary: str, data) -> None:
        text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
        self.store.sql("INSERT INTO cw_history(scope, alarm, type, ts, item, summary, data) VALUES (?,?,?,?,?,?,?)",
                       (scope, alarm, alarm_type, ts, item, summary[:255], text))

    def query(self, scope: str, alarm: str | None = None, types: list[str] | None = None, item: str | None = None,
              start: float | None = None, end: float | None = None, descending: bool = True) -> list[dict]:
        sql = "SELECT rowid, alarm, type, ts, item, summary, data FROM cw_history WHERE scope=?"
        params: list = [scope]
        if alarm is not None:
            sql += " AND alarm=?"
            params.append(alarm)
        if types:
            sql += f" AND type IN ({','.join('?' * len(types))})"
            params.extend(types)
        if item is not None:
            sql += " AND item=?"
            params.append(item)
        if start is not None:
            sql += " AND ts>=?"
            params.append(start)
        if end is not None:
            sql += " AND ts<=?"
            params.append(end)
        order = "DESC" if descending else "ASC"
        sql += f" ORDER BY ts {order}, rowid {order}"
        return [{"AlarmName": a, "AlarmType": t, "Timestamp": ts, "HistoryItemType": i, "HistorySummary": s,
                 "HistoryData": d, "_id": rowid}
                for rowid, a, t, ts, i, s, d in self.store.select(sql, params)]

    def prune(self, now: float) -> None:
        self.store.sql("DELETE FROM cw_history WHERE ts<?", (now - KEEP_FOR,))

    def wipe(self) -> None:
        self.store.sql("DELETE FROM cw_history")
