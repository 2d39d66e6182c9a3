"""SQS's message operations: send, receive (with long polling), delete and visibility, single and batch."""

from __future__ import annotations

import re

from ...aws.errors import AwsError
from ..kms import internal as kms
from . import engine, longpoll, queues, storage

MAX_BATCH = 10
MAX_BATCH_BYTES = 1048576
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def _sender(ctx) -> str:
    return ctx.identity.user_id


# KMS's refusals in SQS's words (query codes; the json shapes KmsNotFound ... via query_names).
_KMS_CODES = {"NotFoundException": "KMS.NotFoundException", "DisabledException": "KMS.DisabledException",
              "KMSInvalidStateException": "KMS.InvalidStateException",
              "InvalidKeyUsageException": "KMS.InvalidKeyUsageException"}


def _check_kms(ctx, queue: dict) -> None:
    """An SSE-KMS queue takes messages only while its key makes data keys: AWS checks the key when it is used,
    not when KmsMasterKeyId is set.  Checked on every send (AWS reuses a data key for
    KmsDataKeyReusePeriodSeconds, so it may notice a disabled key later than kumo does)."""
    key_id = queue["Attributes"].get("KmsMasterKeyId")
    if key_id:
        try:
            kms.generate_data_key(ctx.kumo, queue["_account"], queue["_region"], key_id)
        except kms.KmsError as exc:
            raise AwsError(_KMS_CODES.get(exc.code, "KMS.AccessDeniedException"), exc.message) from None


def send_message(ctx, p):
    queue = queues.find(ctx, p.get("QueueUrl"))
    _check_kms(ctx, queue)
    return engine.enqueue(ctx.kumo, queue, p, _sender(ctx))


def send_message_batch(ctx, p):
    queue = queues.find(ctx, p.get("QueueUrl"))
    entries = _check_batch(p.get("Entries"), "SendMessageBatchRequestEntry")
    total = sum(len((e.get("MessageBody") or "").encode()) for e in entries)
    if total > MAX_BATCH_BYTES:
        raise AwsError("AWS.SimpleQueueService.BatchRequestTooLong", f"Batch requested message too long. Total size is {total} bytes.")
    _check_kms(ctx, queue)
    return _each(entries, lambda e: {"Id": e["Id"], **engine.enqueue(ctx.kumo, queue, e, _sender(ctx))})


def receive_message(ctx, p):
    queue = queues.find(ctx, p.get("QueueUrl"))
    count = p.get("MaxNumberOfMessages")
    if count is None:
        count = 1
    if not 1 <= count <= 10:
        raise engine.invalid("MaxNumberOfMessages", count, "Must be between 1 and 10, if provided.")
    wait = p.get("WaitTimeSeconds")
    if wait is None:
        wait = queues.attr_int(queue, "ReceiveMessageWaitTimeSeconds")
    if not 0 <= wait <= 20:
        raise engine.invalid("WaitTimeSeconds", wait, "Must be >= 0 and <= 20, if provided.")
    visibility = p.get("VisibilityTimeout")
    if visibility is not None and not 0 <= visibility <= 43200:
        raise engine.invalid("VisibilityTimeout", visibility, "Must be >= 0 and <= 43200, if provided.")
    system_names = list(p.get("AttributeNames") or []) + list(p.get("MessageSystemAttributeNames") or [])
    attribute_names = p.get("MessageAttributeNames")
    kumo = ctx.kumo

    def attempt() -> list:
        current = queues.table(kumo.store, queue["_account"], queue["_region"]).get(queue["QueueName"])
        if current is None or current["_id"] != queue["_id"]:
            raise queues.not_found()
        with kumo.store.transaction():
            return engine.receive(kumo, current, count, visibility, system_names, attribute_names,
                                  p.get("ReceiveRequestAttemptId"))

    found = attempt()
    if found or wait == 0:
        return {"Messages": found} if found else {}
    return _long_poll(ctx, queue, wait, attempt)


async def _long_poll(ctx, queue, wait, attempt):
    kumo = ctx.kumo
    found = await longpoll.poll(kumo.clock, kumo.services["sqs"].waiters, queue["_id"], kumo.clock.now() + wait,
                                attempt, lambda: storage.next_visible(kumo.store, queue["_id"], kumo.clock.now()))
    return {"Messages": found} if found else {}


def delete_message(ctx, p):
    queue = queues.find(ctx, p.get("QueueUrl"))
    engine.delete(ctx.kumo, queue, p["ReceiptHandle"])
    return {}


def delete_message_batch(ctx, p):
    queue = queues.find(ctx, p.get("QueueUrl"))
    entries = _check_batch(p.get("Entries"), "DeleteMessageBatchRequestEntry")
    return _each(entries, lambda e: engine.delete(ctx.kumo, queue, e["ReceiptHandle"]) or {"Id": e["Id"]})


def change_message_visibility(ctx, p):
    queue = queues.find(ctx, p.get("QueueUrl"))
    engine.change_visibility(ctx.kumo, queue, p["ReceiptHandle"], p.get("VisibilityTimeout"))
    return {}


def change_message_visibility_batch(ctx, p):
    queue = queues.find(ctx, p.get("QueueUrl"))
    entries = _check_batch(p.get("Entries"), "ChangeMessageVisibilityBatchRequestEntry")

    def one(e):
        engine.change_visibility(ctx.kumo, queue, e["ReceiptHandle"], e.get("VisibilityTimeout"))
        return {"Id": e["Id"]}

    return _each(entries, one)


def _check_batch(entries, entry_type: str) -> list[dict]:
    entries = entries or []
    if not entries:
        raise AwsError("AWS.SimpleQueueService.EmptyBatchRequest",
                       f"There should be at least one {entry_type} in the request.")
    if len(entries) > MAX_BATCH:
        raise AwsError("AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                       f"Maximum number of entries per request are {MAX_BATCH}. You have sent {len(entries)}.")
    seen = set()
    for e in entries:
        if not _BATCH_ID.match(e["Id"]):
            raise AwsError("AWS.SimpleQueueService.InvalidBatchEntryId",
                           "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
                           "It can be at most 80 letters long.")
        if e["Id"] in seen:
            raise AwsError("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", f"Id {e['Id']} repeated.")
        seen.add(e["Id"])
    return entries


def _each(entries, fn) -> dict:
    """Batch results: each entry succeeds or fails on its own, as AWS reports them."""
    ok, failed = [], []
    for e in entries:
        try:
            ok.append(fn(e))
        except AwsError as err:
            failed.append({"Id": e["Id"], "SenderFault": True, "Code": err.code, "Message": err.message})
    return {"Successful": ok, "Failed": failed}
