"""Deployment packages: zip files kept durably in the store, unpacked on disk for environments.

A zip is stored once per content (table ``lambda_code``, keyed by its SHA-256)
in the store's own database, so an acknowledged CreateFunction or
PublishLayerVersion has its code committed with it (it survives ``kill -9``)
and a failed request rolls it back.  Environments run from an unpacked copy
under ``<data dir>/work/lambda/code/<sha256>/`` (file modes and symlinks kept,
so a custom runtime's ``bootstrap`` stays executable), which can always be
made again from the stored zip.

Archives are checked and unpacked by ``core/archive.py``: an entry that would
land outside the code's directory (``../``, an absolute name, a path through
the archive's own symlink) makes the upload fail with Lambda's "Could not
unzip uploaded file" error, and unpacking never follows a symlink.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import shutil
import zipfile
from pathlib import Path

from ...aws.errors import AwsError
from ...core import archive, paths
from .model import invalid

MAX_ZIPPED = 50 * 1024 * 1024
MAX_UNZIPPED = 262144000
UNZIP_FAILED = "Could not unzip uploaded file. Please check your file, then try to upload again."
SCHEMA = """
CREATE TABLE IF NOT EXISTS lambda_code (
    sha TEXT PRIMARY KEY,
    zip BLOB NOT NULL
)
"""


def inspect(data: bytes, operation: str = "CreateFunction", from_s3: bool = False) -> dict:
    """Check a zip as Lambda does; returns its digest and sizes.  A zip read from S3 is bounded only by its
    unzipped size."""
    if len(data) > MAX_ZIPPED and not from_s3:
        raise AwsError("RequestEntityTooLargeException",
                       f"Request must be smaller than {MAX_ZIPPED} bytes for the {operation} operation",
                       status=413, fields={"Type": "User"})
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unzipped = archive.check(zf)
    except (zipfile.BadZipFile, ValueError, EOFError):  # archive.Refused is a ValueError
        raise invalid(UNZIP_FAILED)
    if unzipped > MAX_UNZIPPED:
        raise invalid(f"Unzipped size must be smaller than {MAX_UNZIPPED} bytes")
    digest = hashlib.sha256(data)
    return {"sha": digest.hexdigest(), "CodeSha256": base64.b64encode(digest.digest()).decode(),
            "CodeSize": len(data), "unzipped": unzipped}


def keep(store, sha: str, data: bytes) -> None:
    """Store the zip in the current transaction (once per content)."""
    store.sql("INSERT OR IGNORE INTO lambda_code(sha, zip) VALUES (?, ?)", (sha, data))


def load(store, sha: str) -> bytes | None:
    rows = store.select("SELECT zip FROM lambda_code WHERE sha=?", (sha,))
    return bytes(rows[0][0]) if rows else None


def forget(store, sha: str) -> None:
    store.sql("DELETE FROM lambda_code WHERE sha=?", (sha,))


def wipe(store) -> None:
    with store.transaction():
        store.sql("DELETE FROM lambda_code")


class Unpacker:
    """Unpacked copies of stored zips, made once per content (off the event loop for big ones)."""

    def __init__(self, kumo):
        self.kumo = kumo
        self.root = Path(kumo.settings.work_dir) / "lambda" / "code"
        self._making: dict[str, asyncio.Future] = {}

    def path(self, sha: str) -> Path:
        return self.root / sha

    def ready(self, sha: str) -> bool:
        return (self.root / f"{sha}.ok").exists()

    async def ensure(self, sha: str) -> str:
        """The directory holding the unpacked code of ``sha``; unpacks it first if needed."""
        target = self.root / sha
        if self.ready(sha):
            return str(target)
        pending = self._making.get(sha)
        if pending is None:
            data = load(self.kumo.store, sha)
            if data is None:
                raise LookupError(f"no stored code {sha}")
            loop = asyncio.get_running_loop()
            pending = self._making[sha] = loop.run_in_executor(None, _unpack, data, str(target))
            pending.add_done_callback(lambda _f: self._making.pop(sha, None))
        await asyncio.shield(pending)
        return str(target)

    async def merged(self, dirs: list[str]) -> str:
        """One directory holding several unpacked layers, later ones on top (/opt without mount namespaces)."""
        import hashlib

        key = hashlib.sha256("\0".join(dirs).encode()).hexdigest()[:32]
        target = self.root.parent / "opt" / key
        if (self.root.parent / "opt" / f"{key}.ok").exists():
            return str(target)
        await asyncio.get_running_loop().run_in_executor(None, _merge, dirs, str(target))
        return str(target)

    def remove(self, sha: str) -> None:
        try:
            os.unlink(self.root / f"{sha}.ok")
        except OSError:
            pass
        shutil.rmtree(self.root / sha, ignore_errors=True)


def _unpack(data: bytes, target: str) -> None:
    tmp = f"{target}.tmp-{os.getpid()}-{id(data)}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        archive.extract(data, tmp, MAX_UNZIPPED)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    os.chmod(tmp, 0o755)  # the runtime must traverse it, whoever it runs as
    if os.path.exists(target):
        shutil.rmtree(target, ignore_errors=True)
    os.rename(tmp, target)
    Path(f"{target}.ok").touch()  # beside the code, not in it: /var/task holds only what the zip held


def _merge(dirs: list[str], target: str) -> None:
    """Layers in one directory, later ones on top, by the overlay's rules (a directory of a later layer
    replaces an earlier layer's symlink instead of being written through it)."""
    tmp = f"{target}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tree = paths.Tree(tmp, replace=True)
        for d in dirs:
            tree.merge(d)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    os.chmod(tmp, 0o755)
    shutil.rmtree(target, ignore_errors=True)
    os.rename(tmp, target)
    Path(f"{target}.ok").touch()
