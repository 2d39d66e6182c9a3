"""Deployment packages: zip files kept durably in the store, unpacked on disk for environments.

A zip is stored once per content (table ``lambda_code``, keyed by its SHA-256)
in the store's own database, so an acknowledged CreateFunction or
PublishLayerVersion has its code committed with it (it survives ``kill -9``)
and a failed request rolls it back.  Environments run from an unpacked copy
under ``<data dir>/work/lambda/code/<sha256>/`` (file modes and symlinks kept,
so a custom runtime's ``bootstrap`` stays executable), which can always be
made again from the stored zip.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import shutil
import stat
import zipfile
from pathlib import Path

from ...aws.errors import AwsError
from .model import invalid

MAX_ZIPPED = 50 * 1024 * 1024
MAX_UNZIPPED = 262144000
SCHEMA = """
CREATE TABLE IF NOT EXISTS lambda_code (
    sha TEXT PRIMARY KEY,
    zip BLOB NOT NULL
)
"""


def inspect(data: bytes, operation: str = "CreateFunction") -> dict:
    """Check a zip as Lambda does; returns its digest and sizes."""
    if len(data) > MAX_ZIPPED:
        raise AwsError("RequestEntityTooLargeException",
                       f"Request must be smaller than {MAX_ZIPPED} bytes for the {operation} operation",
                       status=413, fields={"Type": "User"})
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise invalid("Could not unzip uploaded file. Please check your file, then try to upload again.")
    unzipped = sum(i.file_size for i in infos)
    if unzipped > MAX_UNZIPPED:
        raise invalid(f"Unzipped size must be smaller than {MAX_UNZIPPED} bytes")
    for info in infos:
        if _unsafe(info.filename):
            raise invalid("Could not unzip uploaded file. Please check your file, then try to upload again.")
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


def _unsafe(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith("/") or ".." in parts


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
    os.makedirs(tmp)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if _unsafe(info.filename):
                continue
            dest = os.path.join(tmp, info.filename)
            mode = (info.external_attr >> 16) & 0xFFFF
            if info.is_dir():
                os.makedirs(dest, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            if stat.S_ISLNK(mode):
                link = zf.read(info).decode("utf-8", "replace")
                try:
                    os.symlink(link, dest)
                except FileExistsError:
                    pass
                continue
            with zf.open(info) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            perms = stat.S_IMODE(mode) if mode else 0
            # Zips made without Unix modes (Windows tools) unpack as AWS unpacks them: readable, not executable.
            os.chmod(dest, (perms | 0o444) if perms else 0o644)
    # Directories must be traversable by the runtime, whoever it runs as.
    for root, dirs, _files in os.walk(tmp):
        for d in dirs:
            p = os.path.join(root, d)
            if not os.path.islink(p):
                os.chmod(p, 0o755)
    os.chmod(tmp, 0o755)
    if os.path.exists(target):
        shutil.rmtree(target, ignore_errors=True)
    os.rename(tmp, target)
    Path(f"{target}.ok").touch()  # beside the code, not in it: /var/task holds only what the zip held


def _merge(dirs: list[str], target: str) -> None:
    tmp = f"{target}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for d in dirs:
        shutil.copytree(d, tmp, symlinks=True, dirs_exist_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    os.rename(tmp, target)
    Path(f"{target}.ok").touch()
