"""SQS messages, in SQLite tables of their own beside kumo's records.

Queues are ordinary store records; messages are not.  A queue can hold many
thousands of messages of up to 1 MiB, and every receive asks "which messages
are visible now, oldest first?".  As records they would all sit in memory, a
receive would rewrite the whole message (body included) just to bump its
receive count, and finding the visible ones would need an index of our own
that a rolled-back transaction could leave stale.  As rows, SQLite's index on
(queue, visible) answers the question, a receive updates four small columns,
and the rows share the store's connection and transaction: a send or delete
commits with the request, before the response, or rolls back with it.
docs/messaging.md has the measurements behind this choice.
"""

from __future__ import annotations

import json
from typing import Iterable, NamedTuple

SCHEMA = """
CREATE TABLE IF NOT EXISTS sqs_messages (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,  -- arrival order
    queue     TEXT NOT NULL,     -- the queue record's _id
    id        TEXT NOT NULL,     -- MessageId
    body      TEXT NOT NULL,
    attrs     TEXT,              -- message attributes (JSON, binary values base64)
    system    TEXT,              -- system attributes: SenderId, AWSTraceHeader, DeadLetterQueueSourceArn
    sent      REAL NOT NULL,     -- SentTimestamp
    enqueued  REAL NOT NULL,     -- retention counts from here
    visible   REAL NOT NULL,     -- may be received from this time on
    receives  INTEGER NOT NULL DEFAULT 0,
    first_receive REAL,
    received  REAL,              -- time of the latest receive
    receipt   TEXT,              -- nonce of the latest receive
    grp       TEXT,              -- MessageGroupId
    dedup     TEXT,              -- MessageDeduplicationId
    seqno     TEXT               -- FIFO SequenceNumber
);
CREATE INDEX IF NOT EXISTS sqs_messages_visible ON sqs_messages(queue, visible);
CREATE INDEX IF NOT EXISTS sqs_messages_queue ON sqs_messages(queue);  -- (queue, seq): FIFO order
CREATE TABLE IF NOT EXISTS sqs_dedup (
    queue   TEXT NOT NULL,
    key     TEXT NOT NULL,
    expires REAL NOT NULL,
    id      TEXT NOT NULL,
    seqno   TEXT,
    PRIMARY KEY (queue, key)
);
"""

_SCAN_PAGE = 256
_COLUMNS = ("seq, queue, id, body, attrs, system, sent, enqueued, visible, receives, first_receive, received, "
            "receipt, grp, dedup, seqno")


class Row(NamedTuple):
    seq: int
    queue: str
    id: str
    body: str
    attrs: str | None
    system: str | None
    sent: float
    enqueued: float
    visible: float
    receives: int
    first_receive: float | None
    received: float | None
    receipt: str | None
    grp: str | None
    dedup: str | None
    seqno: str | None

    @property
    def attributes(self) -> dict:
        return json.loads(self.attrs) if self.attrs else {}

    @property
    def system_attributes(self) -> dict:
        return json.loads(self.system) if self.system else {}


def install(store) -> None:
    store.ensure_schema(SCHEMA)


def wipe(store) -> None:
    store.sql("DELETE FROM sqs_messages")
    store.sql("DELETE FROM sqs_dedup")


def insert(store, queue: str, *, id: str, body: str, attrs: dict | None, system: dict | None, sent: float,
           enqueued: float, visible: float, grp: str | None = None, dedup: str | None = None,
           seqno: str | None = None, receives: int = 0, first_receive: float | None = None) -> int:
    cur = store.sql(
        "INSERT INTO sqs_messages(queue, id, body, attrs, system, sent, enqueued, visible, receives, first_receive,"
        " grp, dedup, seqno) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (queue, id, body, json.dumps(attrs) if attrs else None, json.dumps(system) if system else None, sent,
         enqueued, visible, receives, first_receive, grp, dedup, seqno))
    return cur.lastrowid


def get(store, queue: str, seq: int) -> Row | None:
    rows = store.select(f"SELECT {_COLUMNS} FROM sqs_messages WHERE seq=? AND queue=?", (seq, queue))
    return Row._make(rows[0]) if rows else None


def visible(store, queue: str, now: float, oldest: float, limit: int) -> list[Row]:
    """Standard queues: messages visible now, in the order they became visible."""
    rows = store.select(
        f"SELECT {_COLUMNS} FROM sqs_messages WHERE queue=? AND visible<=? AND enqueued>? ORDER BY visible, seq "
        "LIMIT ?", (queue, now, oldest, limit))
    return [Row._make(r) for r in rows]


def fifo_heads(store, queue: str, now: float, oldest: float, limit: int) -> list[Row]:
    """FIFO queues: up to ``limit`` messages in order, none from a group that has one in flight.

    Within a group only an unbroken run from the group's oldest message can be
    received; a message that is delayed or in flight ends its group's run.
    """
    ended = {g for (g,) in store.select(
        "SELECT DISTINCT grp FROM sqs_messages WHERE queue=? AND visible>? AND receives>0", (queue, now))}
    chosen: list[int] = []
    after = 0
    # Walk the light columns in arrival order, a page at a time; read whole rows only for the chosen few.
    while len(chosen) < limit:
        page = store.select("SELECT seq, grp, visible, enqueued FROM sqs_messages WHERE queue=? AND seq>? "
                            "ORDER BY seq LIMIT ?", (queue, after, _SCAN_PAGE))
        for seq, grp, visible_at, enqueued in page:
            if grp in ended or enqueued <= oldest:
                continue
            if visible_at > now:
                ended.add(grp)
                continue
            chosen.append(seq)
            if len(chosen) >= limit:
                break
        if len(page) < _SCAN_PAGE:
            break
        after = page[-1][0]
    if not chosen:
        return []
    marks = ",".join("?" * len(chosen))
    rows = store.select(f"SELECT {_COLUMNS} FROM sqs_messages WHERE seq IN ({marks}) ORDER BY seq", chosen)
    return [Row._make(r) for r in rows]


def received(store, rows: Iterable[tuple[float, float, str, int]]) -> None:
    """Record receives: (visible until, received at, receipt nonce, seq)."""
    store.sql_many(
        "UPDATE sqs_messages SET visible=?1, received=?2, receives=receives+1, first_receive=COALESCE(first_receive, "
        "?2), receipt=?3 WHERE seq=?4", list(rows))


def set_sequence_number(store, seq: int, seqno: str) -> None:
    store.sql("UPDATE sqs_messages SET seqno=? WHERE seq=?", (seqno, seq))


def set_visible(store, seq: int, when: float) -> None:
    store.sql("UPDATE sqs_messages SET visible=? WHERE seq=?", (when, seq))


def delete(store, queue: str, seq: int) -> bool:
    return store.sql("DELETE FROM sqs_messages WHERE seq=? AND queue=?", (seq, queue)).rowcount > 0


def delete_many(store, queue: str, seqs: list[int]) -> None:
    store.sql_many("DELETE FROM sqs_messages WHERE seq=? AND queue=?", [(s, queue) for s in seqs])


def purge(store, queue: str) -> int:
    return store.sql("DELETE FROM sqs_messages WHERE queue=?", (queue,)).rowcount


def drop_queue(store, queue: str) -> None:
    purge(store, queue)
    store.sql("DELETE FROM sqs_dedup WHERE queue=?", (queue,))


def expire(store, queue: str, oldest: float) -> int:
    """Delete messages past the retention period (enqueued at or before ``oldest``)."""
    return store.sql("DELETE FROM sqs_messages WHERE queue=? AND enqueued<=?", (queue, oldest)).rowcount


def counts(store, queue: str, now: float, oldest: float) -> tuple[int, int, int]:
    """(visible, in flight, delayed), as the Approximate* attributes count them."""
    row = store.select(
        "SELECT SUM(visible<=?), SUM(visible>? AND receives>0), SUM(visible>? AND receives=0) FROM sqs_messages "
        "WHERE queue=? AND enqueued>?", (now, now, now, queue, oldest))[0]
    return tuple(int(x or 0) for x in row)


def next_visible(store, queue: str, now: float) -> float | None:
    return store.select("SELECT MIN(visible) FROM sqs_messages WHERE queue=? AND visible>?", (queue, now))[0][0]


def oldest_rows(store, queue: str, oldest: float, limit: int) -> list[Row]:
    """Messages in arrival order, whatever their visibility (message move tasks)."""
    rows = store.select(f"SELECT {_COLUMNS} FROM sqs_messages WHERE queue=? AND enqueued>? ORDER BY seq LIMIT ?",
                        (queue, oldest, limit))
    return [Row._make(r) for r in rows]


def count(store, queue: str, oldest: float) -> int:
    return store.select("SELECT COUNT(*) FROM sqs_messages WHERE queue=? AND enqueued>?", (queue, oldest))[0][0]


# -- FIFO deduplication: ids stay remembered for 5 minutes, even after the message is deleted --------


def dedup_lookup(store, queue: str, key: str, now: float) -> tuple[str, str | None] | None:
    rows = store.select("SELECT id, seqno, expires FROM sqs_dedup WHERE queue=? AND key=?", (queue, key))
    if not rows or rows[0][2] <= now:
        return None
    return rows[0][0], rows[0][1]


def dedup_remember(store, queue: str, key: str, expires: float, id: str, seqno: str | None) -> None:
    store.sql("INSERT INTO sqs_dedup(queue, key, expires, id, seqno) VALUES (?,?,?,?,?) "
                  "ON CONFLICT(queue, key) DO UPDATE SET expires=excluded.expires, id=excluded.id, "
                  "seqno=excluded.seqno", (queue, key, expires, id, seqno))


def dedup_expire(store, now: float) -> None:
    store.sql("DELETE FROM sqs_dedup WHERE expires<=?", (now,))
