"""Builds kumo's network shim (netshim.c) with the host's C compiler, once per source version.

The shared object is cached under ``~/.cache/kumo`` (``KUMO_CACHE_DIR``).  Without a
compiler kumo still runs instances; they just cannot share ports, and must bind
``$KUMO_SELF_IP`` themselves (docs/compute.md).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger("kumo.dataplane.compute")
SOURCE = Path(__file__).with_name("netshim.c")


def cache_dir() -> Path:
    return Path(os.environ.get("KUMO_CACHE_DIR") or Path.home() / ".cache" / "kumo")


def build() -> Path | None:
    """Path of the compiled shim, building it if needed; None if it cannot be built."""
    src = SOURCE.read_bytes()
    digest = hashlib.sha256(src).hexdigest()[:16]
    target = cache_dir() / f"netshim-{digest}.so"
    if target.exists():
        return target
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        log.warning("no C compiler: instances cannot share ports (see docs/compute.md)")
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".so")
    os.close(fd)
    try:
        subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", tmp, str(SOURCE), "-ldl"],
                       check=True, capture_output=True, timeout=120)
        os.replace(tmp, target)
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        log.warning("could not build the network shim: %s %s", exc, detail.decode(errors="replace")[:500])
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return None
    return target
