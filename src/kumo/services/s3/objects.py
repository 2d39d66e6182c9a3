"""Object versions: committing a received body, deleting, and the versioning rules that decide which rows change.

Every change happens inside one store transaction; blobs a change leaves unreferenced are unlinked after
it commits, and the event hooks run then too (events.py).
"""

from __future__ import annotations

import hashlib
import os
import secrets

from ...aws.errors import AwsError
from . import buckets, events, storage
from .storage import Version


def service(kumo):
    return kumo.services["s3"]


def new_version_id() -> str:
    return secrets.token_urlsafe(24)  # 32 characters, as S3's


def no_such_key(key: str) -> AwsError:
    return AwsError("NoSuchKey", "The specified key does not exist.", status=404, Key=key)


def no_such_version(key: str, version_id: str) -> AwsError:
    return AwsError("NoSuchVersion", "The specified version does not exist.", status=404, Key=key,
                    VersionId=version_id)


def _drop_after_commit(kumo, names: list[str | None]) -> None:
    names = [n for n in names if n]
    if names:
        blobs = service(kumo).blobs
        kumo.store.after_commit(lambda: [blobs.remove(n) for n in names])


def check_write(kumo, bucket_name: str, key: str, if_match: str | None, if_none_match: str | None) -> None:
    """S3's conditional writes: If-None-Match: * (create only), If-Match: <etag> (replace only that)."""
    if if_match is None and if_none_match is None:
        return
    current = storage.latest(kumo.store, bucket_name, key)
    if current is not None and current.marker:
        current = None
    failed = AwsError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                      status=412, Condition="If-Match" if if_match is not None else "If-None-Match")
    if if_none_match is not None:
        if if_none_match.strip() != "*":
            raise AwsError("NotImplemented", "A header you provided implies functionality that is not implemented",
                           status=501, Header="If-None-Match")
        if current is not None:
            raise failed
    if if_match is not None:
        if current is None:
            raise no_such_key(key)
        if if_match.strip().strip('"') not in ("*", current.etag.strip('"')):
            raise failed


def commit(kumo, bucket: dict, key: str, temp_path: str, size: int, etag: str, meta: dict,
           event: str = "ObjectCreated:Put", conditions: tuple | None = None) -> Version:
    """Make a received (fsynced) temp file the key's current version; the caller's transaction commits it."""
    store, blobs = kumo.store, service(kumo).blobs
    name = blobs.adopt(temp_path)
    try:
        with store.transaction():
            if conditions:
                check_write(kumo, bucket["Name"], key, *conditions)
            enabled = buckets.versioning(bucket) == "Enabled"
            version_id = new_version_id() if enabled else "null"
            stale = []
            if not enabled:
                previous = storage.version(store, bucket["Name"], key, "null")
                if previous is not None:
                    storage.remove(store, previous)
                    stale.append(previous.file)
            v = storage.insert(store, Version(0, bucket["Name"], key, version_id, True, False, size, etag,
                                              kumo.clock.now(), name, meta))
            _drop_after_commit(kumo, stale)
            events.fire(kumo, bucket, event, events.info(v))
            return v
    except BaseException:
        blobs.remove(name)
        raise


def delete(kumo, bucket: dict, key: str, version_id: str | None = None, event: str | None = None) -> dict:
    """DeleteObject's answer (DeleteMarker, VersionId); deleting what is not there succeeds, as on S3."""
    store = kumo.store
    name = bucket["Name"]
    with store.transaction():
        if version_id is not None:
            v = storage.version(store, name, key, version_id)
            if v is None:
                if version_id != "null" and not _valid_version_id(version_id):
                    raise AwsError("InvalidArgument", "Invalid version id specified", status=400,
                                   ArgumentName="versionId", ArgumentValue=version_id)
                return {"VersionId": version_id}
            storage.remove(store, v)
            _drop_after_commit(kumo, [v.file])
            events.fire(kumo, bucket, event or "ObjectRemoved:Delete", events.info(v))
            out = {"VersionId": v.version}
            if v.marker:
                out["DeleteMarker"] = True
            return out
        state = buckets.versioning(bucket)
        if state is None:
            v = storage.latest(store, name, key)
            if v is not None:
                storage.remove(store, v)
                _drop_after_commit(kumo, [v.file])
                events.fire(kumo, bucket, event or "ObjectRemoved:Delete", events.info(v))
            return {}
        stale = []
        marker_id = new_version_id() if state == "Enabled" else "null"
        if state == "Suspended":
            previous = storage.version(store, name, key, "null")
            if previous is not None:
                storage.remove(store, previous)
                stale.append(previous.file)
        marker = storage.insert(store, Version(0, name, key, marker_id, True, True, 0, '""', kumo.clock.now(), None,
                                               {}))
        _drop_after_commit(kumo, stale)
        events.fire(kumo, bucket, event or "ObjectRemoved:DeleteMarkerCreated", events.info(marker))
        return {"DeleteMarker": True, "VersionId": marker_id}


def _valid_version_id(text: str) -> bool:
    return len(text) == 32 and all(c.isalnum() or c in "-_" for c in text)


def find(kumo, bucket_name: str, key: str, version_id: str | None = None, *, head: bool = False) -> Version:
    """The version a read names; NoSuchKey (or, naming a version, NoSuchVersion / 405 for a delete marker)."""
    store = kumo.store
    if version_id is None:
        v = storage.latest(store, bucket_name, key)
        if v is None or v.marker:
            err = no_such_key(key)
            if v is not None:
                err.headers.update({"x-amz-delete-marker": "true"})
            raise err
        return v
    v = storage.version(store, bucket_name, key, version_id)
    if v is None:
        if version_id != "null" and not _valid_version_id(version_id):
            raise AwsError("InvalidArgument", "Invalid version id specified", status=400,
                           ArgumentName="versionId", ArgumentValue=version_id)
        raise no_such_version(key, version_id)
    if v.marker:
        err = AwsError("MethodNotAllowed", "The specified method is not allowed against this resource.", status=405,
                       Method="HEAD" if head else "GET", ResourceType="DeleteMarker")
        err.headers.update({"x-amz-delete-marker": "true", "x-amz-version-id": v.version})
        raise err
    return v


def write_bytes(kumo, data: bytes) -> tuple[str, int, str]:
    """A temp file holding ``data``, fsynced: (path, size, md5 hex). For kumo's own small writes."""
    path = service(kumo).blobs.temp()
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fdatasync(f.fileno())
    return path, len(data), hashlib.md5(data).hexdigest()


def copy_file(kumo, source: str) -> tuple[str, int, str]:
    """A temp copy of a file (a host path kumo was given by its own caller), fsynced: (path, size, md5 hex)."""
    path = service(kumo).blobs.temp()
    md5 = hashlib.md5()
    size = 0
    with open(source, "rb") as src, open(path, "wb") as dst:
        while True:
            chunk = src.read(1 << 20)
            if not chunk:
                break
            md5.update(chunk)
            dst.write(chunk)
            size += len(chunk)
        dst.flush()
        os.fdatasync(dst.fileno())
    return path, size, md5.hexdigest()
