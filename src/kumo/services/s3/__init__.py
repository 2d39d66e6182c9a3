"""S3: buckets and objects, bodies streamed to files under the data directory, metadata in the store."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile

from . import storage

log = logging.getLogger("kumo.s3")


class S3:
    """What the running service keeps beside its store: where the bodies live, and the event hooks."""

    def __init__(self, kumo):
        self.kumo = kumo
        if kumo.settings.ephemeral:
            # No lock guards an ephemeral kumo's data dir (it may be a durable one's): bodies go elsewhere,
            # named for this process, and those of ephemeral kumos that died without stopping are removed.
            _remove_dead_ephemeral_roots()
            self.root = tempfile.mkdtemp(prefix=f"kumo-s3-{os.getpid()}-")
            kumo.on_stop(lambda: shutil.rmtree(self.root, ignore_errors=True))
        else:
            self.root = os.path.join(kumo.settings.data_dir, "s3")
        self.blobs = storage.Blobs(self.root)
        self.hooks: list = []  # internal.on_event


def _remove_dead_ephemeral_roots() -> None:
    base = tempfile.gettempdir()
    for name in os.listdir(base):
        parts = name.split("-")
        if len(parts) < 4 or parts[:2] != ["kumo", "s3"] or not parts[2].isdigit():
            continue
        try:
            os.kill(int(parts[2]), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)  # its kumo is gone (kill -9)
        except (PermissionError, OverflowError, ValueError):
            pass


def setup(kumo):
    s3 = S3(kumo)
    storage.install(kumo.store)
    s3.blobs.prepare()
    removed = storage.sweep(kumo.store, s3.blobs)  # an ephemeral kumo's store starts empty: all of them
    if removed:
        log.info("s3: removed %d bodies no object names (left by a crash or an earlier ephemeral run)", removed)
    kumo.on_reset(lambda: storage.wipe(kumo.store, s3.blobs))
    from . import features

    features.setup(kumo, s3)
    return s3
