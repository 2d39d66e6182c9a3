"""Notification configurations: SNS topics told of a group's launches and terminations."""

from __future__ import annotations

from .model import NOTIFICATION, find_group, invalid, owned_key, page, split_scope, table
from .notify import exists, iso, send

TYPES = ("autoscaling:EC2_INSTANCE_LAUNCH", "autoscaling:EC2_INSTANCE_LAUNCH_ERROR",
         "autoscaling:EC2_INSTANCE_TERMINATE", "autoscaling:EC2_INSTANCE_TERMINATE_ERROR",
         "autoscaling:TEST_NOTIFICATION")


def put_notification_configuration(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"])
    topic = p["TopicARN"]
    if not topic.startswith("arn:aws:sns:") or not exists(ctx.kumo, topic):
        raise invalid(f"Topic {topic} does not exist or is not an SNS topic ARN.")
    types = list(dict.fromkeys(p["NotificationTypes"]))
    for t in types:
        if t not in TYPES:
            raise invalid(f"Invalid notification type: {t}")
    table(ctx, NOTIFICATION).put(owned_key(group["AutoScalingGroupName"], topic), {
        "AutoScalingGroupName": group["AutoScalingGroupName"], "TopicARN": topic, "Types": types})
    account, _ = split_scope(ctx.scope)
    send(ctx.kumo, topic, {"AccountId": account, "RequestId": ctx.request_id,
                           "AutoScalingGroupARN": group["AutoScalingGroupARN"],
                           "AutoScalingGroupName": group["AutoScalingGroupName"], "Service": "AWS Auto Scaling",
                           "Event": "autoscaling:TEST_NOTIFICATION", "Time": iso(ctx.now())},
         subject=f'Auto Scaling: test notification for group "{group["AutoScalingGroupName"]}"')
    return {}


def delete_notification_configuration(ctx, p):
    group = find_group(ctx, p["AutoScalingGroupName"], deleting_ok=True)
    if not table(ctx, NOTIFICATION).delete(owned_key(group["AutoScalingGroupName"], p["TopicARN"])):
        raise invalid(f"No notification configuration found for AutoScalingGroup {group['AutoScalingGroupName']} "
                      f"and topic {p['TopicARN']}")
    return {}


def describe_notification_configurations(ctx, p):
    names = p.get("AutoScalingGroupNames")
    items = []
    for config in sorted(table(ctx, NOTIFICATION).values(), key=lambda c: (c["AutoScalingGroupName"],
                                                                          c["TopicARN"])):
        if names and config["AutoScalingGroupName"] not in names:
            continue
        for t in config["Types"]:
            items.append({"AutoScalingGroupName": config["AutoScalingGroupName"], "TopicARN": config["TopicARN"],
                          "NotificationType": t})
    return page(items, p, lambda c: f"{c['AutoScalingGroupName']}\x00{c['TopicARN']}\x00{c['NotificationType']}",
                "NotificationConfigurations", f"notifications/{ctx.scope}/{names}")


def describe_auto_scaling_notification_types(ctx, p):
    return {"AutoScalingNotificationTypes": list(TYPES)}
