"""The seams between services: events, metrics and alarm actions.

Services never import each other to talk at run time; they go through these
registries on the Kumo object, so any service can be absent:

* ``kumo.events``   EC2 (and others) publish AWS-format events; EventBridge subscribes.
* ``kumo.metrics``  controllers publish datapoints; CloudWatch stores them.
* ``kumo.actions``  CloudWatch alarms fire action ARNs; the service owning each ARN acts.
* ``kumo.objects``  load balancers' access logs and Logs' export tasks write objects; S3 stores them.
* ``kumo.functions`` Logs' subscription filters invoke functions; Lambda runs them.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import inspect
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

log = logging.getLogger("kumo.hub")


def _iso(epoch: float) -> str:
    return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class EventHub:
    """AWS events (the EventBridge envelope) from kumo's own services."""

    def __init__(self, clock):
        self.clock = clock
        self._subscribers: list[Callable[[dict], Any]] = []

    def subscribe(self, fn: Callable[[dict], Any]) -> None:
        self._subscribers.append(fn)

    def publish(self, account: str, region: str, source: str, detail_type: str, detail: dict,
                resources: list[str] | None = None) -> dict:
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": source,
            "account": account,
            "time": _iso(self.clock.now()),
            "region": region,
            "resources": list(resources or []),
            "detail": detail,
        }
        for fn in list(self._subscribers):
            try:
                result = fn(event)
                if inspect.isawaitable(result):
                    asyncio.ensure_future(result)
            except Exception:
                log.exception("event subscriber failed for %s", detail_type)
        return event


@dataclass
class Datapoint:
    account: str
    region: str
    namespace: str
    name: str
    value: float
    timestamp: float
    dimensions: dict[str, str] = field(default_factory=dict)
    unit: str = "None"
    storage_resolution: int = 60


class MetricSink:
    """Datapoints that kumo measures itself (AWS/EC2, AWS/ApplicationELB, AWS/Lambda ...)."""

    def __init__(self, wanted: Callable[[], None] | None = None) -> None:
        self._backends: list[Callable[[list[Datapoint]], None]] = []
        self._wanted = wanted  # called when datapoints come and no backend is there yet (loads CloudWatch)

    def register(self, backend: Callable[[list[Datapoint]], None]) -> None:
        self._backends.append(backend)

    def put(self, points: list[Datapoint]) -> None:
        if not points:
            return
        if not self._backends and self._wanted is not None:
            self._wanted()
        for backend in self._backends:
            try:
                backend(points)
            except Exception:
                log.exception("metric backend failed")


class ObjectSink:
    """Objects kumo's services deliver to S3 buckets (access logs, log exports); S3 registers itself when set up.

    A kumo with any bucket has S3 set up (its records load it at start, CreateBucket loads it), so until S3
    registers there is no bucket: services that only write logs need not bring S3 and the services its
    notifications reach (SQS, SNS, Lambda) up with them.
    """

    def __init__(self) -> None:
        self._store = None  # (bucket_region(bucket) -> str | None, put(bucket, key, data, content_type))

    def register(self, bucket_region: Callable[[str], str | None],
                 put: Callable[[str, str, bytes, str | None], None]) -> None:
        self._store = (bucket_region, put)

    def bucket_region(self, bucket: str) -> str | None:
        """The bucket's region; None when there is no such bucket."""
        return self._store[0](bucket) if self._store is not None else None

    def put(self, bucket: str, key: str, data: bytes, content_type: str | None = None) -> None:
        """Write an object as its owner's PutObject would (durable, notified); LookupError: no such bucket."""
        if self._store is None:
            raise LookupError(f"no bucket {bucket}")
        self._store[1](bucket, key, data, content_type)


class FunctionSink:
    """Functions other services invoke asynchronously (Logs' subscription filters); Lambda registers itself.

    As with ``ObjectSink``: a kumo with any function has Lambda set up (its records load it at start,
    CreateFunction loads it), so until Lambda registers there is no function, and Logs (which every instance
    writes to) need not bring Lambda and everything Lambda needs up with it.
    """

    def __init__(self) -> None:
        self._lambda = None  # (resource_policy(arn) -> str | None | LookupError, queue(arn, payload, source_arn))

    def register(self, resource_policy: Callable[[str], str | None],
                 queue: Callable[[str, Any, str | None], Any]) -> None:
        self._lambda = (resource_policy, queue)

    def resource_policy(self, arn: str) -> str | None:
        """The function's resource policy ("" when it has none); LookupError when there is no such function."""
        if self._lambda is None:
            raise LookupError(arn)
        return self._lambda[0](arn)

    def queue(self, arn: str, payload: Any, source_arn: str | None = None) -> None:
        """An asynchronous (Event) invocation, durable as Lambda's own queue; LookupError: no such function."""
        if self._lambda is None:
            raise LookupError(arn)
        self._lambda[1](arn, payload, source_arn)


ActionHandler = Callable[[str, dict], Awaitable[None] | None]


class ActionDispatch:
    """Alarm actions by ARN: the service that owns an ARN registers a handler for its shape."""

    def __init__(self, owner: Callable[[str], Awaitable[None]] | None = None) -> None:
        self._handlers: list[tuple[Callable[[str], bool], ActionHandler]] = []
        self._owner = owner  # brings up the service an ARN names when none registered yet claims it

    def register(self, matches: Callable[[str], bool], handler: ActionHandler) -> None:
        self._handlers.append((matches, handler))

    def handler_for(self, arn: str) -> ActionHandler | None:
        for matches, handler in self._handlers:
            if matches(arn):
                return handler
        return None

    def valid(self, arn: str) -> bool:
        return self.handler_for(arn) is not None

    async def dispatch(self, arn: str, context: dict) -> bool:
        """Run the action; False when no service owns the ARN. ``context`` describes the alarm."""
        handler = self.handler_for(arn)
        if handler is None and self._owner is not None:
            await self._owner(arn)
            handler = self.handler_for(arn)
        if handler is None:
            log.warning("no service handles alarm action %s", arn)
            return False
        result = handler(arn, context)
        if inspect.isawaitable(result):
            await result
        return True
