"""Where S3 keeps objects: bodies in files under the data directory, metadata in the store's database.

Layout (``<data_dir>/s3/``):

* ``tmp/``      bodies being received; emptied at every start (an upload that was never acknowledged)
* ``blobs/<2 hex>/<32 hex>``  committed bodies (object versions and multipart parts), named by kumo,
  never after the key: nothing from a request becomes a host path.

A write goes to ``tmp/``, is fsynced, renamed into ``blobs/``, and only then does its row commit in
``s3_objects`` (inside the request's transaction): the object is visible and acknowledged together.
A body whose row was replaced or deleted is unlinked after the commit; a crash in between leaves a
blob no row names, which ``sweep`` removes at the next start.

Tables (rows share the store's connection and transactions, like SQS's messages):

* ``s3_objects``  one row per object version: (bucket, key, version) -> size, etag, modified, file,
  ``meta`` (JSON: content headers, user metadata, checksums, tags, owner); ``seq`` orders versions,
  ``latest`` marks the current one, ``marker`` a delete marker (no file).
* ``s3_uploads``  multipart uploads in progress; ``s3_parts`` their parts.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS s3_objects (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket   TEXT NOT NULL,
    key      TEXT NOT NULL,
    version  TEXT NOT NULL,      -- VersionId, 'null' when written without versioning
    latest   INTEGER NOT NULL,   -- 1 for the current version of the key
    marker   INTEGER NOT NULL,   -- 1 for a delete marker
    size     INTEGER NOT NULL,
    etag     TEXT NOT NULL,      -- with its quotes, as S3 answers it
    modified REAL NOT NULL,
    file     TEXT,               -- blob name under blobs/ (NULL for delete markers)
    meta     TEXT NOT NULL       -- JSON
);
CREATE UNIQUE INDEX IF NOT EXISTS s3_objects_version ON s3_objects(bucket, key, version);
CREATE INDEX IF NOT EXISTS s3_objects_latest ON s3_objects(bucket, latest, key);
CREATE TABLE IF NOT EXISTS s3_uploads (
    id       TEXT PRIMARY KEY,
    bucket   TEXT NOT NULL,
    key      TEXT NOT NULL,
    initiated REAL NOT NULL,
    meta     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS s3_uploads_bucket ON s3_uploads(bucket, key);
CREATE TABLE IF NOT EXISTS s3_parts (
    upload   TEXT NOT NULL,
    number   INTEGER NOT NULL,
    size     INTEGER NOT NULL,
    etag     TEXT NOT NULL,
    modified REAL NOT NULL,
    file     TEXT NOT NULL,
    meta     TEXT NOT NULL,
    PRIMARY KEY (upload, number)
);
"""

_COLUMNS = "seq, bucket, key, version, latest, marker, size, etag, modified, file, meta"


@dataclass
class Version:
    """One row of s3_objects."""

    seq: int
    bucket: str
    key: str
    version: str
    latest: bool
    marker: bool
    size: int
    etag: str
    modified: float
    file: str | None
    meta: dict = field(default_factory=dict)

    @classmethod
    def of(cls, row) -> "Version":
        return cls(row[0], row[1], row[2], row[3], bool(row[4]), bool(row[5]), row[6], row[7], row[8], row[9],
                   json.loads(row[10]))


class Blobs:
    """The files under ``<data_dir>/s3``."""

    def __init__(self, root: str):
        self.root = root
        self.tmp = os.path.join(root, "tmp")
        self.blobs = os.path.join(root, "blobs")

    def prepare(self) -> None:
        # Whatever is in tmp/ was never acknowledged (kumo stopped or died mid-upload).
        shutil.rmtree(self.tmp, ignore_errors=True)
        os.makedirs(self.tmp, exist_ok=True)
        os.makedirs(self.blobs, exist_ok=True)

    def temp(self) -> str:
        return os.path.join(self.tmp, uuid.uuid4().hex)

    def path(self, name: str) -> str:
        return os.path.join(self.blobs, name[:2], name)

    def adopt(self, temp_path: str) -> str:
        """Move a finished, fsynced temp file into blobs/; returns its blob name."""
        name = uuid.uuid4().hex
        target = self.path(name)
        try:
            os.rename(temp_path, target)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.rename(temp_path, target)
        return name

    def remove(self, name: str | None) -> None:
        if name:
            try:
                os.unlink(self.path(name))
            except FileNotFoundError:
                pass

    def remove_temp(self, path: str) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    def names(self):
        for sub in os.listdir(self.blobs):
            folder = os.path.join(self.blobs, sub)
            if os.path.isdir(folder):
                yield from os.listdir(folder)


def install(store) -> None:
    store.ensure_schema(SCHEMA)


def sweep(store, blobs: Blobs) -> int:
    """Unlink blobs no row names (replaced or deleted just before a crash, or renamed but never committed)."""
    used = {r[0] for r in store.select("SELECT file FROM s3_objects WHERE file IS NOT NULL")}
    used |= {r[0] for r in store.select("SELECT file FROM s3_parts")}
    removed = 0
    for name in list(blobs.names()):
        if name not in used:
            blobs.remove(name)
            removed += 1
    return removed


def wipe(store, blobs: Blobs) -> None:
    with store.transaction():
        for table in ("s3_objects", "s3_uploads", "s3_parts"):
            store.sql(f"DELETE FROM {table}")
    shutil.rmtree(blobs.blobs, ignore_errors=True)
    blobs.prepare()


# -- object versions ---------------------------------------------------------------------------------


def latest(store, bucket: str, key: str) -> Version | None:
    rows = store.select(f"SELECT {_COLUMNS} FROM s3_objects WHERE bucket=? AND key=? AND latest=1", (bucket, key))
    return Version.of(rows[0]) if rows else None


def version(store, bucket: str, key: str, version_id: str) -> Version | None:
    rows = store.select(f"SELECT {_COLUMNS} FROM s3_objects WHERE bucket=? AND key=? AND version=?",
                        (bucket, key, version_id))
    return Version.of(rows[0]) if rows else None


def insert(store, v: Version) -> Version:
    """Add a version as the key's latest (the previous latest stays as a noncurrent version)."""
    store.sql("UPDATE s3_objects SET latest=0 WHERE bucket=? AND key=? AND latest=1", (v.bucket, v.key))
    cur = store.sql("INSERT INTO s3_objects (bucket, key, version, latest, marker, size, etag, modified, file, meta) "
                    "VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
                    (v.bucket, v.key, v.version, int(v.marker), v.size, v.etag, v.modified, v.file,
                     json.dumps(v.meta, separators=(",", ":"))))
    v.seq, v.latest = cur.lastrowid, True
    return v


def remove(store, v: Version) -> None:
    """Delete one version's row; if it was the latest, the newest remaining version becomes latest."""
    store.sql("DELETE FROM s3_objects WHERE seq=?", (v.seq,))
    if v.latest:
        rows = store.select("SELECT seq FROM s3_objects WHERE bucket=? AND key=? ORDER BY seq DESC LIMIT 1",
                            (v.bucket, v.key))
        if rows:
            store.sql("UPDATE s3_objects SET latest=1 WHERE seq=?", (rows[0][0],))


def update_meta(store, v: Version) -> None:
    store.sql("UPDATE s3_objects SET meta=? WHERE seq=?", (json.dumps(v.meta, separators=(",", ":")), v.seq))


def count(store, bucket: str) -> int:
    return store.select("SELECT COUNT(*) FROM s3_objects WHERE bucket=?", (bucket,))[0][0]


def listing(store, bucket: str, prefix: str, after: str, limit: int) -> list[Version]:
    """Current, non-deleted versions with keys > after, starting with prefix, in key (UTF-8 byte) order."""
    rows = store.select(f"SELECT {_COLUMNS} FROM s3_objects WHERE bucket=? AND latest=1 AND marker=0 AND key>? "
                        "AND key>=? ORDER BY key LIMIT ?", (bucket, after, prefix, limit))
    out = []
    for row in rows:
        v = Version.of(row)
        if not v.key.startswith(prefix):  # keys with the prefix are contiguous: past them, done
            break
        out.append(v)
    return out


def versions(store, bucket: str, prefix: str, after_key: str, after_seq: int | None, limit: int) -> list[Version]:
    """Every version (and delete marker), by key, newest first within a key, after the given position."""
    if after_seq is None:
        sql = f"SELECT {_COLUMNS} FROM s3_objects WHERE bucket=? AND key>=? AND key>? ORDER BY key, seq DESC LIMIT ?"
        params: tuple = (bucket, prefix, after_key, limit)
    else:
        sql = (f"SELECT {_COLUMNS} FROM s3_objects WHERE bucket=? AND key>=? AND (key>? OR (key=? AND seq<?)) "
               "ORDER BY key, seq DESC LIMIT ?")
        params = (bucket, prefix, after_key, after_key, after_seq, limit)
    return [Version.of(r) for r in store.select(sql, params)]


def all_versions(store, bucket: str, key: str) -> list[Version]:
    return [Version.of(r) for r in store.select(
        f"SELECT {_COLUMNS} FROM s3_objects WHERE bucket=? AND key=? ORDER BY seq DESC", (bucket, key))]


def meta_json(meta: dict[str, Any]) -> str:
    return json.dumps(meta, separators=(",", ":"))
