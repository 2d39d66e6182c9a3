"""Lifecycle configuration (Put/Get/DeleteBucketLifecycleConfiguration) and its controller, on kumo's clock.

The controller visits each bucket with a configuration at every midnight UTC of kumo's clock (S3 rounds every
due time up to one, lifecycle_rules.py) and right after a configuration is put:

* a current version past its Expiration (Days or Date) is deleted: permanently in an unversioned bucket,
  by a delete marker in a versioned one (``LifecycleExpiration:Delete`` / ``:DeleteMarkerCreated`` events);
* a delete marker left as a key's only version is removed under ExpiredObjectDeleteMarker (or Days);
* a noncurrent version past NoncurrentDays, beyond the NewerNoncurrentVersions kept, is deleted;
* a multipart upload past AbortIncompleteMultipartUpload's DaysAfterInitiation is aborted.

Transitions are stored and answered but change no storage class (kumo has one).
"""

from __future__ import annotations

import asyncio
import logging

from ...aws.errors import AwsError
from ...core.controllers import Controller
from . import buckets, lifecycle_rules as rules_mod, objects, storage
from .bucket_config import delete_config, get_config, put_config

log = logging.getLogger("kumo.s3")
KIND = "s3.lifecycle"
CONTROLLER = "s3-lifecycle"
PAGE = 1000


def put_bucket_lifecycle_configuration(ctx, params):
    record = buckets.for_request(ctx, params)
    rules = rules_mod.check(params.get("LifecycleConfiguration") or {})
    put_config(ctx.store, KIND, record["Name"], {"Rules": rules})
    ctx.controllers.enqueue(CONTROLLER, record["Name"])
    return {"TransitionDefaultMinimumObjectSize": params.get("TransitionDefaultMinimumObjectSize")
            or "all_storage_classes_128K"}


def get_bucket_lifecycle_configuration(ctx, params):
    record = buckets.for_request(ctx, params)
    config = get_config(ctx.store, KIND, record["Name"])
    if config is None:
        raise AwsError("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist", status=404,
                       BucketName=record["Name"])
    return {"Rules": config["Rules"], "TransitionDefaultMinimumObjectSize": "all_storage_classes_128K"}


def delete_bucket_lifecycle(ctx, params):
    record = buckets.for_request(ctx, params)
    delete_config(ctx.store, KIND, record["Name"])
    return {}


def expiration_header(kumo, bucket: str, key: str, created: float, size: int, tags: dict) -> str | None:
    """x-amz-expiration for an object (PutObject, GetObject and HeadObject answers carry it)."""
    config = get_config(kumo.store, KIND, bucket)
    if not config:
        return None
    return rules_mod.expiry_header(config["Rules"], key, created, size, tags)


def expiration_of(kumo, v) -> str | None:
    """x-amz-expiration of an object version read (GetObject, HeadObject); None for a noncurrent one."""
    if not v.latest:
        return None
    return expiration_header(kumo, v.bucket, v.key, v.modified, v.size, _tags(v))


def _tags(v) -> dict:
    return {t["Key"]: t["Value"] for t in v.meta.get("Tags") or []}


class LifecycleController(Controller):
    name = CONTROLLER
    resync_interval = 3600.0

    def __init__(self, kumo):
        self.kumo = kumo

    def keys(self):
        return [name for _scope, name, config in self.kumo.store.all(KIND) if config]

    async def reconcile(self, bucket_name):
        kumo, store = self.kumo, self.kumo.store
        now = kumo.clock.now()
        # A page of versions per transaction, yielding to the loop between pages: a big bucket must not hold
        # the event loop (or one transaction) for the whole pass.
        after_key, after_seq, current_key, group = "", None, None, []
        while True:
            with store.transaction():
                bucket = buckets.get(store, bucket_name)
                config = get_config(store, KIND, bucket_name) if bucket is not None else None
                if config is None:
                    return None
                rules = config["Rules"]
                page = storage.versions(store, bucket_name, "", after_key, after_seq, PAGE)
                for v in page:
                    if v.key != current_key:
                        if group:
                            self._key(bucket, rules, group, now)
                        current_key, group = v.key, []
                    group.append(v)
                if len(page) < PAGE:
                    if group:
                        self._key(bucket, rules, group, now)
                    self._uploads(bucket_name, rules, now)
                    break
                after_key, after_seq = page[-1].key, page[-1].seq
            await asyncio.sleep(0)
        return rules_mod.next_midnight(now + 1) - now

    def _key(self, bucket: dict, rules: list[dict], versions: list, now: float) -> None:
        """One key's versions, newest first: expire what is due."""
        kumo, name = self.kumo, bucket["Name"]
        current, older = versions[0], versions[1:]
        latest = storage.latest(kumo.store, name, current.key)
        if latest is None or latest.seq != current.seq:
            return  # written or deleted since this page was read: the next pass judges it
        versioned = buckets.versioning(bucket) is not None
        if current.marker:
            if not older and any(rules_mod.matches(r, current.key) and (
                    rules_mod.removes_expired_delete_markers(r) or (r.get("Expiration") or {}).get("Days"))
                    for r in rules):
                objects.delete(kumo, bucket, current.key, current.version, event="LifecycleExpiration:Delete")
                return
        else:
            tags = _tags(current)
            due = min((d for r in rules if rules_mod.matches(r, current.key, current.size, tags)
                       for d in [rules_mod.expiration_due(r, current.modified)] if d is not None), default=None)
            if due is not None and due <= now:
                if versioned:
                    objects.delete(kumo, bucket, current.key, event="LifecycleExpiration:DeleteMarkerCreated")
                else:
                    objects.delete(kumo, bucket, current.key, current.version, event="LifecycleExpiration:Delete")
                return
        # Noncurrent versions: each became noncurrent when the version after it was written.
        newer_modified = current.modified
        for index, v in enumerate(older):
            since = newer_modified
            newer_modified = v.modified
            tags = _tags(v)
            for r in rules:
                if not rules_mod.matches(r, v.key, v.size, tags):
                    continue
                due = rules_mod.noncurrent_due(r, since, index)
                if due is not None and due <= now:
                    objects.delete(kumo, bucket, v.key, v.version, event="LifecycleExpiration:Delete")
                    break

    def _uploads(self, bucket_name: str, rules: list[dict], now: float) -> None:
        store = self.kumo.store
        for upload_id, key, initiated in store.select("SELECT id, key, initiated FROM s3_uploads WHERE bucket=?",
                                                      (bucket_name,)):
            for r in rules:
                if rules_mod.matches(r, key):
                    due = rules_mod.abort_due(r, initiated)
                    if due is not None and due <= now:
                        _abort_upload(self.kumo, upload_id)
                        break


def _abort_upload(kumo, upload_id: str) -> None:
    """AbortMultipartUpload's effect: the parts' rows go now, their bodies once that commits."""
    store = kumo.store
    files = [r[0] for r in store.select("SELECT file FROM s3_parts WHERE upload=?", (upload_id,))]
    store.sql("DELETE FROM s3_parts WHERE upload=?", (upload_id,))
    store.sql("DELETE FROM s3_uploads WHERE id=?", (upload_id,))
    blobs = objects.service(kumo).blobs
    store.after_commit(lambda: [blobs.remove(f) for f in files])


__all__ = ["put_bucket_lifecycle_configuration", "get_bucket_lifecycle_configuration", "delete_bucket_lifecycle"]
