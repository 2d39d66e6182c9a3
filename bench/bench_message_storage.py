"""Why SQS messages are SQLite rows and not store records: the two side by side, in-process, no HTTP.

Both commit once per operation to a durable (WAL) database, as requests do.

* "records": each message a store record (kept in memory too); a receive
  scans the queue's records in arrival order for visible ones and rewrites
  each one it takes (body included) to bump its receive count.
* "rows": kumo's sqs/storage.py: an index on (queue, visible) finds visible
  messages; a receive updates four small columns.

    python bench/bench_message_storage.py
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid

from kumo.core.store import Store
from kumo.services.sqs import storage


def _store() -> Store:
    return Store(os.path.join(tempfile.mkdtemp(prefix="kumo-bench-"), "state.db"))


def _rss_mib() -> int:
    with open("/proc/self/status") as f:
        return int(f.read().split("VmRSS:")[1].split()[0]) // 1024


def records_cycle(n: int, in_flight: int, size: int) -> tuple[float, float, int]:
    st = _store()
    table = st.table("1/r", "sqs.message")
    before = _rss_mib()
    started = time.perf_counter()
    for i in range(in_flight + n):
        with st.transaction():
            table.put(f"{i:012d}", {"MessageId": str(uuid.uuid4()), "Body": "x" * size + str(i),
                                    "visible": 100 if i < in_flight else 0, "receives": 0})
    sent = time.perf_counter()
    grown = _rss_mib() - before
    done = 0
    while done < n:
        with st.transaction():
            batch = []
            for key, value in table.items():
                if value["visible"] <= 5:
                    batch.append((key, value))
                    if len(batch) == 10:
                        break
            for key, value in batch:
                table.put(key, {**value, "visible": 100, "receives": value["receives"] + 1})
        with st.transaction():
            for key, _ in batch:
                table.delete(key)
        done += len(batch)
    return sent - started, time.perf_counter() - sent, grown


def rows_cycle(n: int, in_flight: int, size: int) -> tuple[float, float, int]:
    st = _store()
    storage.install(st)
    before = _rss_mib()
    started = time.perf_counter()
    for i in range(in_flight + n):
        with st.transaction():
            storage.insert(st, "q", id=str(uuid.uuid4()), body="x" * size + str(i), attrs=None, system=None,
                           sent=1.0, enqueued=1.0, visible=100 if i < in_flight else 0)
    sent = time.perf_counter()
    grown = _rss_mib() - before
    done = 0
    while done < n:
        with st.transaction():
            got = storage.visible(st, "q", 5, 0, 10)
            storage.received(st, [(100, 5, "nonce", r.seq) for r in got])
        with st.transaction():
            storage.delete_many(st, "q", [r.seq for r in got])
        done += len(got)
    return sent - started, time.perf_counter() - sent, grown


def main() -> None:
    print("| case | layout | send (s) | receive+delete (s) | RSS growth while holding them (MiB) |")
    print("|---|---|---|---|---|")
    for label, n, in_flight, size in (("10,000 x 1 KiB, empty queue", 10000, 0, 1024),
                                      ("5,000 x 1 KiB behind 5,000 in flight", 5000, 5000, 1024),
                                      ("2,000 x 64 KiB", 2000, 0, 65536)):
        for layout, run in (("records", records_cycle), ("rows", rows_cycle)):
            send, cycle, grown = run(n, in_flight, size)
            print(f"| {label} | {layout} | {send:.2f} | {cycle:.2f} | {grown} |")


if __name__ == "__main__":
    main()
