"""SQS's queue operations: create, delete, find, list, attributes, tags, permissions and purge."""

from __future__ import annotations

import json
import uuid

from ...aws.errors import AwsError
from ...core import pagination, tags as tagging
from . import engine, queues, storage

PURGE_INTERVAL = 60.0
MAX_LIST = 1000


def create_queue(ctx, p):
    name = p["QueueName"]
    given = dict(p.get("Attributes") or {})
    fifo = given.get("FifoQueue", "").lower() == "true"
    if "FifoQueue" in given and given["FifoQueue"].lower() not in ("true", "false"):
        raise queues.invalid_value("FifoQueue")
    if given.get("FifoQueue", "").lower() == "false":
        given.pop("FifoQueue")
    queues.check_name(name, fifo)
    arn = ctx.arn(name)
    values = queues.normalize(ctx.store, arn, fifo, given, creating=True)
    table = ctx.table("queue")
    existing = table.get(name)
    if existing is not None:
        for key, value in values.items():
            if existing["Attributes"].get(key, "") != value:
                raise AwsError("QueueAlreadyExists",
                               f"A queue already exists with the same name and a different value for attribute {key}")
        return {"QueueUrl": queues.url_of(ctx.endpoint, existing)}
    deleted = ctx.table("deleted").get(name)
    if deleted is not None and ctx.now() - deleted["at"] < queues.REUSE_AFTER:
        raise AwsError("AWS.SimpleQueueService.QueueDeletedRecently",
                       "You must wait 60 seconds after deleting a queue before you can create another queue with "
                       "the same name.")
    tag_map = dict(p.get("tags") or {})
    _check_tags(tag_map, {})
    now = int(ctx.now())
    queue = {
        "QueueName": name,
        "QueueArn": arn,
        "Attributes": {**queues.DEFAULTS, **(queues.FIFO_DEFAULTS if fifo else {})},
        "Tags": tag_map,
        "CreatedTimestamp": now,
        "LastModifiedTimestamp": now,
        "_id": uuid.uuid4().hex,
        "_account": ctx.account,
        "_region": ctx.region,
    }
    queues.apply(queue, values, now)
    queue["LastModifiedTimestamp"] = now
    table.put(name, queue)
    return {"QueueUrl": queues.url_of(ctx.endpoint, queue)}


def delete_queue(ctx, p):
    queue = queues.find(ctx, p.get("QueueUrl"))
    storage.drop_queue(ctx.store, queue["_id"])
    queues.table(ctx.store, queue["_account"], queue["_region"]).delete(queue["QueueName"])
    ctx.store.table(f"{queue['_account']}/{queue['_region']}", queues.DELETED).put(
        queue["QueueName"], {"at": ctx.now()})
    engine.notify(ctx.kumo, queue["_id"])  # long polls on it answer QueueDoesNotExist
    return {}


def get_queue_url(ctx, p):
    account = p.get("QueueOwnerAWSAccountId") or ctx.account
    queue = queues.table(ctx.store, account, ctx.region).get(p["QueueName"])
    if queue is None:
        raise queues.not_found()
    return {"QueueUrl": queues.url_of(ctx.endpoint, queue)}


def list_queues(ctx, p):
    prefix = p.get("QueueNamePrefix") or ""
    found = sorted((q for q in ctx.table("queue").values() if q["QueueName"].startswith(prefix)),
                   key=lambda q: q["QueueName"])
    limit = p.get("MaxResults")
    if limit is not None and not 1 <= limit <= MAX_LIST:
        raise engine.invalid("MaxResults", limit, "MaxResults must be an integer between 1 and 1000.")
    if limit is None and not p.get("NextToken"):
        page, token = found[:MAX_LIST], None
    else:
        try:
            page, token = pagination.paginate(found, limit or MAX_LIST, p.get("NextToken"),
                                              key=lambda q: q["QueueName"], context=f"{ctx.account}|{prefix}")
        except pagination.InvalidToken:
            raise AwsError("InvalidParameterValue", "Invalid NextToken value.")
    out = {"QueueUrls": [queues.url_of(ctx.endpoint, q) for q in page]} if page else {}
    if token:
        out["NextToken"] = token
    return out


def get_queue_attributes(ctx, p):
    queue = queues.find(ctx, p.get("QueueUrl"))
    wanted = list(p.get("AttributeNames") or [])
    if not wanted:
        return {}
    fifo = queues.is_fifo(queue)
    everything = "All" in wanted
    now = ctx.now()
    out = {}
    if everything or {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                      "ApproximateNumberOfMessagesDelayed"} & set(wanted):
        visible, inflight, delayed = storage.counts(ctx.store, queue["_id"], now, engine.retention_cutoff(queue, now))
        out.update({"ApproximateNumberOfMessages": str(visible), "ApproximateNumberOfMessagesNotVisible": str(inflight),
                    "ApproximateNumberOfMessagesDelayed": str(delayed)})
    out.update({"QueueArn": queue["QueueArn"], "CreatedTimestamp": str(queue["CreatedTimestamp"]),
                "LastModifiedTimestamp": str(queue["LastModifiedTimestamp"])})
    out.update(queue["Attributes"])
    if everything:
        return {"Attributes": out}
    for name in wanted:
        if name in queues.FIFO_ONLY + ("FifoQueue",) and not fifo:
            continue
        if name not in queues.SETTABLE and name not in queues.COMPUTED:
            raise AwsError("InvalidAttributeName", f"Unknown Attribute {name}.")
    return {"Attributes": {k: v for k, v in out.items() if k in wanted}}


def set_queue_attributes(ctx, p):
    queue = queues.find(ctx, p.get("QueueUrl"))
    values = queues.normalize(ctx.store, queue["QueueArn"], queues.is_fifo(queue), dict(p.get("Attributes") or {}),
                              creating=False)
    queues.apply(queue, values, ctx.now())
    queues.save(ctx.store, queue)
    return {}


def purge_queue(ctx, p):
    queue = queues.find(ctx, p.get("QueueUrl"))
    now = ctx.now()
    last = queue.get("_purged_at")
    if last is not None and now - last < PURGE_INTERVAL:
        raise AwsError("AWS.SimpleQueueService.PurgeQueueInProgress",
                       f"Only one PurgeQueue operation on {queue['QueueName']} is allowed every 60 seconds.")
    storage.purge(ctx.store, queue["_id"])
    queue["_purged_at"] = now
    queues.save(ctx.store, queue)
    return {}


# -- tags -----------------------------------------------------------------------------------------


def _check_tags(new: dict, existing: dict) -> None:
    try:
        tagging.validate(new, existing, allow_aws_prefix=True)
    except tagging.TagError as exc:
        raise AwsError("InvalidParameterValue", str(exc))


def tag_queue(ctx, p):
    queue = queues.find(ctx, p.get("QueueUrl"))
    _check_tags(p["Tags"], queue["Tags"])
    queue["Tags"].update(p["Tags"])
    queues.save(ctx.store, queue)
    return {}


def untag_queue(ctx, p):
    queue = queues.find(ctx, p.get("QueueUrl"))
    for key in p["TagKeys"]:
        queue["Tags"].pop(key, None)
    queues.save(ctx.store, queue)
    return {}


def list_queue_tags(ctx, p):
    queue = queues.find(ctx, p.get("QueueUrl"))
    return {"Tags": dict(queue["Tags"])} if queue["Tags"] else {}


# -- permissions (stored in the queue's Policy; kumo does not enforce policies) ------------------------


def add_permission(ctx, p):
    queue = queues.find(ctx, p.get("QueueUrl"))
    label = p["Label"]
    if not p["AWSAccountIds"] or not p["Actions"]:
        raise AwsError("MissingParameter", "The request must contain the parameter AWSAccountIds and Actions.")
    policy = json.loads(queue["Attributes"].get("Policy") or "{}") or {
        "Version": "2012-10-17", "Id": f"{queue['QueueArn']}/SQSDefaultPolicy", "Statement": []}
    if any(s.get("Sid") == label for s in policy.get("Statement", [])):
        raise engine.invalid("Label", label, "Already exists.")
    principals = [f"arn:aws:iam::{a}:root" for a in p["AWSAccountIds"]]
    policy.setdefault("Statement", []).append({
        "Sid": label, "Effect": "Allow",
        "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
        "Action": [f"SQS:{a}" for a in p["Actions"]] if len(p["Actions"]) > 1 else f"SQS:{p['Actions'][0]}",
        "Resource": queue["QueueArn"],
    })
    queues.apply(queue, {"Policy": json.dumps(policy, separators=(",", ":"))}, ctx.now())
    queues.save(ctx.store, queue)
    return {}


def remove_permission(ctx, p):
    queue = queues.find(ctx, p.get("QueueUrl"))
    label = p["Label"]
    policy = json.loads(queue["Attributes"].get("Policy") or "{}")
    statements = policy.get("Statement", [])
    kept = [s for s in statements if s.get("Sid") != label]
    if len(kept) == len(statements):
        raise engine.invalid("Label", label, "can't find label on existing policy.")
    policy["Statement"] = kept
    queues.apply(queue, {"Policy": json.dumps(policy, separators=(",", ":")) if kept else ""}, ctx.now())
    queues.save(ctx.store, queue)
    return {}
