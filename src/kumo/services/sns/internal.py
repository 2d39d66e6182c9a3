"""SNS for the rest of kumo: publish to a topic by ARN, and CloudWatch alarm actions on topics.

EventBridge targets, Auto Scaling lifecycle hooks and CloudWatch alarms
publish through ``publish``; it checks and fans out exactly like the
Publish API (docs/messaging.md).  Call it on kumo's event loop; it commits
before it returns.
"""

from __future__ import annotations

import json

from ...core.arns import parse_arn
from . import publish as _publish
from .topics import by_arn


class TopicNotFound(LookupError):
    pass


def publish(kumo, topic_arn: str, message: str, subject: str | None = None, attributes: dict | None = None, *,
            group_id: str | None = None, dedup_id: str | None = None) -> dict:
    """Publish ``message`` to the topic; returns {"MessageId": ...} (and SequenceNumber on FIFO topics).

    ``attributes`` are SNS message attributes ({"name": {"DataType": "String", "StringValue": "v"}}).
    Raises TopicNotFound, or AwsError when SNS would refuse the message.
    """
    with kumo.store.transaction():
        topic = by_arn(kumo.store, topic_arn)
        if topic is None:
            raise TopicNotFound(topic_arn)
        entry = {"Message": message, "Subject": subject, "MessageAttributes": attributes,
                 "MessageGroupId": group_id, "MessageDeduplicationId": dedup_id}
        return _publish.publish_prepared(kumo, topic, _publish.prepare(kumo, topic, entry))


def exists(kumo, topic_arn: str) -> bool:
    return by_arn(kumo.store, topic_arn) is not None


def is_topic_arn(arn: str) -> bool:
    parsed = parse_arn(arn)
    return parsed is not None and parsed.service == "sns" and arn.count(":") == 5


def alarm_action(kumo):
    """The handler for alarm actions naming a topic: publish AWS's alarm notification to it."""

    def handle(arn: str, context: dict) -> None:
        message = {k: v for k, v in context.items() if k != "kumo"}
        name = message.get("AlarmName", "")
        state = message.get("NewStateValue", "")
        region = message.get("Region", "")
        subject = f'{state}: "{name}" in {region}'
        if len(subject) > 100:
            subject = subject[:100]
        publish(kumo, arn, json.dumps(message, separators=(",", ":")), subject=subject)

    return handle


# -- for IAM enforcement (kumo.aws.authorize) ---------------------------------------------------------


def resource_policy(kumo, topic_arn: str) -> str | None:
    """The topic's Policy attribute: its resource-based policy."""
    topic = by_arn(kumo.store, topic_arn)
    return topic["Attributes"].get("Policy") if topic is not None else None


def resource_tags(kumo, topic_arn: str) -> dict | None:
    topic = by_arn(kumo.store, topic_arn)
    return dict(topic.get("Tags") or {}) if topic is not None else None
