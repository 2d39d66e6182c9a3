"""Names from requests, kept inside the directory they belong to.

Every name that comes from a request and becomes part of a host path goes
through here: a MIME part's filename, a zip entry, a cloud-config path, a
region in a file name.

* ``parts(name)`` splits a relative name into components and refuses
  (``Escape``) what could leave its directory: an absolute name, a drive
  letter, a ``..`` component, a NUL byte.
* ``rooted(path)`` is an absolute path as a machine of its own sees it
  (``/../../etc`` is ``/etc``), for paths that are meant inside an instance.
* ``component(text)`` turns any text into one safe file name, reversibly, for
  names that are keys (a region), not paths.
* ``Tree`` writes under a directory through directory file descriptors opened
  with ``O_NOFOLLOW``, so a symlink in the tree (an archive's, or one a
  workload planted on its own disk) is never followed by kumo, and a ``..``
  never gets that far.
"""

from __future__ import annotations

import errno
import os
import posixpath
import re
import shutil
from contextlib import contextmanager
from typing import BinaryIO, Iterator
from urllib.parse import quote

_DRIVE = re.compile(r"^[A-Za-z]:")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_IN_THE_WAY = (errno.ELOOP, errno.ENOTDIR)  # a symlink (O_NOFOLLOW) or a file where a directory must be
MAX_NAME = 255  # bytes in one file name on Linux and macOS


class Escape(ValueError):
    """A name that would reach outside the directory it is confined to."""


def parts(name: str) -> list[str]:
    """The components of a relative name; ``.`` and empty ones dropped, backslashes read as separators."""
    if not isinstance(name, str):
        raise Escape(f"{name!r} is not a name")
    if "\0" in name:
        raise Escape(f"{name!r} contains a NUL byte")
    text = name.replace("\\", "/")
    if text.startswith("/") or _DRIVE.match(text):
        raise Escape(f"{name!r} is absolute")
    out = []
    for part in text.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            raise Escape(f"{name!r} climbs out of its directory")
        if len(part.encode("utf-8", "surrogateescape")) > MAX_NAME:
            raise Escape(f"{name!r} has a component longer than {MAX_NAME} bytes")
        out.append(part)
    return out


def rooted(path: str) -> str:
    """``path`` as an absolute path on a machine of its own: ``..`` stops at ``/``, as the kernel's does."""
    if "\0" in path:
        raise Escape(f"{path!r} contains a NUL byte")
    normal = posixpath.normpath("/" + path)
    return "/" + normal.lstrip("/")  # normpath keeps a leading "//"


def component(text: str) -> str:
    """``text`` as one file name that names nothing else: percent-encoded, never ``.`` or ``..``."""
    out = quote(text, safe="-_~", errors="surrogateescape")
    if out.startswith("."):
        out = "%2E" + out[1:]
    return out or "%"


class Tree:
    """A directory that names from requests are written into, without ever leaving it.

    Each step opens the next directory relative to the last with ``O_NOFOLLOW``.
    A symlink or a file standing where a directory must go is removed when
    ``replace`` (the tree is kumo's own, as an instance's ``.kumo`` is) and
    refused with ``Escape`` otherwise (an archive's entry would be written
    through its own symlink).  A file is always written fresh (the old name is
    unlinked first), so neither a symlink nor a hard link at its name is
    written through.
    """

    def __init__(self, root: str | os.PathLike, replace: bool = False, dir_mode: int = 0o755):
        self.root = os.fspath(root)
        self.replace = replace
        self.dir_mode = dir_mode
        os.makedirs(self.root, exist_ok=True)

    # -- the walk ------------------------------------------------------------------------------
    @contextmanager
    def _parent(self, names: list[str]) -> Iterator[int]:
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for name in names:
                step = self._enter(fd, name)
                os.close(fd)
                fd = step
            yield fd
        finally:
            os.close(fd)

    def _enter(self, fd: int, name: str, mode: int | None = None) -> int:
        try:
            step = os.open(name, _DIR_FLAGS, dir_fd=fd)
        except FileNotFoundError:
            step = None
        except OSError as exc:
            if exc.errno not in _IN_THE_WAY:
                raise
            if not self.replace:
                raise Escape(f"{name!r} in {self.root} is not a directory of the tree") from None
            os.unlink(name, dir_fd=fd)
            step = None
        if step is None:
            try:
                os.mkdir(name, 0o700, dir_fd=fd)
            except FileExistsError:
                pass
            step = os.open(name, _DIR_FLAGS, dir_fd=fd)
            os.fchmod(step, self.dir_mode if mode is None else mode)
        elif mode is not None:
            os.fchmod(step, mode)
        return step

    def _clear(self, fd: int, name: str) -> None:
        """Make room for a new entry: whatever stands at ``name`` goes (a directory with its contents)."""
        try:
            os.unlink(name, dir_fd=fd)
        except FileNotFoundError:
            pass
        except (IsADirectoryError, PermissionError):  # Linux says EISDIR for a directory, macOS EPERM
            shutil.rmtree(name, dir_fd=fd)

    # -- operations ----------------------------------------------------------------------------
    def mkdir(self, name: str, mode: int | None = None) -> None:
        names = parts(name)
        if not names:
            return
        with self._parent(names[:-1]) as fd:
            os.close(self._enter(fd, names[-1], mode))

    def write(self, name: str, data: bytes | BinaryIO, mode: int = 0o644, limit: int | None = None) -> int:
        """Write a file (bytes, or a stream copied to the end); at most ``limit`` bytes. Returns the size."""
        names = parts(name)
        if not names:
            raise Escape(f"{name!r} names the tree itself, not a file in it")
        with self._parent(names[:-1]) as fd:
            self._clear(fd, names[-1])
            out = os.open(names[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                          dir_fd=fd)
            try:
                size = _copy(data, out, limit)
                os.fchmod(out, mode & 0o777)  # never setuid/setgid: the file lives on the host
            finally:
                os.close(out)
        return size

    def symlink(self, name: str, target: str) -> None:
        """A symlink at ``name``; its target is kept as given and is never followed by kumo."""
        names = parts(name)
        if not names:
            raise Escape(f"{name!r} names the tree itself")
        if "\0" in target:
            raise Escape("a symlink target contains a NUL byte")
        with self._parent(names[:-1]) as fd:
            self._clear(fd, names[-1])
            os.symlink(target, names[-1], dir_fd=fd)

    def merge(self, source: str) -> None:
        """Lay the directory ``source`` over this tree as an overlay's upper layer does: a directory merges
        with a directory, anything else takes the place of what was there.  A directory takes the place of
        a symlink only with ``replace``; without it, that is an ``Escape``."""
        self._merge_into("", source)

    def _merge_into(self, prefix: str, source: str) -> None:
        with os.scandir(source) as entries:
            for entry in entries:
                rel = prefix + entry.name
                if entry.is_symlink():
                    self.symlink(rel, os.readlink(entry.path))
                elif entry.is_dir(follow_symlinks=False):
                    self.mkdir(rel)
                    self._merge_into(rel + "/", entry.path)
                elif entry.is_file(follow_symlinks=False):
                    src = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
                    with os.fdopen(src, "rb") as fh:
                        self.write(rel, fh, entry.stat(follow_symlinks=False).st_mode)


def _copy(data: bytes | BinaryIO, fd: int, limit: int | None) -> int:
    if isinstance(data, (bytes, bytearray, memoryview)):
        chunks: Iterator[bytes] = iter([bytes(data)])
    else:
        chunks = iter(lambda: data.read(1 << 20), b"")
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if limit is not None and size > limit:
            raise OverflowError(f"more than {limit} bytes")
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view):]
    return size
