"""kill -9 during a stream of PUTs and DELETEs: every acknowledged object is present and whole, every
acknowledged delete stays deleted, nothing half-written is visible, and no body is left behind unreferenced.

Four writers PUT objects of 1 KiB to 3 MiB (each key written once) and DELETE some they had written;
once 150 operations are acknowledged kumo is killed with SIGKILL mid-stream and restarted on the same
data directory.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time

from botocore.exceptions import BotoCoreError, ClientError

from tests.conftest import Clients

WRITERS = 4
KILL_AFTER = 150
DEADLINE = 60.0


def test_kill9_keeps_acknowledged_puts_and_deletes(kumo_process):
    proc = kumo_process().start()
    account = "000000000000"
    Clients(proc.endpoint, account)("s3").create_bucket(Bucket="durable")
    lock = threading.Lock()
    acked: dict[str, str] = {}  # key -> md5 of its acknowledged body
    deleted: set[str] = set()  # acknowledged deletes
    attempted: dict[str, str] = {}  # key -> md5 of a body whose PUT may or may not have landed
    stop = threading.Event()

    def writer(n: int):
        s3 = Clients(proc.endpoint, account)("s3")
        rng = random.Random(n)
        i = 0
        mine: list[str] = []
        while not stop.is_set():
            i += 1
            try:
                if mine and rng.random() < 0.3:
                    key = mine.pop(rng.randrange(len(mine)))
                    s3.delete_object(Bucket="durable", Key=key)
                    with lock:
                        deleted.add(key)
                else:
                    key = f"w{n}/obj-{i}"
                    size = rng.choice([1024, 64 * 1024, 1024 * 1024, 3 * 1024 * 1024 + 17])
                    body = os.urandom(size)
                    digest = hashlib.md5(body).hexdigest()
                    with lock:
                        attempted[key] = digest
                    s3.put_object(Bucket="durable", Key=key, Body=body)
                    with lock:
                        acked[key] = digest
                    mine.append(key)
            except (BotoCoreError, ClientError, OSError):
                return  # kumo is gone

    threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(WRITERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + DEADLINE  # real-time bound of the load loop
    while time.monotonic() < deadline:
        with lock:
            if len(acked) + len(deleted) >= KILL_AFTER:
                break
        time.sleep(0.02)
    proc.kill9()
    stop.set()
    for t in threads:
        t.join(30)
    assert len(acked) + len(deleted) >= KILL_AFTER

    again = kumo_process(like=proc).start()
    s3 = Clients(again.endpoint, account)("s3")
    listed = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="durable"):
        for o in page.get("Contents", []):
            listed[o["Key"]] = o["ETag"].strip('"')
    for key, digest in acked.items():
        if key in deleted:
            continue
        assert listed.get(key) == digest, f"acknowledged {key} lost or changed"
        body = s3.get_object(Bucket="durable", Key=key)["Body"].read()
        assert hashlib.md5(body).hexdigest() == digest
    for key in deleted:
        assert key not in listed, f"acknowledged delete of {key} came back"
    for key, etag in listed.items():
        # Unacknowledged PUTs may or may not have landed, but never half: the ETag is the whole body's.
        assert attempted.get(key) == etag
    # No temp file survives the restart, and every body on disk belongs to a listed object.
    root = proc.data_dir / "s3"
    assert not list((root / "tmp").iterdir())
    blobs = [p for p in (root / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == len(listed)
