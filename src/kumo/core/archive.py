"""Zip archives from requests: checked before they are accepted, unpacked without leaving their directory.

``check`` reads the central directory and refuses, before anything is
stored, an archive that could not be unpacked in place: an entry with an
absolute name or a ``..`` component, an entry under a name the archive
itself made a symlink (written through it, it would land wherever the link
points), an encrypted entry, or a compression method other than stored and
deflate.  It returns the unpacked size the entries declare.

``extract`` unpacks into a directory through ``paths.Tree``: nothing is
written through a symlink, a file is never setuid or setgid, and no entry
yields more bytes than it declared (zipfile stops each entry at its
declared size, and the total is bounded again here), so a zip bomb costs no
more than the declared size the caller already accepted.

Symlinks are kept as symlinks, with their targets as written: a function's
links resolve in its own view of the file system (``/var/task``, ``/opt``),
as on AWS, and kumo never follows one.
"""

from __future__ import annotations

import io
import stat
import zipfile

from . import paths

LINK_MAX = 4095  # a symlink's target, at most PATH_MAX - 1 bytes
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


class Refused(ValueError):
    """An archive that cannot be unpacked safely; ``str()`` says why."""


def _mode(info: zipfile.ZipInfo) -> int:
    return (info.external_attr >> 16) & 0xFFFF


def _is_link(info: zipfile.ZipInfo) -> bool:
    return not info.is_dir() and stat.S_ISLNK(_mode(info))


def check(zf: zipfile.ZipFile) -> int:
    """The archive's declared unpacked size; ``Refused`` if it cannot be unpacked in place."""
    links: set[tuple[str, ...]] = set()
    named: list[tuple[str, ...]] = []
    total = 0
    for info in zf.infolist():
        try:
            names = tuple(paths.parts(info.filename))
        except paths.Escape as exc:
            raise Refused(str(exc)) from None
        if info.flag_bits & 0x1:
            raise Refused(f"{info.filename!r} is encrypted")
        if info.compress_type not in _METHODS:
            raise Refused(f"{info.filename!r} uses compression method {info.compress_type}")
        if _is_link(info):
            if info.file_size > LINK_MAX:
                raise Refused(f"{info.filename!r} is a symlink of {info.file_size} bytes")
            links.add(names)
        named.append(names)
        total += info.file_size
    for names in named:
        for end in range(1, len(names)):
            if names[:end] in links:
                raise Refused(f"{'/'.join(names)!r} lies under {'/'.join(names[:end])!r}, a symlink of the archive")
    return total


def extract(data: bytes, target: str, limit: int) -> int:
    """Unpack ``data`` into the directory ``target`` (made if needed); at most ``limit`` bytes in all.

    Entries ``check`` would refuse are skipped here (an archive stored before
    a check existed, say); returns the number of bytes written.
    """
    tree = paths.Tree(target)
    written = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                if info.flag_bits & 0x1 or info.compress_type not in _METHODS:
                    continue
                mode = _mode(info)
                try:
                    if info.is_dir():
                        tree.mkdir(info.filename)
                    elif _is_link(info):
                        if info.file_size <= LINK_MAX:
                            tree.symlink(info.filename, zf.read(info).decode("utf-8", "replace"))
                    else:
                        with zf.open(info) as src:
                            perms = stat.S_IMODE(mode)
                            # No Unix modes (zips made on Windows): readable, not executable, as AWS unpacks them.
                            written += tree.write(info.filename, src, (perms | 0o444) if perms else 0o644,
                                                  limit=limit - written)
                except paths.Escape:
                    continue
    except OverflowError:
        raise Refused(f"the archive unpacks to more than {limit} bytes") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise Refused(f"the archive is damaged: {exc}") from None
    return written
