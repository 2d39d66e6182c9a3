"""S3 event notifications, the pure part: the configuration's checks, which configurations an event
matches, and the messages S3 sends (event records 2.1, s3:TestEvent, EventBridge details).

Two configurations overlap when they share an event type and their filters could both select one key
(one prefix starts the other, and one suffix ends the other; a missing rule selects everything); S3
refuses such a configuration.
"""

from __future__ import annotations

import datetime as _dt
import urllib.parse

from ...aws.errors import AwsError

KINDS = (("QueueConfigurations", "QueueArn", "sqs"), ("TopicConfigurations", "TopicArn", "sns"),
         ("LambdaFunctionConfigurations", "LambdaFunctionArn", "lambda"))
EVENTS = {
    "s3:ReducedRedundancyLostObject", "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated", "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete", "s3:Replication:*",
    "s3:Replication:OperationFailedReplication", "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold", "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:LifecycleTransition", "s3:IntelligentTiering", "s3:ObjectAcl:Put", "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated", "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete",
}


def _invalid(message: str, name: str | None = None, value: str | None = None) -> AwsError:
    fields = {}
    if name is not None:
        fields = {"ArgumentName": name, "ArgumentValue": value or ""}
    return AwsError("InvalidArgument", message, status=400, fields=fields)


def configurations(config: dict) -> list[tuple[str, str, dict]]:
    """Every (destination kind, target ARN, configuration) of a NotificationConfiguration, in order."""
    out = []
    for member, arn_key, kind in KINDS:
        for c in config.get(member) or []:
            out.append((kind, c.get(arn_key) or "", c))
    return out


def filter_rules(c: dict) -> tuple[str, str]:
    """(prefix, suffix) of a configuration's key filter ('' when absent)."""
    prefix = suffix = ""
    for rule in ((c.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []:
        name = (rule.get("Name") or "").lower()
        if name == "prefix":
            prefix = rule.get("Value") or ""
        elif name == "suffix":
            suffix = rule.get("Value") or ""
    return prefix, suffix


def _check_filter(c: dict) -> None:
    seen = set()
    for rule in ((c.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []:
        name = (rule.get("Name") or "").lower()
        if name not in ("prefix", "suffix"):
            raise _invalid("filter rule name must be either prefix or suffix", "FilterRule.Name", rule.get("Name"))
        if name in seen:
            raise _invalid(f"Cannot specify more than one {name} rule in a filter.", "FilterRule.Name",
                           rule.get("Name"))
        seen.add(name)


def _events_overlap(a: str, b: str) -> bool:
    if a == b:
        return True
    if a.endswith(":*") and b.startswith(a[:-1]):
        return True
    return b.endswith(":*") and a.startswith(b[:-1])


def _filters_overlap(a: tuple[str, str], b: tuple[str, str]) -> bool:
    (pa, sa), (pb, sb) = a, b
    return (pa.startswith(pb) or pb.startswith(pa)) and (sa.endswith(sb) or sb.endswith(sa))


def check(config: dict) -> list[tuple[str, str, dict]]:
    """The configurations of a NotificationConfiguration, or AwsError as S3 refuses it (destinations are
    checked by the caller, who can see them)."""
    found = configurations(config or {})
    ids = set()
    for _kind, arn, c in found:
        if not c.get("Events"):
            raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                           "our published schema", status=400)
        for event in c["Events"]:
            if event not in EVENTS:
                raise _invalid("The event is not supported for notifications", event, event)
        _check_filter(c)
        if c.get("Id"):
            if c["Id"] in ids:
                raise _invalid("Configuration Id must be unique", "Id", c["Id"])
            ids.add(c["Id"])
    for i, (_k, _a, a) in enumerate(found):
        for _k2, _a2, b in found[i + 1:]:
            if not _filters_overlap(filter_rules(a), filter_rules(b)):
                continue
            if any(_events_overlap(x, y) for x in a["Events"] for y in b["Events"]):
                raise _invalid("Configurations overlap. Configurations on the same bucket cannot share a common "
                               "event type.")
    return found


def selects(c: dict, event_name: str, key: str) -> bool:
    """Whether configuration ``c`` wants event ``event_name`` (e.g. 'ObjectCreated:Put') for ``key``."""
    wanted = "s3:" + event_name
    if not any(e == wanted or (e.endswith(":*") and wanted.startswith(e[:-1])) for e in c.get("Events") or []):
        return False
    prefix, suffix = filter_rules(c)
    return key.startswith(prefix) and key.endswith(suffix)


# -- messages ----------------------------------------------------------------------------------------------


def iso_millis(epoch: float) -> str:
    moment = _dt.datetime.fromtimestamp(epoch, _dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def sequencer(n: int) -> str:
    """S3's sequencer: hex, growing with each event on a key; compared as strings of equal length."""
    return f"{n:016X}"


def record(*, region: str, when: float, event_name: str, principal: str, source_ip: str, request_id: str,
           host_id: str, configuration_id: str, bucket: str, owner: str, key: str, size: int | None = None,
           etag: str | None = None, version_id: str | None = None, seq: str) -> dict:
    """One event record (eventVersion 2.1) as S3 sends it; the key is URL-encoded, as in S3's records
    (spaces as '+')."""
    obj: dict = {"key": urllib.parse.quote_plus(key, safe="/~")}
    if event_name.startswith(("ObjectCreated", "ObjectTagging", "ObjectAcl")) and size is not None:
        obj["size"] = size
    if etag and event_name.startswith(("ObjectCreated", "ObjectTagging", "ObjectAcl")):
        obj["eTag"] = etag.strip('"')
    if version_id and version_id != "null":
        obj["versionId"] = version_id
    obj["sequencer"] = seq
    return {
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": region, "eventTime": iso_millis(when),
        "eventName": event_name, "userIdentity": {"principalId": principal},
        "requestParameters": {"sourceIPAddress": source_ip},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": host_id},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": configuration_id,
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": owner}, "arn": f"arn:aws:s3:::{bucket}"},
               "object": obj},
    }


def test_event(bucket: str, when: float, request_id: str, host_id: str) -> dict:
    """The message S3 sends to each SQS and SNS destination when a configuration is put."""
    return {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": iso_millis(when), "Bucket": bucket,
            "RequestId": request_id, "HostId": host_id}


# EventBridge: S3's detail-type and ``reason`` per event name.
_EB = {
    "ObjectCreated:Put": ("Object Created", "PutObject"), "ObjectCreated:Post": ("Object Created", "POST Object"),
    "ObjectCreated:Copy": ("Object Created", "CopyObject"),
    "ObjectCreated:CompleteMultipartUpload": ("Object Created", "CompleteMultipartUpload"),
    "ObjectRemoved:Delete": ("Object Deleted", "DeleteObject"),
    "ObjectRemoved:DeleteMarkerCreated": ("Object Deleted", "DeleteObject"),
    "LifecycleExpiration:Delete": ("Object Deleted", "Lifecycle Expiration"),
    "LifecycleExpiration:DeleteMarkerCreated": ("Object Deleted", "Lifecycle Expiration"),
    "ObjectTagging:Put": ("Object Tags Added", None), "ObjectTagging:Delete": ("Object Tags Deleted", None),
}


def eventbridge_detail(*, event_name: str, bucket: str, key: str, size: int | None, etag: str | None,
                       version_id: str | None, seq: str, request_id: str, requester: str,
                       source_ip: str) -> tuple[str, dict] | None:
    """(detail-type, detail) of the EventBridge event S3 sends for ``event_name``; None for events it sends
    none for."""
    found = _EB.get(event_name)
    if found is None:
        return None
    detail_type, reason = found
    obj: dict = {"key": key}
    if detail_type == "Object Created":
        obj["size"] = size or 0
        if etag:
            obj["etag"] = etag.strip('"')
    if version_id and version_id != "null":
        obj["version-id"] = version_id
    obj["sequencer"] = seq
    detail: dict = {"version": "0", "bucket": {"name": bucket}, "object": obj, "request-id": request_id,
                    "requester": requester, "source-ip-address": source_ip}
    if reason:
        detail["reason"] = reason
    if detail_type == "Object Deleted":
        detail["deletion-type"] = ("Delete Marker Created" if event_name.endswith("DeleteMarkerCreated")
                                   else "Permanently Deleted")
    return detail_type, detail
