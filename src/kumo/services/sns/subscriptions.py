"""SNS subscriptions: subscribe (with a real confirmation round trip for HTTP/S), confirm, attributes, list.

A subscription is a record (kind ``sns.subscription``, keyed by its id, in
the topic's scope).  sqs and lambda subscriptions are confirmed at once;
http/https ones stay pending until the endpoint calls ConfirmSubscription
with the token kumo POSTed to it (delivery.py sends it); email ones stay
pending, since kumo sends no mail.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid

from ...aws.errors import AwsError
from ...core import pagination
from ...core.arns import parse_arn
from . import delivery, filter_policy
from .topics import SUBSCRIPTION, find, invalid, is_fifo, not_found, table

PROTOCOLS = ("http", "https", "email", "email-json", "sqs", "lambda", "sms", "application", "firehose")
NOT_DELIVERED = ("firehose",)  # kumo has nowhere to send these yet (sms and application: kept, not sent)
SETTABLE = {"DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy",
            "SubscriptionRoleArn", "ReplayPolicy"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def _check_endpoint(protocol: str, endpoint: str | None) -> str:
    if not endpoint:
        raise invalid("Endpoint")
    if protocol in ("http", "https") and not endpoint.lower().startswith(f"{protocol}://"):
        raise invalid("Endpoint must match the specified protocol")
    if protocol in ("sqs", "lambda", "firehose"):
        parsed = parse_arn(endpoint)
        if parsed is None or parsed.service != protocol:
            raise invalid(f"{protocol.upper() if protocol == 'sqs' else protocol.capitalize()} endpoint ARN")
    if protocol in ("email", "email-json") and not _EMAIL.match(endpoint):
        raise invalid("Email address")
    if protocol == "sms" and not re.match(r"^\+[1-9]\d{1,14}$", endpoint):
        raise invalid("SMS endpoint Reason: not a valid phone number")
    if protocol == "application":
        parsed = parse_arn(endpoint)
        if parsed is None or parsed.service != "sns" or not parsed.resource.startswith("endpoint/"):
            raise invalid("Application endpoint ARN")
    return endpoint


def _check_attributes(attrs: dict, topic: dict, protocol: str, scope: str | None = None) -> dict:
    """The attributes checked; ``scope`` is the subscription's FilterPolicyScope when only its policy changes."""
    out = {}
    for name, value in attrs.items():
        if name not in SETTABLE:
            raise invalid("AttributeName")
        if name == "RawMessageDelivery":
            if value.lower() not in ("true", "false"):
                raise invalid("RawMessageDelivery: Invalid value [" + value + "]. Must be true or false.")
            if protocol not in ("http", "https", "sqs", "firehose"):
                raise invalid("Attribute Name Reason: Delivery protocol [" + protocol + "] does not support raw "
                              "message delivery.")
            value = value.lower()
        elif name == "FilterPolicyScope":
            if value not in ("MessageAttributes", "MessageBody"):
                raise invalid("Attribute Name Reason: FilterPolicyScope: Invalid filter policy scope, please "
                              "specify either MessageAttributes or MessageBody.")
        elif name in ("RedrivePolicy", "DeliveryPolicy") and value:
            try:
                doc = json.loads(value)
            except ValueError:
                raise invalid(f"{name}: failed to parse JSON.")
            if name == "RedrivePolicy":
                target = parse_arn(str(doc.get("deadLetterTargetArn", ""))) if isinstance(doc, dict) else None
                if target is None or target.service != "sqs":
                    raise invalid("RedrivePolicy: deadLetterTargetArn is invalid")
            elif delivery.policy_problem(doc, topic_level=False):
                raise invalid(delivery.policy_problem(doc, topic_level=False))
        out[name] = value
    scope = out.get("FilterPolicyScope") or scope or "MessageAttributes"
    if out.get("FilterPolicy"):
        filter_policy.check(out["FilterPolicy"], scope)
    return out


def subscribe(ctx, p):
    topic = find(ctx.store, p["TopicArn"])
    protocol = (p.get("Protocol") or "").lower()
    if protocol not in PROTOCOLS:
        raise invalid("Amazon SNS does not support this protocol string: " + protocol)
    if protocol in NOT_DELIVERED:
        raise AwsError("NotImplemented", f"kumo does not deliver to {protocol} subscriptions yet.", status=501)
    if is_fifo(topic) and protocol != "sqs":
        raise invalid("Invalid protocol type: " + protocol)
    endpoint = _check_endpoint(protocol, p.get("Endpoint"))
    if protocol == "sqs" and endpoint.endswith(".fifo") and not is_fifo(topic):
        raise invalid("Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS "
                      "topics")
    attrs = _check_attributes(dict(p.get("Attributes") or {}), topic, protocol)
    subs = table(ctx.store, topic["_account"], topic["_region"], SUBSCRIPTION)
    for sub in subs.values():
        if sub["TopicArn"] == topic["TopicArn"] and sub["Protocol"] == protocol and sub["Endpoint"] == endpoint:
            if any(sub["Attributes"].get(k) != v for k, v in attrs.items()):
                raise invalid("Attributes Reason: Subscription already exists with different attributes")
            return {"SubscriptionArn": _shown_arn(sub, p.get("ReturnSubscriptionArn"))}
    sub_id = str(uuid.uuid4())
    confirmed = protocol in ("sqs", "lambda", "application", "sms")
    sub = {
        "SubscriptionArn": f"{topic['TopicArn']}:{sub_id}",
        "TopicArn": topic["TopicArn"],
        "Protocol": protocol,
        "Endpoint": endpoint,
        "Owner": ctx.account,
        "Attributes": attrs,
        "_confirmed": confirmed,
        "_token": secrets.token_hex(64),
        "_id": sub_id,
    }
    subs.put(sub_id, sub)
    if protocol in ("http", "https"):
        delivery.confirm_request(ctx.kumo, topic, sub, ctx.now())
    return {"SubscriptionArn": _shown_arn(sub, p.get("ReturnSubscriptionArn"))}


def _shown_arn(sub: dict, return_arn: bool | None) -> str:
    return sub["SubscriptionArn"] if sub["_confirmed"] or return_arn else "pending confirmation"


def find_subscription(store, arn: str) -> tuple[object, dict]:
    parsed = parse_arn(arn or "")
    if parsed is None or parsed.service != "sns" or parsed.resource.count(":") != 1:
        raise invalid("SubscriptionArn")
    subs = table(store, parsed.account, parsed.region, SUBSCRIPTION)
    sub = subs.get(parsed.resource.split(":")[1])
    if sub is None:
        raise not_found("Subscription does not exist")
    return subs, sub


def confirm_subscription(ctx, p):
    topic = find(ctx.store, p["TopicArn"])
    subs = table(ctx.store, topic["_account"], topic["_region"], SUBSCRIPTION)
    for sub in subs.values():
        if sub["TopicArn"] == topic["TopicArn"] and sub["_token"] == p["Token"]:
            if not sub["_confirmed"]:
                sub["_confirmed"] = True
                sub["_authenticated"] = str(p.get("AuthenticateOnUnsubscribe", "false")).lower() == "true"
                subs.put(sub["_id"], sub)
            return {"SubscriptionArn": sub["SubscriptionArn"]}
    raise invalid("Token")


def unsubscribe(ctx, p):
    subs, sub = find_subscription(ctx.store, p["SubscriptionArn"])
    subs.delete(sub["_id"])
    return {}


def view(sub: dict) -> dict:
    return {"SubscriptionArn": sub["SubscriptionArn"] if sub["_confirmed"] else "PendingConfirmation",
            "Owner": sub["Owner"], "Protocol": sub["Protocol"], "Endpoint": sub["Endpoint"],
            "TopicArn": sub["TopicArn"]}


def _listing(subs: list[dict], p, context: str, key: str) -> dict:
    subs.sort(key=lambda s: s["SubscriptionArn"])
    try:
        page, token = pagination.paginate(subs, 100, p.get("NextToken"), key=lambda s: s["SubscriptionArn"],
                                          context=context)
    except pagination.InvalidToken:
        raise invalid("NextToken")
    out = {key: [view(s) for s in page]}
    if token:
        out["NextToken"] = token
    return out


def list_subscriptions(ctx, p):
    subs = list(ctx.table("subscription").values())
    return _listing(subs, p, f"subs|{ctx.account}", "Subscriptions")


def list_subscriptions_by_topic(ctx, p):
    topic = find(ctx.store, p["TopicArn"])
    subs = [s for s in table(ctx.store, topic["_account"], topic["_region"], SUBSCRIPTION).values()
            if s["TopicArn"] == topic["TopicArn"]]
    return _listing(subs, p, f"subs|{topic['TopicArn']}", "Subscriptions")


def get_subscription_attributes(ctx, p):
    _, sub = find_subscription(ctx.store, p["SubscriptionArn"])
    attrs = {
        "SubscriptionArn": sub["SubscriptionArn"], "TopicArn": sub["TopicArn"], "Owner": sub["Owner"],
        "Protocol": sub["Protocol"], "Endpoint": sub["Endpoint"],
        "PendingConfirmation": "false" if sub["_confirmed"] else "true",
        "ConfirmationWasAuthenticated": "true" if sub.get("_authenticated") or sub["Protocol"] in ("sqs", "lambda")
        else "false",
        "RawMessageDelivery": "false",
    }
    attrs.update(sub["Attributes"])
    if attrs.get("FilterPolicy"):
        attrs.setdefault("FilterPolicyScope", "MessageAttributes")
    if sub["Protocol"] in ("http", "https"):
        topic = find(ctx.store, sub["TopicArn"])
        attrs["EffectiveDeliveryPolicy"] = json.dumps(delivery.effective_policy(topic, sub), separators=(",", ":"))
    return {"Attributes": attrs}


def set_subscription_attributes(ctx, p):
    subs, sub = find_subscription(ctx.store, p["SubscriptionArn"])
    topic = find(ctx.store, sub["TopicArn"])
    name, value = p["AttributeName"], p.get("AttributeValue") or ""
    merged = {**sub["Attributes"], name: value}
    if name == "FilterPolicy" and not value:
        merged.pop(name)
    checked = _check_attributes({name: merged[name]} if name in merged else {}, topic, sub["Protocol"],
                                merged.get("FilterPolicyScope"))
    if merged.get("FilterPolicy"):
        filter_policy.check(merged["FilterPolicy"], merged.get("FilterPolicyScope", "MessageAttributes"))
    sub["Attributes"] = {**{k: v for k, v in sub["Attributes"].items() if k != name}, **checked}
    subs.put(sub["_id"], sub)
    return {}
