"""Lambda: functions that really run as local runtime processes behind the real Lambda Runtime API.

``setup(kumo)`` returns the running service (``kumo.services["lambda_"]``),
which other services use through ``invoke_async`` (SNS subscriptions,
EventBridge targets, destinations) and which registers alarm actions for
function ARNs.  docs/lambda.md describes the design.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web

from ...core import credentials, ids
from ...core.controllers import Controller
from . import activation, asyncq, code, esm, telemetry, urls
from .concurrency import PROVISIONING, Limiter
from .environments import InitFailed, Target
from .fleet import Fleet
from .invoke import Engine, Resolved
from .model import FUNCTION, LAYER_VERSION, PROVISIONED, VERSION, parse_arn_function
from .sandbox import Sandbox

log = logging.getLogger("kumo.lambda")
CREDENTIAL_LIFETIME = 12 * 3600.0
ENV_PATH = "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"


class LambdaService:
    def __init__(self, kumo):
        self.kumo = kumo
        self.sandbox = Sandbox(kumo.settings)
        self.telemetry = telemetry.Telemetry(kumo)
        self.fleet = Fleet(kumo, self.sandbox, self.telemetry, self.environment_for)
        self.unpacker = code.Unpacker(kumo)
        self.limiter = Limiter(kumo)
        self.engine = Engine(self)
        self.async_queue = asyncq.AsyncQueue(self)
        self.urls = urls.UrlServer(self)
        self._credentials: dict[tuple, dict] = {}

    # -- the seam for other services -------------------------------------------------------------------
    async def invoke_async(self, function_arn: str, payload, source_arn: str | None = None) -> str:
        """Queue an asynchronous invocation (Event) of a function ARN; LookupError when it does not exist.

        ``payload`` is bytes or a JSON-able object.  Returns the invocation's request id once the event is
        durably queued; retries, destinations and DLQs then follow the function's configuration.
        """
        return self.queue_event(function_arn, payload, source_arn)

    def queue_event(self, function_arn: str, payload, source_arn: str | None = None) -> str:
        """``invoke_async`` for callers inside a transaction of their own: the event commits with it."""
        parts = parse_arn_function(function_arn)
        if parts is None:
            raise LookupError(f"{function_arn} is not a Lambda function ARN")
        account, region, name, qualifier = parts
        try:
            r = self.engine.resolve(account, region, name, qualifier)
        except Exception as exc:
            raise LookupError(f"Function not found: {function_arn}") from exc
        body = payload if isinstance(payload, (bytes, bytearray)) else json.dumps(payload).encode()
        request_id = ids.request_id()
        with self.kumo.store.transaction():
            self.async_queue.enqueue(account, region, r.name, qualifier, bytes(body), request_id, source_arn)
        return request_id

    # -- helpers the API modules use ------------------------------------------------------------------
    async def layer_dir(self, arn: str) -> str:
        from .layers import find_version_by_arn

        version = find_version_by_arn(self.kumo.store, arn)
        if version is None:
            raise LookupError(f"layer version {arn} does not exist")
        return await self.unpacker.ensure(version["_code"]["sha"])

    def release_code(self, sha: str) -> None:
        """Forget a stored zip once nothing refers to it (inside the caller's transaction)."""
        for kind in (FUNCTION, VERSION, LAYER_VERSION):
            for _sc, _key, rec in self.kumo.store.all(kind):
                if rec.get("_code", {}).get("sha") == sha:
                    return
        code.forget(self.kumo.store, sha)
        if not any(sha in e.target.code_dir or any(sha in d for d in e.target.layer_dirs) for e in self.fleet.all):
            self.unpacker.remove(sha)

    def drop_environments(self, account: str, region: str, name: str, version: str | None):
        """A settle function for ctx.after: kill a function's environments and wait until they are gone."""

        async def settle():
            envs = self.fleet.drop(account, region, name, version)
            await self.fleet.wait_closed(envs)
        return settle

    def routing_changed(self, alias_key: str) -> None:
        pass  # aliases are read on every invocation; nothing is cached beyond the spread of draws

    def handles(self, account: str, region: str, name: str) -> list:
        """The compute handles of a function's running environments (kumo's tests and tools read them)."""
        return [e.launched.handle for e in list(self.fleet.all)
                if e.launched is not None and e.target.key[:3] == (account, region, name)]

    def has_provisioned(self, r: Resolved) -> bool:
        pool = self.fleet.existing((r.account, r.region, r.name, r.version))
        return bool(pool and pool.provisioned)

    # -- what an environment sees -----------------------------------------------------------------------
    def environment_for(self, env, address: str, task_root: str, opt_dir: str, runtime_dir: str) -> dict:
        t: Target = env.target
        config = t.config
        out = {
            "PATH": ENV_PATH, "LANG": "en_US.UTF-8", "TZ": ":UTC",
            "LD_LIBRARY_PATH": f"/var/lang/lib:/lib64:/usr/lib64:{runtime_dir}:{runtime_dir}/lib:{task_root}:"
                               f"{task_root}/lib:{opt_dir}/lib",
        }
        out.update((config.get("Environment") or {}).get("Variables") or {})
        out.update(t.launch.environment(task_root, opt_dir, runtime_dir))
        out.update({
            "_HANDLER": config.get("Handler") or "",
            "AWS_REGION": t.region, "AWS_DEFAULT_REGION": t.region,
            "AWS_LAMBDA_FUNCTION_NAME": t.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(t.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": t.version,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency" if env.provisioned else "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": t.log_group, "AWS_LAMBDA_LOG_STREAM_NAME": env.stream,
            "AWS_LAMBDA_RUNTIME_API": address,
            "LAMBDA_TASK_ROOT": task_root, "LAMBDA_RUNTIME_DIR": runtime_dir,
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "AWS_ENDPOINT_URL": self.kumo.endpoint,
        })
        if (config.get("LoggingConfig") or {}).get("LogFormat") == "JSON":
            out["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
            out["AWS_LAMBDA_LOG_LEVEL"] = config["LoggingConfig"].get("ApplicationLogLevel", "INFO")
        out.update(self._role_credentials(t))
        return out

    def _role_credentials(self, t: Target) -> dict:
        from ..iam import internal as iam

        role_arn = t.config.get("Role") or ""
        parts = role_arn.split(":", 5)
        if len(parts) != 6:
            return {}
        key = (parts[4], role_arn, t.account, t.name)
        now = self.kumo.clock.now()
        cached = self._credentials.get(key)
        if cached is None or cached["expiration"] - now < 3600:
            role = iam.role_named_by(self.kumo.store, role_arn)
            if role is None:
                return {}
            access, secret, token = ids.access_key_id(temporary=True), ids.secret_access_key(), ids.session_token()
            with self.kumo.store.transaction():
                credentials.register(self.kumo.store, access, account=parts[4],
                                     arn=f"arn:aws:sts::{parts[4]}:assumed-role/{role.name}/{t.name}",
                                     user_id=f"{role.role_id}:{t.name}", secret=secret, session_token=token,
                                     expiration=now + CREDENTIAL_LIFETIME)
                if cached is not None:
                    credentials.forget(self.kumo.store, cached["AWS_ACCESS_KEY_ID"])
            cached = self._credentials[key] = {"AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": secret,
                                               "AWS_SESSION_TOKEN": token, "expiration": now + CREDENTIAL_LIFETIME}
        return {k: v for k, v in cached.items() if k != "expiration"}

    # -- lifecycle --------------------------------------------------------------------------------------
    async def stop(self) -> None:
        # Nothing may start an environment once they are being stopped: pollers and queued events first.
        for name in (esm.NAME, asyncq.NAME):
            controller = self.kumo.controllers.get(name)
            if controller is not None:
                await controller.stop()
        await self.fleet.stop()
        self.telemetry.flush_now()
        self.sandbox.close()

    async def reset(self) -> None:
        await self.fleet.stop()
        self.fleet.closing = False
        self.telemetry.flush_now()
        self.async_queue.wipe()
        code.wipe(self.kumo.store)
        self._credentials.clear()

    async def serve_code(self, request: web.Request) -> web.StreamResponse:
        sha = request.match_info["sha"].removesuffix(".zip")
        data = code.load(self.kumo.store, sha) if len(sha) == 64 else None
        if data is None:
            return web.Response(status=404, text="NoSuchKey")
        return web.Response(body=data, content_type="application/zip")

    def alarm_action(self, arn: str, context: dict):
        """CloudWatch alarm actions naming a function: an asynchronous invocation with AWS's alarm event."""
        return self.invoke_async(arn, alarm_event(context), source_arn=context.get("AlarmArn"))


def alarm_event(context: dict) -> dict:
    """The event CloudWatch sends to a Lambda alarm action."""
    kumo_info = context.get("kumo") or {}
    alarm = kumo_info.get("alarm") or {}

    def state(value, reason, reason_data, ts):
        out = {"value": value, "reason": reason, "timestamp": ts}
        if reason_data:
            out["reasonData"] = reason_data
        return out

    configuration: dict = {"description": context.get("AlarmDescription") or ""}
    if alarm.get("AlarmRule"):
        configuration["alarmRule"] = alarm["AlarmRule"]
    elif alarm.get("Metrics"):
        configuration["metrics"] = [_metric_query(m) for m in alarm["Metrics"]]
    elif alarm.get("MetricName"):
        stat = {"metric": {"namespace": alarm.get("Namespace"), "name": alarm.get("MetricName"),
                           "dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions") or []}},
                "period": alarm.get("Period"), "stat": alarm.get("Statistic") or alarm.get("ExtendedStatistic")}
        if alarm.get("Unit"):
            stat["unit"] = alarm["Unit"]
        configuration["metrics"] = [{"id": "m1", "metricStat": stat, "returnData": True}]
    return {
        "source": "aws.cloudwatch",
        "alarmArn": context.get("AlarmArn"),
        "accountId": context.get("AWSAccountId"),
        "time": context.get("StateChangeTime"),
        "region": kumo_info.get("region") or context.get("Region"),
        "alarmData": {
            "alarmName": context.get("AlarmName"),
            "state": state(context.get("NewStateValue"), context.get("NewStateReason"),
                           alarm.get("StateReasonData"), context.get("StateChangeTime")),
            "previousState": state(context.get("OldStateValue"), alarm.get("_previous_reason") or "",
                                   None, context.get("StateChangeTime")),
            "configuration": configuration,
        },
    }


def _metric_query(m: dict) -> dict:
    out = {"id": m.get("Id"), "returnData": m.get("ReturnData", True)}
    if m.get("Expression"):
        out["expression"] = m["Expression"]
    if m.get("MetricStat"):
        ms = m["MetricStat"]
        metric = ms.get("Metric") or {}
        out["metricStat"] = {"metric": {"namespace": metric.get("Namespace"), "name": metric.get("MetricName"),
                                        "dimensions": {d["Name"]: d["Value"] for d in metric.get("Dimensions") or []}},
                             "period": ms.get("Period"), "stat": ms.get("Stat")}
    return out


def is_function_arn(arn: str) -> bool:
    return isinstance(arn, str) and arn.startswith("arn:aws:lambda:") and ":function:" in arn


class Provisioning(Controller):
    """Keeps each provisioned concurrency config's environments initialised (READY), or says why not (FAILED)."""

    name = PROVISIONING
    resync_interval = 60.0

    def __init__(self, service: LambdaService):
        self.service = service
        self.kumo = service.kumo

    def keys(self):
        return [(sc, key) for sc, key, _ in self.kumo.store.all(PROVISIONED)]

    async def reconcile(self, key):
        sc, name_q = key
        account, region = sc.split("/")
        name, qualifier = name_q.split(":", 1)
        store = self.kumo.store
        rec = store.table(sc, PROVISIONED).get(name_q)
        engine, fleet = self.service.engine, self.service.fleet
        version = qualifier
        if not qualifier.isdigit():
            alias = store.table(sc, "lambda.alias").get(name_q)
            version = alias["FunctionVersion"] if alias else None
        if rec is None or version is None:
            for pool in fleet.pools.values():
                if pool.target.key[:3] == (account, region, name) and (version is None or
                                                                        pool.target.version == version):
                    pool.provisioned = 0
                    for env in pool.envs:
                        env.provisioned = False
            return None
        try:
            r = engine.resolve(account, region, name, version)
            if r.config.get("State") != "Active":
                return 1.0
            target = await engine.target(r)
        except Exception as exc:
            self._status(sc, name_q, "FAILED", 0, str(exc))
            return None
        pool = fleet.pool(target)
        wanted = rec["RequestedProvisionedConcurrentExecutions"]
        pool.provisioned = wanted
        ready = [e for e in pool.envs if e.provisioned and e.state in ("ready", "busy")]
        missing = wanted - len(ready)
        failure = None
        if missing > 0:
            envs = [pool.new_environment(provisioned=True) for _ in range(missing)]
            for env in envs:
                try:
                    await env.ready
                    if env.state == "ready" and env.current is None and env not in pool.idle:
                        pool.idle.append(env)
                except InitFailed as exc:
                    failure = exc.doc.get("errorMessage", "init failed").replace("{rid}", "")
        elif missing < 0:
            for env in [e for e in ready if e.state == "ready"][: -missing]:
                env.provisioned = False
        count = len([e for e in pool.envs if e.provisioned and e.state in ("ready", "busy")])
        if failure:
            self._status(sc, name_q, "FAILED", count, f"FUNCTION_ERROR_INIT_FAILURE: {failure}")
            return None
        self._status(sc, name_q, "READY" if count >= wanted else "IN_PROGRESS", count, None)
        return None if count >= wanted else 1.0

    def _status(self, sc: str, key: str, status: str, count: int, reason: str | None) -> None:
        table = self.kumo.store.table(sc, PROVISIONED)
        rec = table.get(key)
        if rec is None:
            return
        rec.update(Status=status, AvailableProvisionedConcurrentExecutions=count,
                   AllocatedProvisionedConcurrentExecutions=count)
        if reason:
            rec["StatusReason"] = reason
        else:
            rec.pop("StatusReason", None)
        with self.kumo.store.transaction():
            table.put(key, rec)


def _policy_or_missing(kumo, arn: str) -> str:
    from . import internal

    if internal.resource_tags(kumo, arn) is None:
        raise LookupError(arn)
    return internal.resource_policy(kumo, arn) or ""


def setup(kumo):
    kumo.store.ensure_schema(code.SCHEMA)
    kumo.store.ensure_schema(asyncq.SCHEMA)
    service = LambdaService(kumo)
    kumo.controllers.register(activation.Activation(kumo, service))
    kumo.controllers.register(asyncq.Dispatcher(service.async_queue))
    kumo.controllers.register(esm.Mappings(service))
    kumo.controllers.register(Provisioning(service))
    kumo.controllers.register(urls.Urls(service.urls))
    kumo.actions.register(is_function_arn, service.alarm_action)
    kumo.functions.register(lambda arn: _policy_or_missing(kumo, arn), service.queue_event)
    kumo.route("GET", "/_kumo/lambda/code/{sha}", service.serve_code)
    kumo.on_reset(service.reset)
    kumo.on_stop(service.stop)
    return service
