"""Export tasks: a log group's events between two times, written to S3 as AWS lays them out.

CreateExportTask writes ``<prefix>/aws-logs-write-test`` at once (as AWS checks it can write), and the task
runs in the export controller: PENDING, RUNNING, then COMPLETED, each stream's events (in time order, lines
``<ISO 8601 time> <message>``) gzipped to ``<prefix>/<taskId>/<stream>/000000.gz``, a new numbered file
every 100,000 events.  One task per account and region may be PENDING or RUNNING at a time
(LimitExceededException), as on AWS.  Objects go through ``kumo.objects`` (S3 stores them as PutObject).  AWS also checks the bucket policy lets logs.<region>.amazonaws.com
write; kumo checks the bucket exists in the task's region.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import logging
import uuid

from ...aws.errors import AwsError
from ...core import pagination
from ...core.controllers import Controller
from .model import invalid, need_group, not_found
from .runtime import STREAM_KIND

log = logging.getLogger("kumo.logs")
KIND = "logs.export-task"
CONTROLLER = "logs-export"
EVENTS_PER_FILE = 100_000
CHUNK = 5_000


def _iso_ms(ms: int) -> str:
    moment = _dt.datetime.fromtimestamp(ms / 1000, _dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _public(task: dict) -> dict:
    return {k: v for k, v in task.items() if not k.startswith("_")}


def create_export_task(ctx, p):
    group = p["logGroupName"]
    need_group(ctx, group)
    start, end = int(p["from"]), int(p["to"])
    if start < 0 or end < 0:
        raise invalid("Time values must be non-negative.")
    if end < start:
        raise invalid("The value of parameter 'to' must be greater than or equal to the value of parameter "
                      "'from'.")
    bucket = p["destination"]
    if ctx.kumo.objects.bucket_region(bucket) != ctx.region:
        raise invalid("GetBucketAcl call on the given bucket failed. Please check if CloudWatch Logs has been "
                      "granted permission to perform this operation.")
    table = ctx.store.table(ctx.scope, KIND)
    if any(t["status"]["code"] in ("PENDING", "RUNNING") for t in table.values()):
        raise AwsError("LimitExceededException", "Resource limit exceeded.")
    prefix = (p.get("destinationPrefix") or "exportedlogs").strip("/")
    ctx.kumo.objects.put(bucket, f"{prefix}/aws-logs-write-test", b"Permission Check Successful", "text/plain")
    task_id = str(uuid.uuid4())
    task = {"taskId": task_id, "logGroupName": group, "from": start, "to": end, "destination": bucket,
            "destinationPrefix": prefix, "status": {"code": "PENDING", "message": "Pending."},
            "executionInfo": {"creationTime": int(ctx.now() * 1000)}, "_stream_prefix": p.get("logStreamNamePrefix")}
    if p.get("taskName"):
        task["taskName"] = p["taskName"]
    table.put(task_id, task)
    ctx.controllers.enqueue(CONTROLLER, (ctx.scope, task_id))
    return {"taskId": task_id}


def describe_export_tasks(ctx, p):
    tasks = sorted(ctx.store.table(ctx.scope, KIND).values(), key=lambda t: (t["executionInfo"]["creationTime"],
                                                                             t["taskId"]))
    if p.get("taskId"):
        tasks = [t for t in tasks if t["taskId"] == p["taskId"]]
    if p.get("statusCode"):
        tasks = [t for t in tasks if t["status"]["code"] == p["statusCode"]]
    try:
        page, token = pagination.paginate(tasks, p.get("limit"), p.get("nextToken"), lambda t: t["taskId"],
                                          "logs/exports", default_limit=50)
    except pagination.InvalidToken:
        raise invalid("The specified nextToken is invalid.")
    out = {"exportTasks": [_public(t) for t in page]}
    if token:
        out["nextToken"] = token
    return out


def cancel_export_task(ctx, p):
    table = ctx.store.table(ctx.scope, KIND)
    task = table.get(p["taskId"])
    if task is None:
        raise not_found("The specified export task does not exist.")
    if task["status"]["code"] not in ("PENDING", "RUNNING"):
        raise AwsError("InvalidOperationException", "The specified export task has already finished.")
    task["status"] = {"code": "CANCELLED", "message": "Cancelled by user"}
    task["executionInfo"]["completionTime"] = int(ctx.now() * 1000)
    table.put(task["taskId"], task)
    return {}


class ExportController(Controller):
    """Runs each pending task: reads the group's events by stream and writes them to the bucket."""

    name = CONTROLLER
    resync_interval = 60.0

    def __init__(self, kumo):
        self.kumo = kumo

    def keys(self):
        return [(scope, key) for scope, key, t in self.kumo.store.all(KIND)
                if t["status"]["code"] in ("PENDING", "RUNNING")]

    async def reconcile(self, key):
        scope, task_id = key
        store = self.kumo.store
        with store.transaction():
            task = store.table(scope, KIND).get(task_id)
            if task is None or task["status"]["code"] not in ("PENDING", "RUNNING"):
                return None
            task["status"] = {"code": "RUNNING", "message": "Started successfully"}
            store.table(scope, KIND).put(task_id, task)
        try:
            with store.transaction():
                self._export(scope, task)
                outcome = {"code": "COMPLETED", "message": "Completed successfully"}
        except (AwsError, LookupError) as exc:  # the bucket went away meanwhile
            outcome = {"code": "FAILED", "message": getattr(exc, "message", None) or "The bucket does not exist."}
        with store.transaction():
            task = store.table(scope, KIND).get(task_id)
            if task is not None and task["status"]["code"] == "RUNNING":
                task["status"] = outcome
                task["executionInfo"]["completionTime"] = int(self.kumo.clock.now() * 1000)
                store.table(scope, KIND).put(task_id, task)
        return None

    def _export(self, scope: str, task: dict) -> None:
        events = self.kumo.services["logs"].events
        group, prefix = task["logGroupName"], task.get("_stream_prefix")
        names = sorted(s["logStreamName"] for k, s in store_items(self.kumo.store, scope)
                       if k.startswith(group + ":") and s.get("logStreamName", "").startswith(prefix or ""))
        for stream in names:
            after, number, lines = None, 0, []
            while True:
                rows = events.group_scan(scope, group, [stream], task["from"], task["to"], after, CHUNK)
                for _id, _stream, ts, _ingested, message in rows:
                    lines.append(f"{_iso_ms(ts)} {message}")
                    if len(lines) >= EVENTS_PER_FILE:
                        self._write(task, stream, number, lines)
                        number, lines = number + 1, []
                if len(rows) < CHUNK:
                    break
                after = (rows[-1][2], rows[-1][0])
            if lines:
                self._write(task, stream, number, lines)

    def _write(self, task: dict, stream: str, number: int, lines: list[str]) -> None:
        data = gzip.compress(("\n".join(lines) + "\n").encode())
        key = f"{task['destinationPrefix']}/{task['taskId']}/{stream}/{number:06d}.gz"
        self.kumo.objects.put(task["destination"], key, data, "application/x-gzip")


def store_items(store, scope: str):
    return store.table(scope, STREAM_KIND).items()
