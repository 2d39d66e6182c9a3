"""SQS for the rest of kumo: send to, receive from and delete on a queue named by its ARN.

SNS subscriptions, EventBridge targets, Auto Scaling lifecycle hooks and
Lambda event source mappings use these instead of the HTTP API.  Messages go
through the same checks and storage as a client's, so they are durable and
wake long polls.  Call them on kumo's event loop; each call commits before it
returns.  See docs/messaging.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import engine, queues


class QueueNotFound(LookupError):
    pass


def find(kumo, queue_arn: str) -> dict:
    queue = queues.by_arn(kumo.store, queue_arn)
    if queue is None:
        raise QueueNotFound(queue_arn)
    return queue


def exists(kumo, queue_arn: str) -> bool:
    return queues.by_arn(kumo.store, queue_arn) is not None


@dataclass(frozen=True)
class QueueInfo:
    arn: str
    fifo: bool
    visibility_timeout: int  # seconds


def describe(kumo, queue_arn: str) -> QueueInfo | None:
    """What a poller needs to know of the queue; None if there is no such queue."""
    queue = queues.by_arn(kumo.store, queue_arn)
    if queue is None:
        return None
    return QueueInfo(queue_arn, queues.is_fifo(queue), queues.attr_int(queue, "VisibilityTimeout"))


def send(kumo, queue_arn: str, body: str, attributes: dict | None = None, *, group_id: str | None = None,
         dedup_id: str | None = None, sender_id: str | None = None) -> dict:
    """SendMessage to the queue; returns its result (MessageId, MD5OfMessageBody, SequenceNumber ...).

    ``attributes`` are SQS message attributes ({"name": {"DataType": "String", "StringValue": "v"}}).
    Raises QueueNotFound, or AwsError when SQS would refuse the message (too large, bad attributes).
    """
    with kumo.store.transaction():
        queue = find(kumo, queue_arn)
        entry = {"MessageBody": body, "MessageAttributes": attributes or None, "MessageGroupId": group_id,
                 "MessageDeduplicationId": dedup_id}
        return engine.enqueue(kumo, queue, entry, sender_id or queue["_account"])


def receive(kumo, queue_arn: str, max_messages: int = 10, visibility_timeout: int | None = None) -> list[dict]:
    """ReceiveMessage without waiting, with all system and message attributes (what Lambda's poller sees)."""
    with kumo.store.transaction():
        queue = find(kumo, queue_arn)
        return engine.receive(kumo, queue, max_messages, visibility_timeout, ["All"], ["All"])


def delete(kumo, queue_arn: str, receipt_handle: str) -> None:
    with kumo.store.transaction():
        engine.delete(kumo, find(kumo, queue_arn), receipt_handle)


async def receive_wait(kumo, queue_arn: str, max_messages: int = 10, wait: float = 20.0,
                       visibility_timeout: int | None = None) -> list[dict]:
    """``receive``, long-polling up to ``wait`` simulated seconds for a message (Lambda's SQS pollers).

    Returns as soon as messages are visible: a send wakes it, and a message whose delay or visibility
    timeout runs out is picked up on kumo's clock.
    """
    from . import longpoll, storage

    found = receive(kumo, queue_arn, max_messages, visibility_timeout)
    if found or wait <= 0:
        return found
    queue = find(kumo, queue_arn)
    return await longpoll.poll(kumo.clock, kumo.services["sqs"].waiters, queue["_id"], kumo.clock.now() + wait,
                               lambda: receive(kumo, queue_arn, max_messages, visibility_timeout),
                               lambda: storage.next_visible(kumo.store, queue["_id"], kumo.clock.now()))


def delete_many(kumo, queue_arn: str, receipt_handles: list[str]) -> None:
    """DeleteMessageBatch without the batch limit, in one transaction; stale handles are skipped."""
    from ...aws.errors import AwsError

    with kumo.store.transaction():
        queue = find(kumo, queue_arn)
        for handle in receipt_handles:
            try:
                engine.delete(kumo, queue, handle)
            except AwsError:
                pass


# -- for IAM enforcement (kumo.aws.authorize) ---------------------------------------------------------


def resource_policy(kumo, queue_arn: str) -> str | None:
    """The queue's Policy attribute: its resource-based policy."""
    queue = queues.by_arn(kumo.store, queue_arn)
    return queue["Attributes"].get("Policy") if queue is not None else None


def resource_tags(kumo, queue_arn: str) -> dict | None:
    queue = queues.by_arn(kumo.store, queue_arn)
    return dict(queue.get("Tags") or {}) if queue is not None else None
