"""Dead-letter queues: which queues use one, and message move tasks that redrive its messages back.

A move task is a record (kind ``sqs.movetask``) that the ``sqs-move-tasks``
controller works off on kumo's clock, one second's worth of messages
(MaxNumberOfMessagesPerSecond) per tick, so a restarted kumo resumes it.
"""

from __future__ import annotations

import base64
import json
import uuid

from ...aws.errors import AwsError
from ...core import pagination
from ...core.controllers import Controller
from . import engine, queues, storage

KIND = "sqs.movetask"
DEFAULT_RATE = 500  # messages a second when the caller names no rate
RUNNING, COMPLETED, CANCELLING, CANCELLED, FAILED = "RUNNING", "COMPLETED", "CANCELLING", "CANCELLED", "FAILED"


def list_dead_letter_source_queues(ctx, p):
    dlq = queues.find(ctx, p.get("QueueUrl"))
    sources = sorted((q for q in queues.table(ctx.store, dlq["_account"], dlq["_region"]).values()
                      if (queues.redrive_policy(q) or ("",))[0] == dlq["QueueArn"]), key=lambda q: q["QueueName"])
    limit = p.get("MaxResults")
    try:
        page, token = pagination.paginate(sources, limit or 1000, p.get("NextToken"), key=lambda q: q["QueueName"],
                                          context=dlq["QueueArn"])
    except pagination.InvalidToken:
        raise AwsError("InvalidParameterValue", "Invalid NextToken value.")
    out = {"queueUrls": [queues.url_of(ctx.endpoint, q) for q in page]}
    if token:
        out["NextToken"] = token
    return out


def _source(ctx, arn: str) -> dict:
    queue = queues.by_arn(ctx.store, arn)
    if queue is None:
        raise AwsError("ResourceNotFoundException", "The resource that you specified for the SourceArn parameter "
                                                    "doesn't exist.")
    return queue


def _tasks(store, queue: dict):
    return store.table(f"{queue['_account']}/{queue['_region']}", KIND)


def start_message_move_task(ctx, p):
    source = _source(ctx, p["SourceArn"])
    scope = queues.table(ctx.store, source["_account"], source["_region"]).values()
    if not any((queues.redrive_policy(q) or ("",))[0] == source["QueueArn"] for q in scope):
        raise AwsError("InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue.")
    destination = p.get("DestinationArn")
    if destination and queues.by_arn(ctx.store, destination) is None:
        raise AwsError("ResourceNotFoundException", "The resource that you specified for the DestinationArn "
                                                    "parameter doesn't exist.")
    rate = p.get("MaxNumberOfMessagesPerSecond")
    if rate is not None and not 1 <= rate <= 500:
        raise engine.invalid("MaxNumberOfMessagesPerSecond", rate, "Must be between 1 and 500.")
    tasks = _tasks(ctx.store, source)
    if any(t["SourceArn"] == source["QueueArn"] and t["Status"] in (RUNNING, CANCELLING) for t in tasks.values()):
        raise AwsError("AWS.SimpleQueueService.UnsupportedOperation", "There is already a task running. Only one active task is allowed "
                                               "for a source queue arn at a given time.")
    now = ctx.now()
    task_id = uuid.uuid4().hex
    handle = base64.b64encode(json.dumps({"taskId": task_id, "sourceArn": source["QueueArn"]}).encode()).decode()
    task = {
        "TaskHandle": handle,
        "Status": RUNNING,
        "SourceArn": source["QueueArn"],
        "ApproximateNumberOfMessagesMoved": 0,
        "ApproximateNumberOfMessagesToMove": storage.count(ctx.store, source["_id"],
                                                            engine.retention_cutoff(source, now)),
        "StartedTimestamp": int(now * 1000),
        "_started": now,
    }
    if destination:
        task["DestinationArn"] = destination
    if rate is not None:
        task["MaxNumberOfMessagesPerSecond"] = rate
    tasks.put(task_id, task)
    ctx.controllers.enqueue(MoveTasks.name, (tasks.scope, task_id))
    return {"TaskHandle": handle}


def cancel_message_move_task(ctx, p):
    try:
        doc = json.loads(base64.b64decode(p["TaskHandle"]))
        task_id, source_arn = doc["taskId"], doc["sourceArn"]
    except (ValueError, KeyError, TypeError):
        raise AwsError("ResourceNotFoundException", "The task handle is not valid.")
    source = _source(ctx, source_arn)
    tasks = _tasks(ctx.store, source)
    task = tasks.get(task_id)
    if task is None or task["Status"] != RUNNING:
        raise AwsError("ResourceNotFoundException", "Task does not exist or is not running.")
    task["Status"] = CANCELLING
    tasks.put(task_id, task)
    ctx.controllers.enqueue(MoveTasks.name, (tasks.scope, task_id))
    return {"ApproximateNumberOfMessagesMoved": task["ApproximateNumberOfMessagesMoved"]}


def list_message_move_tasks(ctx, p):
    source = _source(ctx, p["SourceArn"])
    limit = p.get("MaxResults") or 1
    if not 1 <= limit <= 10:
        raise engine.invalid("MaxResults", limit, "Must be between 1 and 10.")
    found = sorted((t for t in _tasks(ctx.store, source).values() if t["SourceArn"] == source["QueueArn"]),
                   key=lambda t: t["_started"], reverse=True)[:limit]
    results = []
    for task in found:
        entry = {k: v for k, v in task.items() if not k.startswith("_")}
        if task["Status"] != RUNNING:
            entry.pop("TaskHandle")
        results.append(entry)
    return {"Results": results}


class MoveTasks(Controller):
    """Moves a running task's messages, MaxNumberOfMessagesPerSecond a simulated second."""

    name = "sqs-move-tasks"
    resync_interval = 60.0

    def __init__(self, kumo):
        self.kumo = kumo

    def keys(self):
        return [(scope, key) for scope, key, task in self.kumo.store.all(KIND) if task["Status"] in (RUNNING,
                                                                                                       CANCELLING)]

    async def reconcile(self, key):
        scope, task_id = key
        store = self.kumo.store
        with store.transaction():
            return self._step(store.table(scope, KIND), task_id)

    def _step(self, tasks, task_id) -> float | None:
        task = tasks.get(task_id)
        if task is None or task["Status"] not in (RUNNING, CANCELLING):
            return None
        if task["Status"] == CANCELLING:
            task["Status"] = CANCELLED
            tasks.put(task_id, task)
            return None
        kumo = self.kumo
        source = queues.by_arn(kumo.store, task["SourceArn"])
        if source is None:
            task.update(Status=FAILED, FailureReason="AWS.SimpleQueueService.NonExistentQueue")
            tasks.put(task_id, task)
            return None
        now = kumo.clock.now()
        rate = task.get("MaxNumberOfMessagesPerSecond") or DEFAULT_RATE
        rows = storage.oldest_rows(kumo.store, source["_id"], engine.retention_cutoff(source, now), rate)
        for row in rows:
            target_arn = task.get("DestinationArn") or row.system_attributes.get("DeadLetterQueueSourceArn")
            target = queues.by_arn(kumo.store, target_arn) if target_arn else None
            if target is None:
                task.update(Status=FAILED, FailureReason="AWS.SimpleQueueService.NonExistentQueue")
                tasks.put(task_id, task)
                return None
            system = {k: v for k, v in row.system_attributes.items() if k != "DeadLetterQueueSourceArn"}
            storage.insert(kumo.store, target["_id"], id=row.id, body=row.body, attrs=row.attributes or None,
                           system=system, sent=row.sent, enqueued=now, visible=now, grp=row.grp, dedup=row.dedup,
                           seqno=row.seqno)
            storage.delete(kumo.store, source["_id"], row.seq)
            engine.notify(kumo, target["_id"])
            task["ApproximateNumberOfMessagesMoved"] += 1
        if len(rows) < rate:
            task["Status"] = COMPLETED
        tasks.put(task_id, task)
        return 1.0 if task["Status"] == RUNNING else None
