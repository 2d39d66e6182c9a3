"""Publish and PublishBatch, and fan-out to the topic's subscriptions.

Fan-out happens inside the Publish's transaction: SQS subscribers get their
message written to the queue then and there (it is kumo's own store), and
HTTP/S and Lambda subscribers get a delivery record that the delivery
controller works off.  So an acknowledged Publish has reached every SQS
subscriber, or its dead-letter queue, and will reach the others.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid

from ...aws.errors import AwsError
from ..kms import internal as kms
from . import delivery, filter_policy
from .topics import SUBSCRIPTION, find, invalid, is_fifo, table

log = logging.getLogger("kumo.sns")
MAX_BYTES = 262144
MAX_ATTRIBUTES = 10
DEDUP = "sns.dedup"  # FIFO deduplication ids of the last five minutes (swept by the sns-dedup controller)
SEQUENCE = "sns.sequence"  # each FIFO topic's last sequence number
DEDUP_WINDOW = 300.0
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_SUBJECT = re.compile(r"^[\x20-\x7e]{1,100}$")


def check_attributes(attributes: dict | None) -> None:
    for name, value in (attributes or {}).items():
        dtype = value.get("DataType", "")
        where = f"Invalid parameter: MessageAttributes Reason: The message attribute '{name}'"
        if not re.match(r"^(String|Number|Binary)(\..+)?$", dtype):
            raise AwsError("ParameterValueInvalid", f"{where} has an invalid message attribute type, the set of "
                                                    "supported type prefixes is Binary, Number, and String.")
        if dtype.startswith("Binary"):
            if value.get("BinaryValue") is None:
                raise AwsError("ParameterValueInvalid", f"{where} with type 'Binary' must use field 'Binary'.")
            continue
        text = value.get("StringValue")
        if text is None or text == "":
            raise AwsError("ParameterValueInvalid", f"{where} must contain non-empty message attribute value for "
                                                    f"message attribute type '{dtype.split('.')[0]}'.")
        if dtype.startswith("Number"):
            try:
                float(text)
            except ValueError:
                raise AwsError("ParameterValueInvalid", f"{where} has an invalid Number value '{text}'.")
        if dtype == "String.Array":
            try:
                if not isinstance(json.loads(text), list):
                    raise ValueError
            except ValueError:
                raise AwsError("ParameterValueInvalid", f"{where} has an invalid String.Array value.")
    if attributes and len(attributes) > MAX_ATTRIBUTES:
        raise invalid("MessageAttributes Reason: Number of message attributes [%d] exceeds the allowed maximum "
                      "[%d]." % (len(attributes), MAX_ATTRIBUTES))


def _size(message: str, attributes: dict | None) -> int:
    total = len(message.encode())
    for name, value in (attributes or {}).items():
        total += len(name.encode()) + len(value.get("DataType", "").encode())
        raw = value.get("BinaryValue")
        total += len(raw) if raw is not None else len((value.get("StringValue") or "").encode())
    return total


def prepare(kumo, topic: dict, entry: dict) -> dict:
    """Check one message as AWS does; the fields fan-out needs."""
    message = entry.get("Message")
    if message is None or message == "":
        raise invalid("Empty message")
    subject = entry.get("Subject")
    if subject is not None and not _SUBJECT.match(subject):
        raise invalid("Subject")
    attributes = entry.get("MessageAttributes") or None
    check_attributes(attributes)
    if _size(message, attributes) > MAX_BYTES:
        raise invalid("Message too long")
    structure = None
    if entry.get("MessageStructure") is not None:
        if entry["MessageStructure"] != "json":
            raise invalid("MessageStructure")
        try:
            structure = json.loads(message)
        except ValueError:
            raise invalid("Message Structure - JSON message body failed to parse")
        if not isinstance(structure, dict) or not isinstance(structure.get("default"), str):
            raise invalid("Message Structure - No default entry in JSON message body")
    group, dedup = entry.get("MessageGroupId"), entry.get("MessageDeduplicationId")
    if is_fifo(topic):
        if not group:
            raise invalid("The MessageGroupId parameter is required for FIFO topics")
        if not dedup:
            if topic["Attributes"].get("ContentBasedDeduplication") != "true":
                raise invalid("The topic should either have ContentBasedDeduplication enabled or "
                              "MessageDeduplicationId provided explicitly")
            dedup = hashlib.sha256(message.encode()).hexdigest()
    elif dedup:
        raise invalid("MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is "
                      "not valid for this topic type")
    return {"message": message, "subject": subject, "attributes": attributes, "structure": structure,
            "group": group, "dedup": dedup}


def publish_prepared(kumo, topic: dict, msg: dict) -> dict:
    """Accept a checked message: deduplicate (FIFO), fan out; returns MessageId (and SequenceNumber)."""
    now = kumo.clock.now()
    seqno = None
    if is_fifo(topic):
        dedups = table(kumo.store, topic["_account"], topic["_region"], DEDUP)
        key = f"{topic['Name']}|{msg['dedup']}"
        seen = dedups.get(key)
        if seen is not None and seen["expires"] > now:
            return {"MessageId": seen["id"], "SequenceNumber": seen["seq"]}
        counters = table(kumo.store, topic["_account"], topic["_region"], SEQUENCE)
        number = (counters.get(topic["Name"]) or {}).get("n", 0) + 1
        counters.put(topic["Name"], {"n": number})
        seqno = f"{10**19 + number:020d}"
    message_id = str(uuid.uuid4())
    if seqno:
        dedups.put(key, {"id": message_id, "seq": seqno, "expires": now + DEDUP_WINDOW})
    fan_out(kumo, topic, message_id, msg, now, seqno)
    out = {"MessageId": message_id}
    if seqno:
        out["SequenceNumber"] = seqno
    return out


def fan_out(kumo, topic: dict, message_id: str, msg: dict, now: float, seqno: str | None = None) -> None:
    service = kumo.services["sns"]
    subs = table(kumo.store, topic["_account"], topic["_region"], SUBSCRIPTION).values()
    for sub in subs:
        if sub["TopicArn"] != topic["TopicArn"] or not sub["_confirmed"]:
            continue
        text = msg["message"]
        if msg["structure"] is not None:
            text = msg["structure"].get(sub["Protocol"], msg["structure"]["default"])
            if not isinstance(text, str):
                text = json.dumps(text)
        attrs = sub["Attributes"]
        if attrs.get("FilterPolicy"):
            policy = json.loads(attrs["FilterPolicy"])
            if not filter_policy.matches(policy, attrs.get("FilterPolicyScope", "MessageAttributes"),
                                         msg["attributes"], msg["message"]):
                continue
        raw = attrs.get("RawMessageDelivery") == "true"
        doc = delivery.envelope(service, topic, sub, message_id, text, msg["subject"], msg["attributes"], now, seqno)
        body = text if raw else json.dumps(doc)
        if sub["Protocol"] == "sqs":
            _to_queue(kumo, sub, body, msg["attributes"] if raw else None, msg, doc)
        elif sub["Protocol"] in ("http", "https", "lambda"):
            delivery.record(kumo, topic, sub, doc, body, now, raw)
        elif sub["Protocol"] in ("application", "sms"):
            _to_device(kumo, topic, sub, message_id, text, msg, now)
        # email subscriptions never get confirmed in kumo, so nothing reaches here for them.


def _to_device(kumo, topic: dict, sub: dict, message_id: str, text: str, msg: dict, now: float) -> None:
    """Mobile push and SMS subscribers: kept where a device would have received it, nothing sent."""
    scope = f"{topic['_account']}/{topic['_region']}"
    if sub["Protocol"] == "application":
        from .platform import keep, platform_of

        if msg["structure"] is not None:  # a push's structure is keyed by platform (GCM, APNS ...)
            text = msg["structure"].get(platform_of(sub["Endpoint"]), text)
            text = text if isinstance(text, str) else json.dumps(text)
        keep(kumo, scope, sub["Endpoint"], message_id, text, now)
    else:
        from .sms import keep_text

        sms_type = ((msg["attributes"] or {}).get("AWS.SNS.SMS.SMSType") or {}).get("StringValue")
        keep_text(kumo, scope, sub["Endpoint"], message_id, text, sms_type, now)


def _to_queue(kumo, sub: dict, body: str, attributes: dict | None, msg: dict, doc: dict) -> None:
    from ..sqs import internal as sqs

    try:
        sqs.send(kumo, sub["Endpoint"], body, attributes, group_id=msg["group"],
                 dedup_id=msg["dedup"] if msg["group"] and sub["Endpoint"].endswith(".fifo") else None,
                 sender_id=None)
    except Exception as exc:  # the queue is gone or refuses it: a client-side error, not retried
        dlq = json.loads(sub["Attributes"].get("RedrivePolicy") or "{}").get("deadLetterTargetArn")
        delivery.dead_letter(kumo, dlq, body, str(exc))


# KMS's refusals in SNS's words (the model's error codes).
_KMS_CODES = {"NotFoundException": "KMSNotFound", "DisabledException": "KMSDisabled",
              "KMSInvalidStateException": "KMSInvalidState", "InvalidKeyUsageException": "KMSAccessDenied"}


def check_kms(ctx, topic: dict) -> None:
    """An encrypted topic takes messages only while its key makes data keys: AWS checks the key at Publish,
    not when KmsMasterKeyId is set."""
    key_id = topic["Attributes"].get("KmsMasterKeyId")
    if key_id:
        try:
            kms.generate_data_key(ctx.kumo, topic["_account"], topic["_region"], key_id)
        except kms.KmsError as exc:
            raise AwsError(_KMS_CODES.get(exc.code, "KMSAccessDenied"), exc.message) from None


def publish(ctx, p):
    arn = p.get("TopicArn") or p.get("TargetArn")
    if p.get("PhoneNumber") and not arn:
        from .sms import publish_sms

        return publish_sms(ctx, p)
    from .platform import is_endpoint_arn, publish_to_endpoint

    if p.get("TargetArn") and is_endpoint_arn(p["TargetArn"]):
        return publish_to_endpoint(ctx, p)
    if not arn:
        raise invalid("TopicArn or TargetArn Reason: no value for required parameter")
    topic = find(ctx.store, arn)
    check_kms(ctx, topic)
    return publish_prepared(ctx.kumo, topic, prepare(ctx.kumo, topic, p))


def publish_batch(ctx, p):
    topic = find(ctx.store, p["TopicArn"])
    entries = p.get("PublishBatchRequestEntries") or []
    if not entries:
        raise AwsError("EmptyBatchRequest", "The batch request doesn't contain any entries.")
    if len(entries) > 10:
        raise AwsError("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible.")
    ids = [e["Id"] for e in entries]
    if len(set(ids)) != len(ids):
        raise AwsError("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.")
    if any(not _BATCH_ID.match(i) for i in ids):
        raise AwsError("InvalidBatchEntryId", "The Id of a batch entry in a batch request doesn't abide by the "
                                              "specification.")
    if sum(_size(e.get("Message") or "", e.get("MessageAttributes")) for e in entries) > MAX_BYTES:
        raise AwsError("BatchRequestTooLong", "The length of all the messages put together is more than the limit.")
    check_kms(ctx, topic)
    ok, failed = [], []
    for entry in entries:
        try:
            result = publish_prepared(ctx.kumo, topic, prepare(ctx.kumo, topic, entry))
            ok.append({"Id": entry["Id"], **result})
        except AwsError as err:
            failed.append({"Id": entry["Id"], "Code": err.code, "Message": err.message, "SenderFault": True})
    return {"Successful": ok, "Failed": failed}
