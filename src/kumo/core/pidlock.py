"""A lock file that names its holder: one process at a time, dropped by the kernel when that process dies.

kumo holds its data directory and its loopback networks this way.  ``flock``
belongs to the open file, so kill -9 (or any crash) frees it at once, and a
stale file never blocks anyone; the holder's pid written inside lets the one
refused say who has it.
"""

from __future__ import annotations

import fcntl
import os


class Held(RuntimeError):
    """Someone else holds the lock; ``pid`` is theirs when they wrote it (None otherwise)."""

    def __init__(self, path: str, pid: int | None):
        super().__init__(f"{path} is held by pid {pid}" if pid else f"{path} is held")
        self.path, self.pid = path, pid


class PidLock:
    def __init__(self, path: str):
        self.path = path
        self._file = open(path, "a+")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = holder(self._file)
            self._file.close()
            raise Held(path, pid) from None
        except BaseException:
            self._file.close()
            raise
        self._file.truncate(0)
        self._file.write(str(os.getpid()))
        self._file.flush()

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file drops its lock
            self._file = None


def holder(f) -> int | None:
    f.seek(0)
    text = f.read().strip()
    return int(text) if text.isdigit() else None
