"""Event notifications: Put/GetBucketNotificationConfiguration and delivery to SQS, SNS, Lambda and EventBridge.

Putting a configuration checks it (event_records.check: names, filters, overlaps) and that each destination
exists, unless ``x-amz-skip-destination-validation``; a missing one fails the whole configuration with
InvalidArgument "Unable to validate the following destination configurations" naming it.  Under
``--enforce-iam`` the destination's resource policy must also let S3 send (``s3.amazonaws.com``, or
everyone, allowed sqs:SendMessage / sns:Publish / lambda:InvokeFunction, with an aws:SourceArn or
aws:SourceAccount condition that the bucket meets), as AWS checks; without it, as kumo's other resource
policies, they are not evaluated.  Each SQS and SNS destination then gets S3's ``s3:TestEvent``.

Delivery hooks S3's committed object events (internal.on_event): each configuration whose events and key
filter select it gets one message ``{"Records": [record]}`` (eventVersion 2.1); with EventBridge on, the
event goes to the account's default bus as ``aws.s3`` / ``Object Created`` ... through kumo's event hub.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

from ...aws.errors import AwsError
from ..lambda_ import internal as lambda_
from ..sns import internal as sns
from ..sqs import internal as sqs
from . import buckets, event_records as ev
from .bucket_config import get_config, put_config

log = logging.getLogger("kumo.s3")
KIND = "s3.notification"
SUBJECT = "Amazon S3 Notification"
_MISSING = {"sqs": "The destination queue does not exist", "sns": "The destination topic does not exist",
            "lambda": "The destination Lambda does not exist"}
_DENIED = {"sqs": "Permissions on the destination queue do not allow S3 to publish notifications from this bucket",
           "sns": "Permissions on the destination topic do not allow S3 to publish notifications from this bucket",
           "lambda": "Permissions on the destination Lambda do not allow S3 to invoke it from this bucket"}
_ACTION = {"sqs": "sqs:sendmessage", "sns": "sns:publish", "lambda": "lambda:invokefunction"}


def _exists(kumo, kind: str, arn: str) -> bool:
    if kind == "sqs":
        return sqs.exists(kumo, arn)
    if kind == "sns":
        return sns.exists(kumo, arn)
    try:
        return lambda_.exists(kumo, arn)
    except lambda_.LambdaUnavailable:
        return False


def _policy(kumo, kind: str, arn: str) -> str | None:
    if kind == "sqs":
        return sqs.resource_policy(kumo, arn)
    if kind == "sns":
        return sns.resource_policy(kumo, arn)
    return lambda_.resource_policy(kumo, arn)


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def allows_s3(policy_text: str | None, kind: str, bucket: str, owner: str) -> bool:
    """Whether a destination's resource policy lets S3 deliver this bucket's events to it."""
    import fnmatch

    try:
        doc = json.loads(policy_text or "{}")
    except ValueError:
        return False
    bucket_arn = f"arn:aws:s3:::{bucket}"
    for st in _listed(doc.get("Statement") or []):
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        if not (principal == "*" or (isinstance(principal, dict) and (
                "s3.amazonaws.com" in _listed(principal.get("Service", [])) or "*" in _listed(principal.get("AWS", [])))
                )):
            continue
        if not any(fnmatch.fnmatchcase(_ACTION[kind], str(a).lower()) for a in _listed(st.get("Action") or [])):
            continue
        ok = True
        for _op, pairs in (st.get("Condition") or {}).items():
            for key, values in pairs.items():
                low = key.lower()
                if low == "aws:sourcearn":
                    ok &= any(fnmatch.fnmatchcase(bucket_arn, v) for v in _listed(values))
                elif low in ("aws:sourceaccount", "aws:sourceowner"):
                    ok &= owner in _listed(values)
        if ok:
            return True
    return False


def put_bucket_notification_configuration(ctx, params):
    record = buckets.for_request(ctx, params)
    config = params.get("NotificationConfiguration") or {}
    found = ev.check(config)
    if not params.get("SkipDestinationValidation"):
        missing = [(arn, _MISSING[kind]) for kind, arn, _c in found if not _exists(ctx.kumo, kind, arn)]
        if not missing and ctx.kumo.settings.enforce_iam:
            missing = [(arn, _DENIED[kind]) for kind, arn, _c in found
                       if not allows_s3(_policy(ctx.kumo, kind, arn), kind, record["Name"], record["_owner"])]
        if missing:
            fields = {}
            for i, (arn, why) in enumerate(missing, 1):
                fields[f"ArgumentName{i}"] = arn
                fields[f"ArgumentValue{i}"] = why
            raise AwsError("InvalidArgument", "Unable to validate the following destination configurations",
                           status=400, fields=fields)
    stored = {}
    for member, _arn_key, _kind in ev.KINDS:
        items = []
        for c in config.get(member) or []:
            items.append({**c, "Id": c.get("Id") or str(uuid.uuid4())})  # S3 names unnamed configurations
        if items:
            stored[member] = items
    if config.get("EventBridgeConfiguration") is not None:
        stored["EventBridgeConfiguration"] = {}
    put_config(ctx.store, KIND, record["Name"], stored)
    now, rid = ctx.now(), ctx.request_id
    for kind, arn, _c in found:
        if kind in ("sqs", "sns") and _exists(ctx.kumo, kind, arn):
            message = json.dumps(ev.test_event(record["Name"], now, rid, rid), separators=(",", ":"))
            _send(ctx.kumo, kind, arn, message, record["Name"])
    return {}


def get_bucket_notification_configuration(ctx, params):
    record = buckets.for_request(ctx, params)
    return get_config(ctx.store, KIND, record["Name"]) or {}


def _send(kumo, kind: str, arn: str, message: str, bucket: str) -> None:
    try:
        if kind == "sqs":
            sqs.send(kumo, arn, message)
        elif kind == "sns":
            sns.publish(kumo, arn, message, subject=SUBJECT)
        else:
            with kumo.store.transaction():
                lambda_.queue_event(kumo, arn, message.encode(), source_arn=f"arn:aws:s3:::{bucket}")
    except (LookupError, AwsError) as exc:  # the destination went away: S3 drops the event
        log.info("s3 notification to %s not delivered: %s", arn, exc)


def deliver(kumo, bucket: dict, event_name: str, info: dict) -> None:
    """The hook S3 calls after each committed object event: the deliveries run just after, off the request's
    answer (S3 notifies asynchronously too; the PUT does not wait for the queue's commit)."""
    config = get_config(kumo.store, KIND, bucket["Name"])
    if not config:
        return
    when = kumo.clock.now()
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        _deliver(kumo, bucket, config, event_name, info, when)
        return
    loop.call_soon(_deliver_logged, kumo, bucket, config, event_name, info, when)


def _deliver_logged(kumo, bucket: dict, config: dict, event_name: str, info: dict, when: float) -> None:
    try:
        _deliver(kumo, bucket, config, event_name, info, when)
    except Exception:
        log.exception("s3 notification for %s in %s failed", event_name, bucket["Name"])


def _deliver(kumo, bucket: dict, config: dict, event_name: str, info: dict, now: float) -> None:
    key = info["key"]
    owner = bucket["_owner"]
    region = bucket["BucketRegion"]
    rid = uuid.uuid4().hex[:16].upper()
    host_id = uuid.uuid4().hex
    for kind, arn, c in ev.configurations(config):
        if not ev.selects(c, event_name, key):
            continue
        record = ev.record(region=region, when=now, event_name=event_name, principal=f"AWS:{owner}",
                           source_ip="127.0.0.1", request_id=rid, host_id=host_id, configuration_id=c["Id"],
                           bucket=bucket["Name"], owner=owner, key=key, size=info.get("size"),
                           etag=info.get("eTag"), version_id=info.get("versionId"), seq=info["sequencer"])
        _send(kumo, kind, arn, json.dumps({"Records": [record]}, separators=(",", ":")), bucket["Name"])
    if "EventBridgeConfiguration" in config:
        found = ev.eventbridge_detail(event_name=event_name, bucket=bucket["Name"], key=key, size=info.get("size"),
                                      etag=info.get("eTag"), version_id=info.get("versionId"),
                                      seq=info["sequencer"], request_id=rid, requester=owner, source_ip="127.0.0.1")
        if found is not None:
            detail_type, detail = found
            kumo.events.publish(owner, region, "aws.s3", detail_type, detail, [f"arn:aws:s3:::{bucket['Name']}"])


__all__ = ["put_bucket_notification_configuration", "get_bucket_notification_configuration"]
