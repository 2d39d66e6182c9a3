"""S3 for the rest of kumo (Lambda code from S3, access logs, Logs export tasks, event delivery).

All synchronous, on kumo's event loop, with the ``Kumo`` object.  Errors are ``AwsError`` with S3's codes
(NoSuchBucket, NoSuchKey, NoSuchVersion).  Keep these signatures stable: other packages depend on them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import buckets, objects


@dataclass
class S3Object:
    bucket: str
    key: str
    path: str  # the body on disk, to read (never write); valid until the version is replaced or deleted
    size: int
    etag: str  # with its quotes, as S3 answers it
    version_id: str | None  # None when written without versioning ("null" on the wire)
    last_modified: float  # kumo's clock
    content_type: str | None = None
    metadata: dict = field(default_factory=dict)  # x-amz-meta-* without the prefix


def _object(kumo, v) -> S3Object:
    return S3Object(bucket=v.bucket, key=v.key, path=objects.service(kumo).blobs.path(v.file), size=v.size,
                    etag=v.etag, version_id=None if v.version == "null" else v.version, last_modified=v.modified,
                    content_type=v.meta.get("ContentType"), metadata=dict(v.meta.get("Metadata") or {}))


def bucket_region(kumo, bucket: str) -> str | None:
    record = buckets.get(kumo.store, bucket)
    return record["BucketRegion"] if record else None


def bucket_owner(kumo, bucket: str) -> str | None:
    record = buckets.get(kumo.store, bucket)
    return record["_owner"] if record else None


def bucket_record(kumo, bucket: str) -> dict | None:
    """The bucket's record (see buckets.py), for the S3 features modules; None if there is no such bucket."""
    return buckets.get(kumo.store, bucket)


def open_object(kumo, bucket: str, key: str, version_id: str | None = None) -> S3Object:
    buckets.require(kumo.store, bucket)
    return _object(kumo, objects.find(kumo, bucket, key, version_id))


def put_object(kumo, bucket: str, key: str, data: bytes | str | os.PathLike, content_type: str | None = None,
               metadata: dict | None = None) -> S3Object:
    """Store an object as a client's PutObject would (durable once this returns; fires ObjectCreated:Put).

    ``data`` is the body (bytes) or a host path kumo itself chose (copied, never moved).
    """
    record = buckets.require(kumo.store, bucket)
    if isinstance(data, (bytes, bytearray, memoryview)):
        temp, size, md5 = objects.write_bytes(kumo, bytes(data))
    else:
        temp, size, md5 = objects.copy_file(kumo, os.fspath(data))
    meta = {"ContentType": content_type or "binary/octet-stream", "Metadata": dict(metadata or {}),
            "Owner": record["_owner"]}
    v = objects.commit(kumo, record, key, temp, size, f'"{md5}"', meta)
    return _object(kumo, v)


def delete_object(kumo, bucket: str, key: str, version_id: str | None = None,
                  event: str | None = None) -> dict:
    """Delete as a client's DeleteObject would (lifecycle expiration passes ``event``, e.g.
    ``LifecycleExpiration:Delete``); returns DeleteObject's answer (DeleteMarker, VersionId)."""
    record = buckets.require(kumo.store, bucket)
    return objects.delete(kumo, record, key, version_id, event=event)


def on_event(kumo, hook) -> None:
    """``hook(kumo, bucket_record, event_name, info)`` after every committed object create/delete (events.py)."""
    objects.service(kumo).hooks.append(hook)
