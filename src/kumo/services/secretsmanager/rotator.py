"""The rotation controller: runs a rotation's steps through the real Lambda function, on kumo's clock.

A rotation under way is recorded in the secret (``_rotation``: token, function, steps left), so a kumo
killed mid-rotation carries it on after restart (the steps are idempotent by AWS's contract).  Each step is a
synchronous invocation with ``{"SecretId", "ClientRequestToken", "Step"}``; the function itself puts the
AWSPENDING value and moves AWSCURRENT through the API.  A step that fails ends the rotation: AWSPENDING stays
on its version, RotationEnabled stays, LastRotatedDate is not set, and the next scheduled rotation tries
that version again.  Secrets whose schedule comes due start a rotation here.
"""

from __future__ import annotations

import logging
import uuid

from ...core.controllers import Controller
from ..lambda_ import internal as lambda_internal
from .model import CURRENT, PENDING, SECRET, detach, holder, put
from .rotation import ROTATION, STEPS, next_rotation

log = logging.getLogger("kumo.secretsmanager")


class Rotator(Controller):
    name = ROTATION
    resync_interval = 3600.0

    def __init__(self, kumo):
        self.kumo = kumo

    def keys(self):
        return [(scope, name) for scope, name, r in self.kumo.store.all(SECRET) if not r.get("_replica_of") and (
            r.get("_rotation") or (r.get("RotationEnabled") and r.get("NextRotationDate")))]

    def _table(self, scope: str):
        return self.kumo.store.table(scope, SECRET)

    async def reconcile(self, key):
        scope, name = key
        store = self.kumo.store
        with store.transaction():
            job, arn = self._job(scope, name)
        if job is None:
            return arn  # seconds until the next scheduled rotation, or None
        error = await self._run(scope, name, arn, job)
        with store.transaction():
            return self._finish(scope, name, job, error)

    def _job(self, scope: str, name: str):
        """(the rotation to run now, the secret's ARN), or (None, seconds to wait / None)."""
        table, now = self._table(scope), self.kumo.clock.now()
        record = table.get(name)
        if record is None or record.get("DeletedDate") is not None or record.get("_replica_of"):
            return None, None
        job = record.get("_rotation")
        if job is None:
            due = record.get("NextRotationDate") if record.get("RotationEnabled") else None
            if due is None:
                return None, None
            if now < due:
                return None, due - now
            job = record["_rotation"] = self._scheduled(record, now)
            put(self.kumo, scope, record)
        return job, record["ARN"]

    @staticmethod
    def _scheduled(record: dict, now: float) -> dict:
        """A scheduled rotation: a new AWSPENDING version, or the one a failed rotation left (tried again)."""
        versions = record["_versions"]
        pending, current = holder(record, PENDING), holder(record, CURRENT)
        if pending is not None and pending != current:
            token = pending
        else:
            token = str(uuid.uuid4())
            if pending is not None:
                detach(record, pending, PENDING)
            versions[token] = {"created": now, "stages": [PENDING], "value": None}
        return {"token": token, "function": record["RotationLambdaARN"], "steps": list(STEPS), "trial": False}

    async def _run(self, scope: str, name: str, arn: str, job: dict) -> str | None:
        """Invoke each step in order; the first failure's description, or None when all succeeded."""
        for step in job["steps"]:
            record = self._table(scope).get(name)
            if record is None or (record.get("_rotation") or {}).get("token") != job["token"]:
                return "the rotation was cancelled"
            event = {"SecretId": arn, "ClientRequestToken": job["token"], "Step": step}
            try:
                _status, payload, function_error = await lambda_internal.invoke(self.kumo, job["function"], event)
            except LookupError as exc:
                return f"{step}: the rotation function could not be invoked: {exc}"
            if function_error:
                return f"{step}: {payload.decode('utf-8', 'replace')[:1024]}"
        return None

    def _finish(self, scope: str, name: str, job: dict, error: str | None):
        table, now = self._table(scope), self.kumo.clock.now()
        record = table.get(name)
        if record is None or (record.get("_rotation") or {}).get("token") != job["token"]:
            return None  # deleted or cancelled meanwhile; a new rotation enqueued itself
        del record["_rotation"]
        version = record["_versions"].get(job["token"])
        if job["trial"] and version is not None and version["value"] is None:
            del record["_versions"][job["token"]]  # the trial's empty AWSPENDING version goes again
        elif error is None and not job["trial"]:
            record["LastRotatedDate"] = now
        if error is not None:
            record["_last_rotation_error"] = error
            log.info("rotation of %s failed: %s", record["ARN"], error)
        else:
            record.pop("_last_rotation_error", None)
        record["NextRotationDate"] = next_rotation(record, now)
        if record["NextRotationDate"] is None:
            record.pop("NextRotationDate")
        put(self.kumo, scope, record)
        due = record.get("NextRotationDate")
        return None if due is None else max(0.0, due - now)

