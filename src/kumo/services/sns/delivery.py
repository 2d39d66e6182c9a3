"""Delivering SNS messages: the JSON envelope, HTTP/S and Lambda deliveries with AWS's retry policies.

Publish records one ``sns.delivery`` per HTTP/S or Lambda subscriber and the
``sns-deliveries`` controller works them off: each attempt POSTs (or
invokes), success deletes the record, failure schedules the next attempt on
kumo's clock by the delivery policy, and a delivery out of attempts goes to
the subscription's RedrivePolicy dead-letter queue.  Because the record is
committed with the Publish, a restarted kumo carries on delivering.

Delivery policies (AWS's phases): ``numNoDelayRetries`` at once, then
``numMinDelayRetries`` at ``minDelayTarget``, then the backoff retries rising
from min to max delay by ``backoffFunction``, then ``numMaxDelayRetries`` at
``maxDelayTarget``; ``numRetries`` counts them all.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import uuid

import aiohttp

from ...core import tls
from ...core.controllers import Controller
from .topics import DEFAULT_HTTP_POLICY, SUBSCRIPTION, effective_delivery_policy

log = logging.getLogger("kumo.sns")
DELIVERY = "sns.delivery"
NAME = "sns-deliveries"
HTTP_TIMEOUT = 15.0  # seconds AWS waits for an HTTP/S endpoint to answer
# AWS-managed endpoints (Lambda, SQS): 3 immediate, 2 at 1 s, 10 backing off to 20 s, then 100,000 at 20 s.
MANAGED_POLICY = {"numNoDelayRetries": 3, "numMinDelayRetries": 2, "minDelayTarget": 1, "maxDelayTarget": 20,
                  "numRetries": 100015, "numMaxDelayRetries": 100000, "backoffFunction": "exponential"}


def iso_ms(epoch: float) -> str:
    whole = int(epoch)
    base = dt.datetime.fromtimestamp(whole, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{int((epoch - whole) * 1000):03d}Z"


_RETRY_FIELDS = ("minDelayTarget", "maxDelayTarget", "numRetries", "numNoDelayRetries", "numMinDelayRetries",
                 "numMaxDelayRetries")
_BACKOFF = ("linear", "arithmetic", "geometric", "exponential")


def policy_problem(doc, topic_level: bool) -> str | None:
    """Why AWS would refuse a DeliveryPolicy document (topic: {"http": {...}}; subscription: {...})."""
    if not isinstance(doc, dict):
        return "DeliveryPolicy must be a JSON object"
    if topic_level:
        doc = doc.get("http", {})
        if not isinstance(doc, dict):
            return "DeliveryPolicy: http must be a JSON object"
        retry, request = doc.get("defaultHealthyRetryPolicy", {}), doc.get("defaultRequestPolicy", {})
    else:
        retry, request = doc.get("healthyRetryPolicy", {}), doc.get("requestPolicy", {})
    if not isinstance(retry, dict) or not isinstance(request, dict):
        return "DeliveryPolicy: retry and request policies must be JSON objects"
    for name in _RETRY_FIELDS:
        value = retry.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100015 + 3600:
            return f"DeliveryPolicy: {name} must be a non-negative integer"
    if retry.get("minDelayTarget", 0) > retry.get("maxDelayTarget", 3600):
        return "DeliveryPolicy: minDelayTarget must not exceed maxDelayTarget"
    if retry.get("backoffFunction", "linear") not in _BACKOFF:
        return "DeliveryPolicy: backoffFunction must be linear, arithmetic, geometric or exponential"
    if not isinstance(request.get("headerContentType", ""), str):
        return "DeliveryPolicy: headerContentType must be a string"
    return None


def effective_policy(topic: dict, sub: dict) -> dict:
    topic_http = effective_delivery_policy(topic)["http"]
    policy = dict(topic_http["defaultHealthyRetryPolicy"])
    own = json.loads(sub["Attributes"].get("DeliveryPolicy") or "{}")
    if not topic_http.get("disableSubscriptionOverrides"):
        policy.update(own.get("healthyRetryPolicy") or {})
    request = {**DEFAULT_HTTP_POLICY["defaultRequestPolicy"], **(topic_http.get("defaultRequestPolicy") or {}),
               **(own.get("requestPolicy") or {})}
    return {"healthyRetryPolicy": policy, "requestPolicy": request}


def retry_delay(policy: dict, retry: int) -> float | None:
    """Seconds before retry number ``retry`` (1-based); None when the policy has no more retries."""
    total = int(policy.get("numRetries", 3))
    if retry > total:
        return None
    lo, hi = float(policy.get("minDelayTarget", 20)), float(policy.get("maxDelayTarget", 20))
    immediate = int(policy.get("numNoDelayRetries", 0))
    pre = int(policy.get("numMinDelayRetries", 0))
    post = int(policy.get("numMaxDelayRetries", 0))
    backoff = max(0, total - immediate - pre - post)
    if retry <= immediate:
        return 0.0
    if retry <= immediate + pre:
        return lo
    if retry <= immediate + pre + backoff:
        k, n = retry - immediate - pre, backoff
        kind = policy.get("backoffFunction", "linear")
        if kind == "arithmetic":
            share = k * (k + 1) / (n * (n + 1))
        elif kind == "geometric":
            share = (2 ** k - 1) / (2 ** n - 1)
        elif kind == "exponential" and lo > 0:
            return lo * (hi / lo) ** (k / n)
        else:
            share = k / n
        return lo + (hi - lo) * share
    return hi


# -- the envelope ------------------------------------------------------------------------------------


def envelope(service, topic: dict, sub: dict | None, message_id: str, message: str, subject: str | None,
             attributes: dict | None, timestamp: float, seqno: str | None = None) -> dict:
    """AWS's Notification JSON, signed, for one subscription."""
    doc = {"Type": "Notification", "MessageId": message_id, "TopicArn": topic["TopicArn"]}
    if seqno:
        doc["SequenceNumber"] = seqno
    if subject is not None:
        doc["Subject"] = subject
    doc.update(Message=message, Timestamp=iso_ms(timestamp),
               SignatureVersion=topic["Attributes"].get("SignatureVersion", "1"))
    service.signer.sign(doc)
    if sub is not None:
        doc["UnsubscribeURL"] = (f"{service.kumo.endpoint}/?Action=Unsubscribe&Version=2010-03-31"
                                 f"&SubscriptionArn={sub['SubscriptionArn']}")
    if attributes:
        doc["MessageAttributes"] = {name: {"Type": v["DataType"], "Value": _attribute_text(v)}
                                    for name, v in attributes.items()}
    return doc


def _attribute_text(value: dict) -> str:
    if value.get("BinaryValue") is not None:
        import base64

        return base64.b64encode(bytes(value["BinaryValue"])).decode()
    return value.get("StringValue", "")


def confirm_request(kumo, topic: dict, sub: dict, now: float) -> None:
    """Record the SubscriptionConfirmation POST to an HTTP/S endpoint."""
    service = kumo.services["sns"]
    url = (f"{kumo.endpoint}/?Action=ConfirmSubscription&Version=2010-03-31&TopicArn={topic['TopicArn']}"
           f"&Token={sub['_token']}")
    doc = {"Type": "SubscriptionConfirmation", "MessageId": str(uuid.uuid4()), "Token": sub["_token"],
           "TopicArn": topic["TopicArn"],
           "Message": f"You have chosen to subscribe to the topic {topic['TopicArn']}.\nTo confirm the "
                      "subscription, visit the SubscribeURL included in this message.",
           "SubscribeURL": url, "Timestamp": iso_ms(now),
           "SignatureVersion": topic["Attributes"].get("SignatureVersion", "1")}
    service.signer.sign(doc)
    record(kumo, topic, sub, doc, json.dumps(doc), now, raw=False)


def record(kumo, topic: dict, sub: dict, doc: dict, body: str, now: float, raw: bool) -> None:
    """Store one pending delivery and wake the controller."""
    scope = f"{topic['_account']}/{topic['_region']}"
    key = uuid.uuid4().hex
    kumo.store.table(scope, DELIVERY).put(key, {
        "sub": sub["_id"], "protocol": sub["Protocol"], "endpoint": sub["Endpoint"], "type": doc["Type"],
        "message_id": doc["MessageId"], "topic": topic["TopicArn"], "subscription": sub["SubscriptionArn"],
        "body": body, "raw": raw, "doc": doc, "retry": 0, "next": now,
        "policy": (effective_policy(topic, sub)["healthyRetryPolicy"] if sub["Protocol"] in ("http", "https")
                   else MANAGED_POLICY),
        "content_type": effective_policy(topic, sub)["requestPolicy"]["headerContentType"],
        "dlq": json.loads(sub["Attributes"].get("RedrivePolicy") or "{}").get("deadLetterTargetArn"),
    })
    kumo.controllers.enqueue(NAME, (scope, key))


def dead_letter(kumo, dlq: str | None, body: str, why: str) -> None:
    if not dlq:
        log.info("SNS delivery dropped (%s) and no dead-letter queue is set", why)
        return
    from ..sqs import internal as sqs

    try:
        sqs.send(kumo, dlq, body)
    except Exception as exc:
        log.warning("SNS dead-letter queue %s refused a message: %s", dlq, exc)


class Deliveries(Controller):
    name = NAME
    resync_interval = 60.0

    def __init__(self, kumo, service):
        self.kumo = kumo
        self.service = service
        self._http: aiohttp.ClientSession | None = None

    def keys(self):
        return [(scope, key) for scope, key, _ in self.kumo.store.all(DELIVERY)]

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def reconcile(self, key):
        scope, delivery_id = key
        store, clock = self.kumo.store, self.kumo.clock
        rec = store.table(scope, DELIVERY).get(delivery_id)
        if rec is None:
            return None
        if rec["next"] > clock.now() + 1e-6:
            return rec["next"] - clock.now()
        if store.table(scope, SUBSCRIPTION).get(rec["sub"]) is None:
            store.table(scope, DELIVERY).delete(delivery_id)  # unsubscribed meanwhile
            return None
        ok, retryable, why = await self._attempt(rec)
        with store.transaction():
            deliveries = store.table(scope, DELIVERY)
            rec = deliveries.get(delivery_id)
            if rec is None:
                return None
            if ok:
                deliveries.delete(delivery_id)
                return None
            delay = retry_delay(rec["policy"], rec["retry"] + 1) if retryable else None
            if delay is None:
                deliveries.delete(delivery_id)
                if rec["type"] == "Notification":
                    dead_letter(self.kumo, rec["dlq"], rec["body"], why)
                return None
            rec["retry"] += 1
            rec["next"] = clock.now() + delay
            deliveries.put(delivery_id, rec)
            return delay

    async def _attempt(self, rec: dict) -> tuple[bool, bool, str]:
        """(delivered, worth retrying, why not)."""
        if rec["protocol"] == "lambda":
            return await self._invoke(rec)
        headers = {
            "x-amz-sns-message-type": rec["type"],
            "x-amz-sns-message-id": rec["message_id"],
            "x-amz-sns-topic-arn": rec["topic"],
            "Content-Type": rec.get("content_type") or "text/plain; charset=UTF-8",
            "User-Agent": "Amazon Simple Notification Service Agent",
        }
        if rec["type"] == "Notification":
            headers["x-amz-sns-subscription-arn"] = rec["subscription"]
        if rec["raw"]:
            headers["x-amz-sns-rawdelivery"] = "true"
        if self._http is None:
            tls.client_ready()
            self._http = aiohttp.ClientSession()
        try:
            async with self._http.post(rec["endpoint"], data=rec["body"].encode(), headers=headers,
                                       timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT)) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    return True, False, ""
                return False, True, f"HTTP {resp.status}"
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
            return False, True, str(exc) or type(exc).__name__

    async def _invoke(self, rec: dict) -> tuple[bool, bool, str]:
        from ..lambda_ import internal as lambda_

        try:
            await lambda_.invoke_async(self.kumo, rec["endpoint"], lambda_event(rec), source_arn=rec["topic"])
            return True, False, ""
        except LookupError as exc:  # a deleted function, or no Lambda: a client-side error, not retried
            return False, False, str(exc)
        except Exception as exc:
            return False, True, str(exc)


def lambda_event(rec: dict) -> dict:
    """The event a Lambda function subscribed to a topic receives."""
    doc = dict(rec["doc"])
    sns = {"Type": doc["Type"], "MessageId": doc["MessageId"], "TopicArn": doc["TopicArn"],
           "Subject": doc.get("Subject"), "Message": doc["Message"], "Timestamp": doc["Timestamp"],
           "SignatureVersion": doc["SignatureVersion"], "Signature": doc["Signature"],
           "SigningCertUrl": doc["SigningCertURL"], "UnsubscribeUrl": doc.get("UnsubscribeURL"),
           "MessageAttributes": doc.get("MessageAttributes", {})}
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": rec["subscription"],
                         "Sns": sns}]}
