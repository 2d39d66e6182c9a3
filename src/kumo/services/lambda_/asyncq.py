"""Asynchronous invocation: a durable queue of events, retries with AWS's back-off, destinations and DLQs.

An accepted event (Invoke with InvocationType Event, SNS, EventBridge,
CloudWatch alarms, S3 ... everything that invokes "asynchronously") is a row
of ``lambda_async`` written in the transaction that accepted it, so it
survives ``kill -9``; a restarted kumo works it off (at least once, as AWS
says).  The ``lambda-async`` controller starts due events (up to
``MAX_IN_FLIGHT`` at a time).  A throttled event waits for capacity without
using up an attempt.  A failed attempt (function error, timeout, crash) is
retried after 1 minute, then 2 minutes of kumo's clock, up to
MaximumRetryAttempts (default 2), unless the event would grow older than
MaximumEventAgeInSeconds (default 6 hours).  Then the invocation record goes to
the OnSuccess/OnFailure destination of the FunctionEventInvokeConfig of the
qualifier that was invoked, and a failed event also to the function's
dead-letter queue.
"""

from __future__ import annotations

import asyncio
import logging

from ...core.controllers import Controller
from . import destinations, routing
from .functions import ref_of, require
from .model import (ALIAS, EVENT_INVOKE, LATEST, VERSION, function_arn, function_not_found, invalid, not_found, scope)

log = logging.getLogger("kumo.lambda")
NAME = "lambda-async"
MAX_IN_FLIGHT = 64
SCHEMA = """
CREATE TABLE IF NOT EXISTS lambda_async (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    function TEXT NOT NULL,
    qualifier TEXT,
    payload BLOB NOT NULL,
    received REAL NOT NULL,
    due REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    source TEXT
);
CREATE INDEX IF NOT EXISTS lambda_async_due ON lambda_async(due)
"""


class AsyncQueue:
    def __init__(self, service):
        self.service = service
        self.kumo = service.kumo
        self.in_flight: dict[str, asyncio.Task] = {}

    # -- accepting --------------------------------------------------------------------------------
    def enqueue(self, account: str, region: str, name: str, qualifier: str | None, payload: bytes, request_id: str,
                source: str | None) -> None:
        """Record an event (inside the caller's transaction) and wake the dispatcher."""
        now = self.kumo.clock.now()
        self.kumo.store.sql(
            "INSERT OR IGNORE INTO lambda_async(id, account, region, function, qualifier, payload, received, due,"
            " attempts, source) VALUES (?,?,?,?,?,?,?,?,0,?)",
            (request_id, account, region, name, qualifier, payload, now, now, source))
        dims = [{"FunctionName": name}]
        self.service.telemetry.metric(account, region, "AsyncEventsReceived", 1, "Count", dims)
        self.kumo.controllers.enqueue(NAME, "queue")

    def drop_function(self, account: str, region: str, name: str) -> None:
        self.kumo.store.sql("DELETE FROM lambda_async WHERE account=? AND region=? AND function=?",
                            (account, region, name))

    def wipe(self) -> None:
        for task in self.in_flight.values():
            task.cancel()
        self.in_flight.clear()
        with self.kumo.store.transaction():
            self.kumo.store.sql("DELETE FROM lambda_async")

    def depth(self) -> int:
        return self.kumo.store.select("SELECT COUNT(*) FROM lambda_async")[0][0]

    # -- dispatching ------------------------------------------------------------------------------
    def dispatch(self) -> float | None:
        """Start due events; returns seconds until the next one falls due."""
        store, now = self.kumo.store, self.kumo.clock.now()
        room = MAX_IN_FLIGHT - len(self.in_flight)
        if room > 0:
            busy = list(self.in_flight)
            marks = ",".join("?" * len(busy))
            skip = f" AND id NOT IN ({marks})" if busy else ""
            rows = store.select(f"SELECT id FROM lambda_async WHERE due <= ?{skip} ORDER BY due LIMIT ?",
                                (now, *busy, room))
            loop = asyncio.get_running_loop()
            for (event_id,) in rows:
                self.in_flight[event_id] = loop.create_task(self._attempt(event_id))
        nxt = store.select("SELECT MIN(due) FROM lambda_async WHERE due > ?", (now,))[0][0]
        return None if nxt is None else max(0.0, nxt - now)

    async def _attempt(self, event_id: str) -> None:
        try:
            await self._run(event_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("asynchronous event %s failed in kumo", event_id)
        finally:
            self.in_flight.pop(event_id, None)
            if self.kumo.controllers.get(NAME) is not None:
                self.kumo.controllers.enqueue(NAME, "queue")

    async def _run(self, event_id: str) -> None:
        from .invoke import Throttled

        store, clock = self.kumo.store, self.kumo.clock
        rows = store.select("SELECT account, region, function, qualifier, payload, received, attempts, source "
                            "FROM lambda_async WHERE id=?", (event_id,))
        if not rows:
            return
        account, region, name, qualifier, payload, received, attempts, source = rows[0]
        payload = bytes(payload)
        engine, tel = self.service.engine, self.service.telemetry
        config = self.config_of(account, region, name, qualifier or LATEST)
        max_retries = config.get("MaximumRetryAttempts", routing.DEFAULT_RETRIES)
        max_age = config.get("MaximumEventAgeInSeconds", routing.DEFAULT_MAX_AGE)
        throttles = 0
        while True:
            try:
                r = engine.resolve(account, region, name, qualifier)
            except Exception:  # the function (or alias) is gone: so is its event
                self._delete(event_id)
                return
            age = clock.now() - received
            if age > max_age:
                await self._give_up(event_id, r, payload, attempts, "EventAgeExceeded", None)
                return
            if r.config.get("State") != "Active":
                await clock.sleep(1.0)
                continue
            tel.metric(account, region, "AsyncEventAge", int(age * 1000), "Milliseconds", [{"FunctionName": name}],
                       how="each")
            try:
                outcome = await engine.run(r, payload, event_id)
                break
            except Throttled:
                throttles += 1
                # Wait for a running invocation to end, or back off on the clock when none is ours to wait for.
                if self.service.limiter.in_flight(account, region):
                    await self.service.limiter.wait_release(account, region, routing.throttle_delay(throttles))
                else:
                    await clock.sleep(routing.throttle_delay(throttles))
        attempts += 1
        response = {"version": r.version, "error": outcome.error, "payload": outcome.payload}
        if not outcome.failed:
            self._delete(event_id)
            await self._destination(r, config, "OnSuccess", event_id, payload, attempts, "Success", response)
            return
        step = routing.next_step(attempts, max_retries, clock.now() - received, max_age)
        if step == "retry":
            with store.transaction():
                store.sql("UPDATE lambda_async SET attempts=?, due=? WHERE id=?",
                          (attempts, clock.now() + routing.retry_delay(attempts), event_id))
            return
        await self._give_up(event_id, r, payload, attempts, step, response)

    async def _give_up(self, event_id: str, r, payload: bytes, attempts: int, condition: str,
                       response: dict | None) -> None:
        self._delete(event_id)
        tel = self.service.telemetry
        tel.metric(r.account, r.region, "AsyncEventsDropped", 1, "Count", [{"FunctionName": r.name}])
        config = self.config_of(r.account, r.region, r.name, r.qualifier or LATEST)
        await self._destination(r, config, "OnFailure", event_id, payload, attempts, condition, response)
        dlq = (r.config.get("DeadLetterConfig") or {}).get("TargetArn")
        if dlq:
            message = destinations.error_message(response["payload"]) if response else condition
            try:
                destinations.dead_letter(self.kumo, dlq, event_id, payload, message)
            except Exception as exc:
                log.info("dead-letter queue %s refused event %s: %s", dlq, event_id, exc)
                tel.metric(r.account, r.region, "DeadLetterErrors", 1, "Count", [{"FunctionName": r.name}])

    async def _destination(self, r, config: dict, which: str, event_id: str, payload: bytes, attempts: int,
                           condition: str, response: dict | None) -> None:
        arn = ((config.get("DestinationConfig") or {}).get(which) or {}).get("Destination")
        if not arn:
            return
        function = function_arn(r.account, r.region, r.name, r.qualifier or LATEST)
        doc = destinations.record(self.kumo.clock.now(), event_id, function, condition, attempts, payload, response)
        try:
            await destinations.deliver(self.kumo, arn, doc, which == "OnSuccess")
        except Exception as exc:
            log.info("destination %s refused the record of %s: %s", arn, event_id, exc)
            self.service.telemetry.metric(r.account, r.region, "DestinationDeliveryFailures", 1, "Count",
                                          [{"FunctionName": r.name}])

    def _delete(self, event_id: str) -> None:
        with self.kumo.store.transaction():
            self.kumo.store.sql("DELETE FROM lambda_async WHERE id=?", (event_id,))

    def config_of(self, account: str, region: str, name: str, qualifier: str) -> dict:
        return self.kumo.store.table(scope(account, region), EVENT_INVOKE).get(f"{name}:{qualifier}") or {}


class Dispatcher(Controller):
    name = NAME
    resync_interval = 60.0

    def __init__(self, queue: AsyncQueue):
        self.queue = queue

    def keys(self):
        return ["queue"]

    async def reconcile(self, key):
        return self.queue.dispatch()

    async def stop(self) -> None:
        tasks = list(self.queue.in_flight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.queue.in_flight.clear()


# -- FunctionEventInvokeConfig -----------------------------------------------------------------------


def _eic_key(ctx, p) -> tuple[str, str, str]:
    ref = ref_of(ctx, p)
    require(ctx, ref)
    q = ref.qualifier or LATEST
    if q != LATEST:
        table = VERSION if q.isdigit() else ALIAS
        if f"{ref.name}:{q}" not in ctx.store.table(ctx.scope, table):
            raise function_not_found(ref.arn(q))
    return f"{ref.name}:{q}", ref.name, q


def _check_config(ctx, name: str, p: dict) -> dict:
    out = {}
    if p.get("MaximumRetryAttempts") is not None:
        out["MaximumRetryAttempts"] = p["MaximumRetryAttempts"]
    if p.get("MaximumEventAgeInSeconds") is not None:
        out["MaximumEventAgeInSeconds"] = p["MaximumEventAgeInSeconds"]
    if p.get("DestinationConfig") is not None:
        dest = {}
        for which in ("OnSuccess", "OnFailure"):
            arn = ((p["DestinationConfig"].get(which)) or {}).get("Destination")
            if arn:
                problem = destinations.destination_problem(arn, name)
                if problem:
                    raise invalid(problem)
                dest[which] = {"Destination": arn}
            else:
                dest[which] = {}
        out["DestinationConfig"] = dest
    return out


def _view(rec: dict) -> dict:
    return rec


def put_function_event_invoke_config(ctx, p):
    key, name, q = _eic_key(ctx, p)
    rec = {"LastModified": ctx.now(), "FunctionArn": function_arn(ctx.account, ctx.region, name, q),
           "MaximumRetryAttempts": routing.DEFAULT_RETRIES, "MaximumEventAgeInSeconds": routing.DEFAULT_MAX_AGE,
           "DestinationConfig": {"OnSuccess": {}, "OnFailure": {}}}
    rec.update(_check_config(ctx, name, p))
    ctx.store.table(ctx.scope, EVENT_INVOKE).put(key, rec)
    return rec


def update_function_event_invoke_config(ctx, p):
    key, name, q = _eic_key(ctx, p)
    table = ctx.store.table(ctx.scope, EVENT_INVOKE)
    rec = table.get(key) or {"FunctionArn": function_arn(ctx.account, ctx.region, name, q),
                             "MaximumRetryAttempts": routing.DEFAULT_RETRIES,
                             "MaximumEventAgeInSeconds": routing.DEFAULT_MAX_AGE,
                             "DestinationConfig": {"OnSuccess": {}, "OnFailure": {}}}
    changes = _check_config(ctx, name, p)
    if "DestinationConfig" in changes:
        merged = dict(rec.get("DestinationConfig") or {})
        for which, value in changes.pop("DestinationConfig").items():
            if value or which in (p["DestinationConfig"] or {}):
                merged[which] = value
        rec["DestinationConfig"] = merged
    rec.update(changes)
    rec["LastModified"] = ctx.now()
    table.put(key, rec)
    return rec


def get_function_event_invoke_config(ctx, p):
    key, name, q = _eic_key(ctx, p)
    rec = ctx.store.table(ctx.scope, EVENT_INVOKE).get(key)
    if rec is None:
        raise not_found(f"The function {function_arn(ctx.account, ctx.region, name, q)} doesn't have an "
                        "EventInvokeConfig")
    return rec


def delete_function_event_invoke_config(ctx, p):
    key, name, q = _eic_key(ctx, p)
    table = ctx.store.table(ctx.scope, EVENT_INVOKE)
    if key not in table:
        raise not_found(f"The function {function_arn(ctx.account, ctx.region, name, q)} doesn't have an "
                        "EventInvokeConfig")
    table.delete(key)
    return {}


def list_function_event_invoke_configs(ctx, p):
    from .functions import paginate

    ref = ref_of(ctx, p, allow_qualifier=False)
    require(ctx, ref)
    items = [rec for k, rec in sorted(ctx.store.table(ctx.scope, EVENT_INVOKE).items())
             if k.split(":", 1)[0] == ref.name]
    page, marker = paginate(items, p.get("Marker"), p.get("MaxItems"))
    out = {"FunctionEventInvokeConfigs": page}
    if marker:
        out["NextMarker"] = marker
    return out

