"""Queue records: where they live, how URLs and ARNs find them, and their attributes.

A queue is a store record (kind ``sqs.queue``, keyed by name, in the owner's
``<account>/<region>`` scope).  Its URL is not stored: it is built from the
Host of each request (``http://localhost:4566/<account>/<name>``), as SDKs
expect of local endpoints, and any host form is accepted when a URL comes back.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote, urlsplit

from ...aws.errors import AwsError
from ...core.arns import parse_arn

KIND = "sqs.queue"
DELETED = "sqs.deleted"  # tombstones: a name cannot be reused for 60 s after DeleteQueue
REUSE_AFTER = 60.0

DEFAULTS = {
    "VisibilityTimeout": "30",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "DelaySeconds": "0",
    "ReceiveMessageWaitTimeSeconds": "0",
    "SqsManagedSseEnabled": "true",
}
FIFO_DEFAULTS = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}
INT_RANGES = {
    "VisibilityTimeout": (0, 43200),
    "MaximumMessageSize": (1024, 1048576),
    "MessageRetentionPeriod": (60, 1209600),
    "DelaySeconds": (0, 900),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "KmsDataKeyReusePeriodSeconds": (60, 86400),
}
BOOLS = ("SqsManagedSseEnabled", "ContentBasedDeduplication", "FifoQueue")
CHOICES = {"DeduplicationScope": ("messageGroup", "queue"), "FifoThroughputLimit": ("perQueue", "perMessageGroupId")}
FIFO_ONLY = ("ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
JSON_VALUED = ("Policy", "RedrivePolicy", "RedriveAllowPolicy")
SETTABLE = set(INT_RANGES) | set(BOOLS) | set(CHOICES) | set(JSON_VALUED) | {"KmsMasterKeyId"}
COMPUTED = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp", "QueueArn")

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_FIFO_NAME = re.compile(r"^[A-Za-z0-9_-]{1,75}\.fifo$")


def not_found() -> AwsError:
    return AwsError("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")


def invalid_value(name: str, reason: str = "") -> AwsError:
    return AwsError("InvalidAttributeValue",
                    f"Invalid value for the parameter {name}." + (f" Reason: {reason}" if reason else ""))


def is_fifo(queue: dict) -> bool:
    return queue["Attributes"].get("FifoQueue") == "true"


def attr_int(queue: dict, name: str) -> int:
    return int(queue["Attributes"].get(name, DEFAULTS.get(name, "0")))


def table(store, account: str, region: str):
    return store.table(f"{account}/{region}", KIND)


def url_of(endpoint: str, queue: dict) -> str:
    return f"{endpoint}/{queue['_account']}/{queue['QueueName']}"


def check_name(name: str, fifo: bool) -> None:
    if fifo:
        if not _FIFO_NAME.match(name):
            raise AwsError("InvalidParameterValue",
                           "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
                           "underscores, must end with .fifo suffix and be 1 to 80 in length.")
    elif not _NAME.match(name):
        raise AwsError("InvalidParameterValue",
                       "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")


def split_url(url: str) -> tuple[str, str]:
    """(account, name) of a queue URL in any host form, or of a bare ``/<account>/<name>`` path."""
    path = urlsplit(url).path if "://" in url else url.partition("?")[0]
    parts = [unquote(p) for p in path.split("/") if p]
    if len(parts) < 2 or not (parts[-2].isdigit() and len(parts[-2]) == 12):
        raise AwsError("InvalidAddress", f"The address {url} is not valid for this endpoint.")
    return parts[-2], parts[-1]


def find(ctx, url: str | None) -> dict:
    """The queue a request names, by its QueueUrl or, for old query SDKs, by the path it posted to."""
    if not url:
        if ctx.path.count("/") >= 2 and ctx.path != "/":
            url = ctx.path
        else:
            raise AwsError("MissingParameter", "The request must contain the parameter QueueUrl.")
    if "/" not in url and (_NAME.match(url) or _FIFO_NAME.match(url)):
        account, name = ctx.account, url  # a bare queue name: AWS takes it as the caller's queue of that name
    else:
        account, name = split_url(url)
    queue = table(ctx.store, account, ctx.region).get(name)
    if queue is None:
        raise not_found()
    return queue


def by_arn(store, arn: str) -> dict | None:
    parsed = parse_arn(arn)
    if parsed is None or parsed.service != "sqs":
        return None
    return table(store, parsed.account, parsed.region).get(parsed.resource)


def save(store, queue: dict) -> None:
    table(store, queue["_account"], queue["_region"]).put(queue["QueueName"], queue)


# -- attribute values --------------------------------------------------------------------


def normalize(store, queue_arn: str, fifo: bool, attrs: dict, creating: bool) -> dict:
    """Check attribute values as AWS does and return them in the form GetQueueAttributes shows."""
    out = {}
    for name, value in attrs.items():
        if name in COMPUTED or name == "All" or name not in SETTABLE:
            raise AwsError("InvalidAttributeName", f"Unknown Attribute {name}.")
        if name in FIFO_ONLY and not fifo:
            raise AwsError("InvalidAttributeName", f"Unknown Attribute {name}.")
        if name == "FifoQueue":
            if not creating:
                raise invalid_value(name, "Modifying queue type is not supported.")
            if value.lower() != "true" and fifo:
                raise invalid_value(name)
        if name in INT_RANGES:
            lo, hi = INT_RANGES[name]
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise invalid_value(name)
            if not lo <= number <= hi:
                raise invalid_value(name)
            out[name] = str(number)
        elif name in BOOLS:
            if value.lower() not in ("true", "false"):
                raise invalid_value(name)
            out[name] = value.lower()
        elif name in CHOICES:
            if value not in CHOICES[name]:
                raise invalid_value(name)
            out[name] = value
        elif name == "RedrivePolicy":
            out[name] = _redrive_policy(store, queue_arn, fifo, value)
        elif name == "RedriveAllowPolicy":
            out[name] = _redrive_allow_policy(value)
        elif name == "Policy":
            out[name] = _policy(value)
        else:
            out[name] = value
    return out


def _json(name: str, value: str):
    try:
        doc = json.loads(value)
    except (TypeError, ValueError):
        raise invalid_value(name, "failed to parse JSON.")
    if not isinstance(doc, dict):
        raise invalid_value(name, "must be a JSON object.")
    return doc


def _policy(value: str) -> str:
    if value == "":
        return ""
    _json("Policy", value)
    return value


def _redrive_policy(store, queue_arn: str, fifo: bool, value: str) -> str:
    if value == "":
        return ""
    doc = _json("RedrivePolicy", value)
    target = doc.get("deadLetterTargetArn")
    count = doc.get("maxReceiveCount")
    unknown = set(doc) - {"deadLetterTargetArn", "maxReceiveCount"}
    if unknown:
        raise invalid_value("RedrivePolicy", f"Unknown parameter {sorted(unknown)[0]}.")
    if not target or count is None:
        raise invalid_value("RedrivePolicy",
                            "Redrive policy is not a valid JSON map of deadLetterTargetArn and maxReceiveCount.")
    try:
        count = int(count)
    except (TypeError, ValueError):
        raise invalid_value("RedrivePolicy", "Invalid value for maxReceiveCount.")
    if not 1 <= count <= 1000:
        raise invalid_value("RedrivePolicy", "Invalid value for maxReceiveCount: must be between 1 and 1000.")
    dlq = by_arn(store, str(target))
    if dlq is None:
        raise invalid_value("RedrivePolicy", "Dead letter target does not exist.")
    if is_fifo(dlq) != fifo:
        raise invalid_value("RedrivePolicy",
                            "Dead-letter queue must be same type of queue as the source.")
    if not allows_source(dlq, queue_arn):
        raise invalid_value("RedrivePolicy",
                            f"Queue {target} does not allow this queue to use it as a dead-letter queue.")
    return json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": count}, separators=(",", ":"))


def _redrive_allow_policy(value: str) -> str:
    if value == "":
        return ""
    doc = _json("RedriveAllowPolicy", value)
    permission = doc.get("redrivePermission")
    sources = doc.get("sourceQueueArns")
    if permission not in ("allowAll", "denyAll", "byQueue"):
        raise invalid_value("RedriveAllowPolicy", "Invalid value for redrivePermission.")
    if permission == "byQueue":
        if not isinstance(sources, list) or not 1 <= len(sources) <= 10:
            raise invalid_value("RedriveAllowPolicy",
                                "sourceQueueArns must list 1 to 10 queue ARNs when redrivePermission is byQueue.")
    elif sources is not None:
        raise invalid_value("RedriveAllowPolicy",
                            "sourceQueueArns can be specified only when redrivePermission is byQueue.")
    doc = {"redrivePermission": permission, **({"sourceQueueArns": sources} if sources else {})}
    return json.dumps(doc, separators=(",", ":"))


def allows_source(dlq: dict, source_arn: str) -> bool:
    policy = dlq["Attributes"].get("RedriveAllowPolicy")
    if not policy:
        return True
    doc = json.loads(policy)
    permission = doc.get("redrivePermission", "allowAll")
    if permission == "denyAll":
        return False
    if permission == "byQueue":
        return source_arn in doc.get("sourceQueueArns", [])
    return True


def redrive_policy(queue: dict) -> tuple[str, int] | None:
    policy = queue["Attributes"].get("RedrivePolicy")
    if not policy:
        return None
    doc = json.loads(policy)
    return doc["deadLetterTargetArn"], int(doc["maxReceiveCount"])


def apply(queue: dict, values: dict, now: float) -> None:
    """Set normalized attributes; an empty Policy or redrive policy removes it."""
    attrs = queue["Attributes"]
    for name, value in values.items():
        if value == "" and name in JSON_VALUED + ("KmsMasterKeyId",):
            attrs.pop(name, None)
        else:
            attrs[name] = value
    if values.get("KmsMasterKeyId"):
        attrs["SqsManagedSseEnabled"] = "false"  # one kind of server-side encryption at a time
    queue["LastModifiedTimestamp"] = int(now)
