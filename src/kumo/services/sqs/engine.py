"""What happens to a message: enqueue, receive, redrive to a dead-letter queue, receipt handles.

Handlers (messages.py) and kumo's own senders (internal.py: SNS, EventBridge,
Auto Scaling) both come through here, so a message sent from inside kumo is
checked, stored and delivered exactly like one sent by a client.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid

from ...aws.errors import AwsError
from . import message_attributes as ma
from . import queues, storage

DEDUP_WINDOW = 300.0  # FIFO deduplication interval: 5 minutes (sends, and receive attempts)
ATTEMPTS = "sqs.attempt"  # FIFO ReceiveRequestAttemptIds of the last five minutes
SYSTEM_NAMES = ("SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp",
                "SequenceNumber", "MessageDeduplicationId", "MessageGroupId", "AWSTraceHeader",
                "DeadLetterQueueSourceArn")


def invalid(name: str, value, reason: str) -> AwsError:
    return AwsError("InvalidParameterValue", f"Value {value} for parameter {name} is invalid. Reason: {reason}")


def retention_cutoff(queue: dict, now: float) -> float:
    return now - queues.attr_int(queue, "MessageRetentionPeriod")


# -- sending ------------------------------------------------------------------------------


def enqueue(kumo, queue: dict, entry: dict, sender_id: str) -> dict:
    """Store one message (a SendMessage request or batch entry); returns SendMessage's result members."""
    fifo = queues.is_fifo(queue)
    body = entry.get("MessageBody")
    if not body:
        raise AwsError("MissingParameter", "The request must contain the parameter MessageBody.")
    ma.check_body(body)
    attrs = entry.get("MessageAttributes") or None
    system_in = entry.get("MessageSystemAttributes") or None
    ma.check(attrs)
    ma.check(system_in, system=True)
    limit = queues.attr_int(queue, "MaximumMessageSize")
    if len(body.encode("utf-8")) + ma.size(attrs) > limit:
        raise AwsError("InvalidParameterValue",
                       f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes.")
    delay = entry.get("DelaySeconds")
    group = entry.get("MessageGroupId")
    dedup = entry.get("MessageDeduplicationId")
    now = kumo.clock.now()
    store = kumo.store
    uid = queue["_id"]
    if fifo:
        if delay is not None:
            raise invalid("DelaySeconds", delay, "The request include parameter that is not valid for this queue type.")
        if not group:
            raise AwsError("MissingParameter", "The request must contain the parameter MessageGroupId.")
        if not dedup:
            if queue["Attributes"].get("ContentBasedDeduplication") != "true":
                raise AwsError("InvalidParameterValue",
                               "The queue should either have ContentBasedDeduplication enabled or "
                               "MessageDeduplicationId provided explicitly")
            dedup = hashlib.sha256(body.encode("utf-8")).hexdigest()
        key = dedup if queue["Attributes"].get("DeduplicationScope") != "messageGroup" else f"{group}\x00{dedup}"
        seen = storage.dedup_lookup(store, uid, key, now)
        if seen is not None:
            # Accepted, but not delivered again within the deduplication interval.
            return _sent(seen[0], body, attrs, system_in, seen[1])
    else:
        if dedup:
            raise invalid("MessageDeduplicationId", dedup,
                          "The request include parameter that is not valid for this queue type.")
        if delay is not None and not 0 <= delay <= 900:
            raise invalid("DelaySeconds", delay, "DelaySeconds must be >= 0 and <= 900.")
    if delay is None:
        delay = queues.attr_int(queue, "DelaySeconds")
    message_id = str(uuid.uuid4())
    system = {"SenderId": sender_id}
    if system_in and "AWSTraceHeader" in system_in:
        system["AWSTraceHeader"] = system_in["AWSTraceHeader"].get("StringValue", "")
    seq = storage.insert(store, uid, id=message_id, body=body, attrs=ma.to_storage(attrs), system=system,
                         sent=now, enqueued=now, visible=now + delay, grp=group, dedup=dedup if fifo else None)
    seqno = None
    if fifo:
        seqno = f"{10**19 + seq:020d}"
        storage.set_sequence_number(store, seq, seqno)
        storage.dedup_remember(store, uid, key, now + DEDUP_WINDOW, message_id, seqno)
    notify(kumo, uid)
    return _sent(message_id, body, attrs, system_in, seqno)


def _sent(message_id: str, body: str, attrs, system_in, seqno) -> dict:
    out = {"MessageId": message_id, "MD5OfMessageBody": ma.md5_of_body(body)}
    if attrs:
        out["MD5OfMessageAttributes"] = ma.md5_of(attrs)
    if system_in:
        out["MD5OfMessageSystemAttributes"] = ma.md5_of(system_in)
    if seqno:
        out["SequenceNumber"] = seqno
    return out


def notify(kumo, uid: str) -> None:
    """Wake the queue's long polls; each looks again and sleeps until the next message is due."""
    service = kumo.services.get("sqs")
    if service is not None:
        service.waiters.notify(uid)


# -- receiving ---------------------------------------------------------------------------------


def receive(kumo, queue: dict, max_messages: int, visibility: int | None, system_names=None,
            attribute_names=None, attempt_id: str | None = None) -> list[dict]:
    """Receive up to ``max_messages`` now; messages past maxReceiveCount go to the dead-letter queue instead.

    On a FIFO queue, a retry with the same ReceiveRequestAttemptId within five minutes gets the same
    messages and receipt handles back (their visibility timeout starts again), as long as they are
    still in flight under that receive.
    """
    store = kumo.store
    now = kumo.clock.now()
    uid = queue["_id"]
    fifo = queues.is_fifo(queue)
    timeout = queues.attr_int(queue, "VisibilityTimeout") if visibility is None else visibility
    attempts = store.table(f"{queue['_account']}/{queue['_region']}", ATTEMPTS) if fifo and attempt_id else None
    if attempts is not None:
        again = _same_attempt(store, queue, attempts.get(f"{uid}|{attempt_id}"), now, timeout)
        if again is not None:
            return [_message(queue, row, system_names, attribute_names) for row in again]
    out = _receive(kumo, queue, max_messages, timeout, system_names, attribute_names, now)
    if attempts is not None:
        attempts.put(f"{uid}|{attempt_id}", {"expires": now + DEDUP_WINDOW, "handles": [
            m["ReceiptHandle"] for m in out]})
    return out


def _same_attempt(store, queue: dict, attempt: dict | None, now: float, timeout: int) -> list | None:
    if attempt is None or attempt["expires"] <= now:
        return None
    rows = []
    for handle in attempt["handles"]:
        seq, nonce = parse_receipt(handle, queue)
        row = storage.get(store, queue["_id"], seq)
        if row is None or row.receipt != nonce or row.visible <= now:
            return None
        rows.append(row)
    for row in rows:
        storage.set_visible(store, row.seq, now + timeout)
    return rows


def _receive(kumo, queue: dict, max_messages: int, timeout: int, system_names, attribute_names,
             now: float) -> list[dict]:
    store = kumo.store
    uid = queue["_id"]
    fifo = queues.is_fifo(queue)
    oldest = retention_cutoff(queue, now)
    redrive = queues.redrive_policy(queue)
    dlq = queues.by_arn(store, redrive[0]) if redrive else None
    out: list[dict] = []
    while len(out) < max_messages:
        want = max_messages - len(out)
        rows = (storage.fifo_heads if fifo else storage.visible)(store, uid, now, oldest, want)
        if not rows:
            break
        taken, moved = [], False
        for row in rows:
            if dlq is not None and row.receives >= redrive[1]:
                move_to_dead_letter_queue(kumo, queue, dlq, row, now)
                moved = True
                if fifo:
                    break  # the group's next message is its new head: ask again
                continue
            taken.append(row)
        updates = []
        for row in taken:
            nonce = secrets.token_hex(8)
            updates.append((now + timeout, now, nonce, row.seq))
            out.append(_message(queue, row._replace(receives=row.receives + 1, receipt=nonce,
                                                    first_receive=row.first_receive or now),
                                system_names, attribute_names))
        storage.received(store, updates)
        if not moved:
            break
    return out


def _message(queue: dict, row: storage.Row, system_names, attribute_names) -> dict:
    msg = {"MessageId": row.id, "ReceiptHandle": receipt_handle(queue["_id"], row.seq, row.receipt),
           "MD5OfBody": ma.md5_of_body(row.body), "Body": row.body}
    if system_names:
        attrs = _system_attributes(row)
        if "All" not in system_names:
            attrs = {k: v for k, v in attrs.items() if k in system_names}
        if attrs:
            msg["Attributes"] = attrs
    if attribute_names and row.attrs:
        chosen = ma.select(ma.from_storage(row.attributes), attribute_names)
        if chosen:
            msg["MessageAttributes"] = chosen
            msg["MD5OfMessageAttributes"] = ma.md5_of(chosen)
    return msg


def _system_attributes(row: storage.Row) -> dict:
    system = row.system_attributes
    attrs = {
        "SenderId": system.get("SenderId", ""),
        "SentTimestamp": str(int(row.sent * 1000)),
        "ApproximateReceiveCount": str(row.receives),
        "ApproximateFirstReceiveTimestamp": str(int((row.first_receive or row.sent) * 1000)),
    }
    if row.seqno:
        attrs["SequenceNumber"] = row.seqno
    if row.dedup:
        attrs["MessageDeduplicationId"] = row.dedup
    if row.grp:
        attrs["MessageGroupId"] = row.grp
    for name in ("AWSTraceHeader", "DeadLetterQueueSourceArn"):
        if name in system:
            attrs[name] = system[name]
    return attrs


def move_to_dead_letter_queue(kumo, source: dict, dlq: dict, row: storage.Row, now: float) -> None:
    """The message keeps its id, body, attributes and receive count; standard queues keep its enqueue time."""
    system = row.system_attributes
    system["DeadLetterQueueSourceArn"] = source["QueueArn"]
    fifo = queues.is_fifo(dlq)
    storage.insert(kumo.store, dlq["_id"], id=row.id, body=row.body, attrs=row.attributes or None, system=system,
                   sent=row.sent, enqueued=now if fifo else row.enqueued, visible=now, grp=row.grp,
                   dedup=row.dedup, seqno=row.seqno, receives=row.receives, first_receive=row.first_receive)
    storage.delete(kumo.store, source["_id"], row.seq)
    notify(kumo, dlq["_id"])


# -- receipt handles -----------------------------------------------------------------------------


def receipt_handle(uid: str, seq: int, nonce: str | None) -> str:
    return base64.urlsafe_b64encode(f"{uid}\x1f{seq}\x1f{nonce or ''}".encode()).decode()


def parse_receipt(handle: str, queue: dict) -> tuple[int, str]:
    """(message seq, receive nonce) of a receipt handle issued for ``queue``."""
    try:
        uid, seq, nonce = base64.urlsafe_b64decode(handle.encode() + b"==").decode().split("\x1f")
        seq = int(seq)
    except (ValueError, UnicodeError):
        raise AwsError("ReceiptHandleIsInvalid", f'The input receipt handle "{handle}" is not a valid receipt handle.')
    if uid != queue["_id"]:
        raise AwsError("ReceiptHandleIsInvalid", f'The input receipt handle "{handle}" is not a valid receipt handle.')
    return seq, nonce


def delete(kumo, queue: dict, handle: str) -> None:
    """Deleting an already deleted message succeeds, as in AWS; a stale handle still deletes it."""
    seq, _ = parse_receipt(handle, queue)
    storage.delete(kumo.store, queue["_id"], seq)


def change_visibility(kumo, queue: dict, handle: str, timeout: int) -> None:
    seq, nonce = parse_receipt(handle, queue)
    if timeout is None or not 0 <= timeout <= 43200:
        raise invalid("VisibilityTimeout", timeout, "VisibilityTimeout must be an integer between 0 and 43200")
    now = kumo.clock.now()
    row = storage.get(kumo.store, queue["_id"], seq)
    if row is None or row.receipt != nonce or row.receives == 0 or row.visible <= now:
        raise invalid("ReceiptHandle", handle, "Message does not exist or is not available for visibility timeout "
                                               "change.")
    if now + timeout - row.received > 43200:
        raise invalid("VisibilityTimeout", timeout,
                      "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]")
    storage.set_visible(kumo.store, seq, now + timeout)
    if timeout == 0:
        notify(kumo, queue["_id"])
