"""Invoking functions: the Invoke API and the engine every source of invocations goes through.

Synchronous invokes (the API, function URLs, ALB targets, SQS event source
mappings) and the asynchronous queue all call ``Engine.run``: resolve the
qualifier (an alias picks a version by its weights), count the invocation
against concurrency (or throttle it), take a warm environment or start one,
hand the event over through the Runtime API and wait for the outcome.  Every
invocation leaves START/END/REPORT lines in CloudWatch Logs and AWS/Lambda
metrics.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from ...aws.errors import AwsError
from . import routing, telemetry
from .concurrency import throttled
from .environments import InitFailed, Invocation, Outcome, Target
from .functions import config_for, ref_of
from .model import ALIAS, FUNCTION, LATEST, conflict, function_arn, function_not_found, scope
from .runtimes import Unavailable, resolve as resolve_runtime

SYNC_LIMIT = 6 * 1024 * 1024
ASYNC_LIMIT = 1024 * 1024


@dataclass
class Resolved:
    account: str
    region: str
    fn: dict
    config: dict
    version: str  # what runs: "$LATEST" or "N"
    qualifier: str | None  # as invoked (alias, version, $LATEST or None)

    @property
    def name(self) -> str:
        return self.fn["FunctionName"]

    @property
    def invoked_arn(self) -> str:
        return function_arn(self.account, self.region, self.name, self.qualifier)

    @property
    def dimensions(self) -> list[dict[str, str]]:
        dims = [{"FunctionName": self.name}]
        if self.qualifier and self.qualifier != LATEST:
            dims.append({"FunctionName": self.name, "Resource": f"{self.name}:{self.qualifier}"})
            if not self.qualifier.isdigit():
                dims.append({"FunctionName": self.name, "Resource": f"{self.name}:{self.qualifier}",
                             "ExecutedVersion": self.version})
        return dims


class Throttled(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def check_payload(payload: bytes, limit: int) -> bytes:
    if len(payload) > limit:
        raise AwsError("RequestTooLargeException",
                       f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
                       fields={"Type": "User"})
    if not payload.strip():
        return b"{}"
    try:
        json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AwsError("InvalidRequestContentException",
                       f"Could not parse request body into json: Could not parse payload into json: {exc}",
                       fields={"Type": "User"})
    return payload


class Engine:
    def __init__(self, service):
        self.service = service
        self.kumo = service.kumo
        self._spreads: dict[tuple, routing.Spread] = {}

    # -- resolving --------------------------------------------------------------------------------
    def resolve(self, account: str, region: str, name: str, qualifier: str | None) -> Resolved:
        store = self.kumo.store
        fn = store.table(scope(account, region), FUNCTION).get(name)
        if fn is None:
            raise function_not_found(function_arn(account, region, name, qualifier))
        version = qualifier or LATEST
        if qualifier not in (None, LATEST) and not qualifier.isdigit():
            alias = store.table(scope(account, region), ALIAS).get(f"{name}:{qualifier}")
            if alias is None:
                raise function_not_found(function_arn(account, region, name, qualifier))
            version = self.pick(account, region, alias)
        config = config_for(store, account, region, fn, version)
        if config is None:
            raise function_not_found(function_arn(account, region, name, qualifier))
        return Resolved(account, region, fn, config, version, qualifier)

    def pick(self, account: str, region: str, alias: dict) -> str:
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        if not weights:
            return alias["FunctionVersion"]
        key = (account, region, alias["AliasArn"])
        spread = self._spreads.get(key)
        if spread is None:
            spread = self._spreads[key] = routing.Spread(random.random())
        return routing.choose(alias["FunctionVersion"], weights, spread.next())

    def forget_routing(self, alias_arn_key) -> None:
        for key in [k for k in self._spreads if k[2] == alias_arn_key]:
            del self._spreads[key]

    @staticmethod
    def check_state(r: Resolved) -> None:
        state = r.config.get("State")
        if state != "Active":
            raise conflict(f"The operation cannot be performed at this time. The function is currently in the "
                           f"following state: {state}")

    async def target(self, r: Resolved) -> Target:
        svc = self.service
        config = r.config
        pool = svc.fleet.existing((r.account, r.region, r.name, r.version))
        if pool is not None and not pool.retired and pool.target.revision == config["RevisionId"]:
            return pool.target  # the warm path: nothing to look up again
        try:
            launch = resolve_runtime(config["Runtime"])
        except Unavailable as exc:
            raise conflict(str(exc))
        code_dir = await svc.unpacker.ensure(config["_code"]["sha"])
        layer_dirs = [await svc.layer_dir(layer["Arn"]) for layer in config.get("Layers") or []]
        merged = None
        if layer_dirs and not svc.sandbox.namespaces:
            merged = await svc.unpacker.merged(layer_dirs)
        return Target(r.account, r.region, r.name, r.version, config["RevisionId"], r.fn["FunctionArn"], config,
                      code_dir, layer_dirs, launch, merged)

    # -- running ----------------------------------------------------------------------------------
    async def run(self, r: Resolved, payload: bytes, request_id: str, *, tail: bool = False,
                  client_context: str | None = None) -> Outcome:
        """One invocation, start to end.  Raises Throttled when concurrency is exhausted."""
        svc = self.service
        limiter = svc.limiter
        reserved = r.fn.get("_reserved")
        reason = limiter.try_acquire(r.account, r.region, r.name, reserved)
        tel = svc.telemetry
        if reason is not None:
            tel.metric(r.account, r.region, "Throttles", 1, "Count", r.dimensions)
            raise Throttled(reason)
        try:
            tel.metric(r.account, r.region, "ConcurrentExecutions", limiter.in_flight(r.account, r.region, r.name),
                       "Count", [{"FunctionName": r.name}], how="max")
            target = await self.target(r)
            inv = Invocation(request_id, payload, r.invoked_arn, target.timeout, client_context, tail)
            try:
                env, _cold = await svc.fleet.acquire(target)
            except InitFailed as exc:
                outcome = self._init_failed(target, inv, exc)
            else:
                if env.provisioned:
                    self._provisioned_use(r, env.pool)
                outcome = await env.invoke(inv)
        finally:
            limiter.release(r.account, r.region, r.name, reserved)
        tel.metric(r.account, r.region, "Invocations", 1, "Count", r.dimensions)
        tel.metric(r.account, r.region, "Duration", round(outcome.duration_ms, 3), "Milliseconds", r.dimensions,
                   how="each")
        if outcome.failed:
            tel.metric(r.account, r.region, "Errors", 1, "Count", r.dimensions)
        if outcome.provisioned:
            tel.metric(r.account, r.region, "ProvisionedConcurrencyInvocations", 1, "Count", r.dimensions)
        elif svc.has_provisioned(r):
            tel.metric(r.account, r.region, "ProvisionedConcurrencySpilloverInvocations", 1, "Count", r.dimensions)
        return outcome

    def _provisioned_use(self, r: Resolved, pool) -> None:
        busy = sum(1 for e in pool.envs if e.provisioned and e.state == "busy") + 1
        tel = self.service.telemetry
        tel.metric(r.account, r.region, "ProvisionedConcurrentExecutions", busy, "Count", r.dimensions, how="max")
        if pool.provisioned:
            tel.metric(r.account, r.region, "ProvisionedConcurrencyUtilization", min(1.0, busy / pool.provisioned),
                       "None", r.dimensions, how="max")

    def _init_failed(self, target: Target, inv: Invocation, exc: InitFailed) -> Outcome:
        """An invocation whose environment failed to start reports the init error (AWS logs it the same way)."""
        doc = dict(exc.doc)
        doc["errorMessage"] = str(doc.get("errorMessage", "")).replace("{rid}", inv.request_id)
        tel = self.service.telemetry
        stream = exc.stream or telemetry.stream_name(self.kumo.clock.now(), target.version, inv.request_id[:32])
        init_ms = exc.init_ms or 0.0
        lines = [f"INIT_REPORT Init Duration: {init_ms:.2f} ms\tPhase: init\tStatus: {exc.status or 'error'}\t"
                 f"Error Type: {doc.get('errorType')}",
                 telemetry.start_line(inv.request_id, target.version), telemetry.end_line(inv.request_id),
                 telemetry.report_line(inv.request_id, 0.0, target.memory_mb, 0, None, exc.status or "error",
                                       doc.get("errorType"))]
        for line in lines:
            tel.line(target.account, target.region, target.log_group, stream, line)
        outcome = Outcome(json.dumps(doc).encode(), error=doc.get("errorType") or "Runtime.Unknown",
                          status=exc.status or "error")
        if inv.tail:
            import base64

            shown = exc.lines + lines
            outcome.log_tail = base64.b64encode("".join(s + "\n" for s in shown).encode()[-4096:]).decode()
        return outcome


# -- the Invoke API ----------------------------------------------------------------------------------


def service(ctx):
    return ctx.kumo.services["lambda_"]


def invoke(ctx, p):
    svc = service(ctx)
    ref = ref_of(ctx, p)
    kind = p.get("InvocationType") or "RequestResponse"  # LogType applies to RequestResponse only
    r = svc.engine.resolve(ref.account, ref.region, ref.name, ref.qualifier)
    payload = p.get("Payload") or b""
    if kind == "DryRun":
        svc.engine.check_state(r)
        return {"StatusCode": 204}
    if kind == "Event":
        payload = check_payload(payload, ASYNC_LIMIT)
        svc.engine.check_state(r)
        svc.async_queue.enqueue(ref.account, ref.region, ref.name, ref.qualifier, payload, ctx.request_id,
                                source=None)
        return {"StatusCode": 202}
    payload = check_payload(payload, SYNC_LIMIT)
    svc.engine.check_state(r)
    if p.get("ClientContext"):
        _check_client_context(p["ClientContext"])
    return _invoke_sync(svc, r, payload, ctx.request_id, p.get("LogType") == "Tail", p.get("ClientContext"))


def _check_client_context(text: str) -> None:
    import base64
    import binascii

    try:
        json.loads(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        raise AwsError("InvalidRequestContentException", "Client context must be a valid Base64-encoded JSON object.",
                       fields={"Type": "User"})


async def _invoke_sync(svc, r: Resolved, payload: bytes, request_id: str, tail: bool, client_context: str | None):
    try:
        outcome = await svc.engine.run(r, payload, request_id, tail=tail, client_context=client_context)
    except Throttled as exc:
        raise throttled(exc.reason)
    out = {"StatusCode": 200, "Payload": outcome.payload, "ExecutedVersion": r.version}
    if outcome.failed:
        out["FunctionError"] = "Unhandled"
    if tail:
        out["LogResult"] = outcome.log_tail
    return out


def invoke_async(ctx, p):
    """The deprecated InvokeAsync API: an Event invocation answering 202 {"Status": 202}."""
    svc = service(ctx)
    ref = ref_of(ctx, p, allow_qualifier=False)
    r = svc.engine.resolve(ref.account, ref.region, ref.name, None)
    body = p.get("InvokeArgs") or b""
    if hasattr(body, "read"):
        body = body.read()
    payload = check_payload(body, ASYNC_LIMIT)
    svc.engine.check_state(r)
    svc.async_queue.enqueue(ref.account, ref.region, ref.name, None, payload, ctx.request_id, source=None)
    return {"Status": 202}

