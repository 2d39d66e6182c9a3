"""SNS topics: create, attributes, tags, permissions, list and delete.

A topic is a record (kind ``sns.topic``, keyed by name, in ``<account>/<region>``).
Its attributes are kept as AWS shows them (strings); the subscription counts
and the effective delivery policy are computed when asked for.
"""

from __future__ import annotations

import json
import re

from ...aws.errors import AwsError
from ...core import pagination, tags as tagging
from ...core.arns import parse_arn

TOPIC = "sns.topic"
SUBSCRIPTION = "sns.subscription"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_FIFO_NAME = re.compile(r"^[A-Za-z0-9_-]{1,251}\.fifo$")
SETTABLE = {"Policy", "DisplayName", "DeliveryPolicy", "KmsMasterKeyId", "SignatureVersion", "TracingConfig",
            "ContentBasedDeduplication", "FifoTopic", "ArchivePolicy", "FifoThroughputScope", "DataProtectionPolicy",
            "HTTPSuccessFeedbackRoleArn", "HTTPSuccessFeedbackSampleRate", "HTTPFailureFeedbackRoleArn",
            "SQSSuccessFeedbackRoleArn", "SQSSuccessFeedbackSampleRate", "SQSFailureFeedbackRoleArn",
            "LambdaSuccessFeedbackRoleArn", "LambdaSuccessFeedbackSampleRate", "LambdaFailureFeedbackRoleArn"}
# AWS's default HTTP/S delivery policy: three retries, twenty seconds apart.
DEFAULT_HTTP_POLICY = {"defaultHealthyRetryPolicy": {"minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3,
                                                     "numMaxDelayRetries": 0, "numNoDelayRetries": 0,
                                                     "numMinDelayRetries": 0, "backoffFunction": "linear"},
                       "disableSubscriptionOverrides": False,
                       "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}}


def invalid(message: str) -> AwsError:
    return AwsError("InvalidParameter", f"Invalid parameter: {message}")


def not_found(message: str = "Topic does not exist") -> AwsError:
    return AwsError("NotFound", message)


def table(store, account: str, region: str, kind: str = TOPIC):
    return store.table(f"{account}/{region}", kind)


def by_arn(store, arn: str) -> dict | None:
    parsed = parse_arn(arn or "")
    if parsed is None or parsed.service != "sns":
        return None
    return table(store, parsed.account, parsed.region).get(parsed.resource)


def find(store, arn: str) -> dict:
    if parse_arn(arn or "") is None:
        raise invalid("TopicArn")
    topic = by_arn(store, arn)
    if topic is None:
        raise not_found()
    return topic


def is_fifo(topic: dict) -> bool:
    return topic["Attributes"].get("FifoTopic") == "true"


def save(store, topic: dict) -> None:
    parsed = parse_arn(topic["TopicArn"])
    table(store, parsed.account, parsed.region).put(topic["Name"], topic)


def default_policy(arn: str, account: str) -> str:
    return json.dumps({
        "Version": "2008-10-17", "Id": "__default_policy_ID",
        "Statement": [{"Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
                       "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                                  "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                                  "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
                       "Resource": arn, "Condition": {"StringEquals": {"AWS:SourceOwner": account}}}]},
        separators=(",", ":"))


def _check_attribute(name: str, value: str, fifo: bool, creating: bool) -> str:
    if name not in SETTABLE:
        raise invalid("AttributeName")
    if name == "FifoTopic":
        if not creating:
            raise invalid("AttributeName")
        return value.lower()
    if name == "ContentBasedDeduplication":
        if not fifo:
            raise invalid("ContentBasedDeduplication Reason: Content-based deduplication can only be set for "
                          "FIFO topics")
        if value.lower() not in ("true", "false"):
            raise invalid("ContentBasedDeduplication")
        return value.lower()
    if name == "SignatureVersion" and value not in ("1", "2"):
        raise invalid("SignatureVersion")
    if name == "TracingConfig" and value not in ("PassThrough", "Active"):
        raise invalid("TracingConfig")
    if name in ("Policy", "DeliveryPolicy", "ArchivePolicy", "DataProtectionPolicy") and value:
        try:
            doc = json.loads(value)
            if not isinstance(doc, dict):
                raise ValueError
        except ValueError:
            raise invalid(f"{name}: failed to parse JSON")
        if name == "DataProtectionPolicy":
            from .data_protection import check

            check(value)
        if name == "DeliveryPolicy":
            from .delivery import policy_problem

            problem = policy_problem(doc, topic_level=True)
            if problem:
                raise invalid(problem)
    return value


def create_topic(ctx, p):
    name = p["Name"]
    given = dict(p.get("Attributes") or {})
    fifo = given.get("FifoTopic", "").lower() == "true"
    if not (_FIFO_NAME if fifo else _NAME).match(name):
        raise invalid("Topic Name" if not fifo else
                      "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase "
                      "ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters "
                      "long.")
    attrs = {k: _check_attribute(k, v, fifo, True) for k, v in given.items()}
    topics = ctx.table("topic")
    existing = topics.get(name)
    if existing is not None:
        if any(existing["Attributes"].get(k) != v for k, v in attrs.items() if k != "Policy"):
            raise invalid("Attributes Reason: Topic already exists with different attributes")
        return {"TopicArn": existing["TopicArn"]}
    arn = ctx.arn(name)
    tag_map = _tags_in(p.get("Tags"), {})
    attributes = {"Policy": default_policy(arn, ctx.account), "DisplayName": "", "SignatureVersion": "1",
                  "TracingConfig": "PassThrough", "Owner": ctx.account, "TopicArn": arn}
    if fifo:
        attributes.update(FifoTopic="true", ContentBasedDeduplication="false", FifoThroughputScope="Topic")
    attributes.update({k: v for k, v in attrs.items() if not (k == "FifoTopic" and v == "false")})
    topics.put(name, {"Name": name, "TopicArn": arn, "Attributes": attributes, "Tags": tag_map,
                      "_account": ctx.account, "_region": ctx.region})
    return {"TopicArn": arn}


def delete_topic(ctx, p):
    topic = by_arn(ctx.store, p["TopicArn"])
    if topic is None:
        if parse_arn(p["TopicArn"]) is None:
            raise invalid("TopicArn")
        return {}  # AWS answers success for a topic that is not there (DeleteTopic is idempotent)
    subs = table(ctx.store, topic["_account"], topic["_region"], SUBSCRIPTION)
    for key, sub in subs.items():
        if sub["TopicArn"] == topic["TopicArn"]:
            subs.delete(key)
    table(ctx.store, topic["_account"], topic["_region"]).delete(topic["Name"])
    table(ctx.store, topic["_account"], topic["_region"], "sns.sequence").delete(topic["Name"])
    return {}


def subscription_counts(store, topic: dict) -> tuple[int, int]:
    confirmed = pending = 0
    for sub in table(store, topic["_account"], topic["_region"], SUBSCRIPTION).values():
        if sub["TopicArn"] == topic["TopicArn"]:
            if sub["_confirmed"]:
                confirmed += 1
            else:
                pending += 1
    return confirmed, pending


def effective_delivery_policy(topic: dict) -> dict:
    policy = json.loads(topic["Attributes"].get("DeliveryPolicy") or "{}")
    http = {**DEFAULT_HTTP_POLICY, **policy.get("http", {})}
    return {"http": http}


def get_topic_attributes(ctx, p):
    topic = find(ctx.store, p["TopicArn"])
    confirmed, pending = subscription_counts(ctx.store, topic)
    attrs = dict(topic["Attributes"])
    attrs.update(SubscriptionsConfirmed=str(confirmed), SubscriptionsPending=str(pending),
                 SubscriptionsDeleted="0",
                 EffectiveDeliveryPolicy=json.dumps(effective_delivery_policy(topic), separators=(",", ":")))
    return {"Attributes": attrs}


def set_topic_attributes(ctx, p):
    topic = find(ctx.store, p["TopicArn"])
    value = _check_attribute(p["AttributeName"], p.get("AttributeValue") or "", is_fifo(topic), False)
    if value == "" and p["AttributeName"] in ("DeliveryPolicy", "KmsMasterKeyId", "ArchivePolicy"):
        topic["Attributes"].pop(p["AttributeName"], None)
    else:
        topic["Attributes"][p["AttributeName"]] = value
    save(ctx.store, topic)
    return {}


def list_topics(ctx, p):
    topics = sorted(ctx.table("topic").values(), key=lambda t: t["TopicArn"])
    try:
        page, token = pagination.paginate(topics, 100, p.get("NextToken"), key=lambda t: t["TopicArn"],
                                          context=f"topics|{ctx.account}")
    except pagination.InvalidToken:
        raise invalid("NextToken")
    out = {"Topics": [{"TopicArn": t["TopicArn"]} for t in page]}
    if token:
        out["NextToken"] = token
    return out


# -- tags and permissions ------------------------------------------------------------------------


def _tags_in(tags, existing: dict) -> dict:
    tag_map = {t["Key"]: t["Value"] for t in tags or []}
    try:
        tagging.validate(tag_map, existing)
    except tagging.TagError as exc:
        code = "TagLimitExceeded" if "exceeds" in str(exc) else "InvalidParameter"
        raise AwsError(code, str(exc))
    return tag_map


def tag_resource(ctx, p):
    topic = find(ctx.store, p["ResourceArn"])
    topic["Tags"].update(_tags_in(p["Tags"], topic["Tags"]))
    save(ctx.store, topic)
    return {}


def untag_resource(ctx, p):
    topic = find(ctx.store, p["ResourceArn"])
    for key in p["TagKeys"]:
        topic["Tags"].pop(key, None)
    save(ctx.store, topic)
    return {}


def list_tags_for_resource(ctx, p):
    topic = find(ctx.store, p["ResourceArn"])
    return {"Tags": tagging.to_list(topic["Tags"])}


def add_permission(ctx, p):
    topic = find(ctx.store, p["TopicArn"])
    policy = json.loads(topic["Attributes"]["Policy"])
    if any(s.get("Sid") == p["Label"] for s in policy["Statement"]):
        raise invalid("Statement already exists")
    principals = [f"arn:aws:iam::{a}:root" for a in p["AWSAccountId"]]
    policy["Statement"].append({"Sid": p["Label"], "Effect": "Allow",
                                "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
                                "Action": [f"SNS:{a}" for a in p["ActionName"]], "Resource": topic["TopicArn"]})
    topic["Attributes"]["Policy"] = json.dumps(policy, separators=(",", ":"))
    save(ctx.store, topic)
    return {}


def remove_permission(ctx, p):
    topic = find(ctx.store, p["TopicArn"])
    policy = json.loads(topic["Attributes"]["Policy"])
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != p["Label"]]
    topic["Attributes"]["Policy"] = json.dumps(policy, separators=(",", ":"))
    save(ctx.store, topic)
    return {}
