"""Hooks called after every committed object create or delete (the features modules deliver notifications).

``hook(kumo, bucket_record, event_name, info)``: ``event_name`` without the ``s3:`` prefix
(``ObjectCreated:Put``, ``ObjectRemoved:DeleteMarkerCreated`` ...), ``info`` the event record's
``s3.object`` part: ``{"key", "size", "eTag", "versionId", "sequencer"}`` (key not URL-encoded).
Hooks run after the commit, on kumo's loop; one that fails is logged, never undoes the change.
"""

from __future__ import annotations

import logging

log = logging.getLogger("kumo.s3")


def hooks(kumo) -> list:
    return kumo.services["s3"].hooks


def fire(kumo, bucket: dict, event: str, info: dict) -> None:
    """Run the hooks once the open transaction commits (at once outside one)."""

    def run():
        for hook in list(hooks(kumo)):
            try:
                hook(kumo, bucket, event, info)
            except Exception:
                log.exception("s3 event hook %r failed for %s", hook, event)

    kumo.store.after_commit(run)


def info(version) -> dict:
    out = {"key": version.key, "sequencer": f"{version.seq:016X}"}
    if not version.marker:
        out["size"] = version.size
        out["eTag"] = version.etag.strip('"')
    if version.version != "null":
        out["versionId"] = version.version
    return out
