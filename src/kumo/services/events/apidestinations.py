"""API destinations: HTTP endpoints that rules call with their connection's authorization.

An API destination is a record (kind ``events.api-destination``) keyed by name.  A rule delivering to one
queues an invocation (kind ``events.invocation``, in the same transaction as the event that caused it), and
the ``events-api-destinations`` controller makes the HTTP call for real: at most
InvocationRateLimitPerSecond calls a simulated second per destination; an answer of 401, 407, 409, 429 or
5xx, or no answer, is retried with exponential backoff on kumo's clock within the target's RetryPolicy
(MaximumRetryAttempts, default 185; MaximumEventAgeInSeconds, default 86400); any other failure, or
retries exhausted, sends the event to the target's dead-letter queue.  The same controller fetches the
OAuth tokens of connections (connections.py).
"""

from __future__ import annotations

import asyncio
import re
import urllib.parse
import uuid

import aiohttp

from ...aws.errors import AwsError
from ...core import tls
from ...core.controllers import Controller
from . import buses, connections

DESTINATION = "events.api-destination"
INVOCATION = "events.invocation"
CONTROLLER = "events-api-destinations"
HTTP_TIMEOUT = 5.0  # AWS gives an API destination endpoint 5 seconds to answer
RETRIED = {401, 407, 409, 429}
DEFAULT_RATE = 300
DEFAULT_ATTEMPTS = 185
DEFAULT_AGE = 86400
MAX_BACKOFF = 300.0
_NAME = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
_METHODS = ("POST", "GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE")


def _destinations(ctx):
    return ctx.table("api-destination")


def _find(ctx, name: str) -> dict:
    dest = _destinations(ctx).get(name)
    if dest is None:
        raise buses.not_found(f"Failed to describe the api-destination(s). An api-destination '{name}' does not "
                              f"exist.")
    return dest


def _check(ctx, p, dest: dict) -> None:
    if p.get("ConnectionArn") is not None:
        _, conn = connections.by_arn(ctx.store, p["ConnectionArn"])
        if conn is None:
            raise buses.not_found(f"Connection '{p['ConnectionArn']}' does not exist.")
        dest["ConnectionArn"] = p["ConnectionArn"]
    if p.get("InvocationEndpoint") is not None:
        url = urllib.parse.urlsplit(p["InvocationEndpoint"])
        if url.scheme not in ("http", "https") or not url.netloc:
            raise AwsError("ValidationException", f"InvocationEndpoint {p['InvocationEndpoint']} is not a valid URL.")
        dest["InvocationEndpoint"] = p["InvocationEndpoint"]
    if p.get("HttpMethod") is not None:
        if p["HttpMethod"] not in _METHODS:
            raise AwsError("ValidationException", f"HttpMethod {p['HttpMethod']} is not valid.")
        dest["HttpMethod"] = p["HttpMethod"]
    if p.get("InvocationRateLimitPerSecond") is not None:
        if not 1 <= p["InvocationRateLimitPerSecond"] <= 300:
            raise AwsError("ValidationException", "InvocationRateLimitPerSecond must be between 1 and 300.")
        dest["InvocationRateLimitPerSecond"] = p["InvocationRateLimitPerSecond"]
    if p.get("Description") is not None:
        dest["Description"] = p["Description"]


def _summary(dest: dict) -> dict:
    return {k: dest[k] for k in ("ApiDestinationArn", "ApiDestinationState", "CreationTime", "LastModifiedTime")}


def create_api_destination(ctx, p):
    name = p["Name"]
    if not _NAME.match(name):
        raise AwsError("ValidationException", f"ApiDestination name {name} is not valid.")
    if name in _destinations(ctx):
        raise AwsError("ResourceAlreadyExistsException", f"An api-destination '{name}' already exists.")
    dest = {"Name": name, "ApiDestinationArn": ctx.arn(f"api-destination/{name}/{uuid.uuid4()}"),
            "ApiDestinationState": "ACTIVE", "InvocationRateLimitPerSecond": DEFAULT_RATE,
            "CreationTime": ctx.now(), "LastModifiedTime": ctx.now()}
    _check(ctx, p, dest)
    _destinations(ctx).put(name, dest)
    return _summary(dest)


def describe_api_destination(ctx, p):
    return {k: v for k, v in _find(ctx, p["Name"]).items() if not k.startswith("_")}


def update_api_destination(ctx, p):
    dest = _find(ctx, p["Name"])
    _check(ctx, p, dest)
    dest["LastModifiedTime"] = ctx.now()
    _destinations(ctx).put(dest["Name"], dest)
    return _summary(dest)


def delete_api_destination(ctx, p):
    dest = _find(ctx, p["Name"])
    _destinations(ctx).delete(dest["Name"])
    return {}


def list_api_destinations(ctx, p):
    prefix, conn = p.get("NamePrefix") or "", p.get("ConnectionArn")
    found = sorted((d for d in _destinations(ctx).values() if d["Name"].startswith(prefix)
                    and (not conn or d["ConnectionArn"] == conn)), key=lambda d: d["Name"])
    page, token = buses.paginate(found, p, lambda d: d["Name"], f"apidest|{prefix}|{conn}")
    keys = ("ApiDestinationArn", "Name", "ApiDestinationState", "ConnectionArn", "InvocationEndpoint", "HttpMethod",
            "InvocationRateLimitPerSecond", "CreationTime", "LastModifiedTime")
    out = {"ApiDestinations": [{k: d[k] for k in keys if k in d} for d in page]}
    if token:
        out["NextToken"] = token
    return out


# -- rules calling them ---------------------------------------------------------------------------------


def queue(kumo, rule: dict, target: dict, event: dict, payload: str) -> None:
    """Queue one invocation of the API destination ``target`` names (in the caller's transaction)."""
    parts = target["Arn"].split(":")
    scope, name = f"{parts[4]}/{parts[3]}", parts[5].split("/")[1]
    dest = kumo.store.table(scope, DESTINATION).get(name)
    if dest is None or dest["ApiDestinationArn"] != target["Arn"]:
        raise LookupError(f"API destination {target['Arn']} does not exist")
    now = kumo.clock.now()
    kumo.store.table(scope, INVOCATION).put(f"{name}|{now:017.6f}|{uuid.uuid4().hex}", {
        "rule": {"Arn": rule["Arn"], "Name": rule["Name"]}, "target": target, "event": event, "payload": payload,
        "first": now, "next": now, "attempts": 0})
    kumo.controllers.enqueue(CONTROLLER, ("destination", scope, name))


class Dispatcher(Controller):
    name = CONTROLLER
    resync_interval = 60.0

    def __init__(self, kumo):
        self.kumo = kumo
        self._http: aiohttp.ClientSession | None = None
        self._window: dict[tuple[str, str], tuple[int, int]] = {}  # (scope, name) -> (second, calls in it)

    def keys(self):
        store = self.kumo.store
        found = {("destination", scope, key.split("|")[0]) for scope, key, _ in store.all(INVOCATION)}
        found |= {("connection", scope, key) for scope, key, c in store.all(connections.CONNECTION)
                  if c["ConnectionState"] == "AUTHORIZING"}
        return sorted(found)

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _request(self, method: str, url: str, headers: dict, body: bytes | None) -> tuple[int, str]:
        if self._http is None:
            tls.client_ready()
            self._http = aiohttp.ClientSession()
        async with self._http.request(method, url, data=body, headers=headers, allow_redirects=False,
                                      timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT)) as resp:
            return resp.status, (await resp.read()).decode("utf-8", "replace")

    async def reconcile(self, key):
        if key[0] == "connection":
            await self.authorize(key[1], key[2])
            return None
        return await self._dispatch(key[1], key[2])

    # -- OAuth --------------------------------------------------------------------------------------------
    async def authorize(self, scope: str, name: str) -> None:
        store = self.kumo.store
        conn = store.table(scope, connections.CONNECTION).get(name)
        if conn is None or conn["AuthorizationType"] != "OAUTH_CLIENT_CREDENTIALS":
            return
        try:
            status, text = await self._request(*connections.token_request(conn))
            token, reason = connections.read_token(status, text, self.kumo.clock.now()), None
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError, KeyError) as exc:
            token, reason = None, str(exc) or type(exc).__name__
        with store.transaction():
            table = store.table(scope, connections.CONNECTION)
            conn = table.get(name)
            if conn is None:
                return
            if token is not None:
                conn.update(_token=token, ConnectionState="AUTHORIZED", LastAuthorizedTime=self.kumo.clock.now())
                conn.pop("StateReason", None)
            else:
                conn.pop("_token", None)
                conn.update(ConnectionState="DEAUTHORIZED", StateReason=reason)
            table.put(name, conn)

    # -- invocations ----------------------------------------------------------------------------------------
    async def _dispatch(self, scope: str, name: str) -> float | None:
        store, clock = self.kumo.store, self.kumo.clock
        prefix = name + "|"
        while True:
            now = clock.now()
            pending = sorted((k, v) for k, v in store.table(scope, INVOCATION).items() if k.startswith(prefix))
            if not pending:
                return None
            due = [(k, v) for k, v in pending if v["next"] <= now + 1e-6]
            if not due:
                return min(v["next"] for _, v in pending) - now
            dest = store.table(scope, DESTINATION).get(name)
            second, calls = self._window.get((scope, name), (int(now), 0))
            if second != int(now):
                second, calls = int(now), 0
            if dest is not None and calls >= dest["InvocationRateLimitPerSecond"]:
                return second + 1 - now  # this second's calls are spent: on at the next one
            self._window[(scope, name)] = (second, calls + 1)
            inv_key, inv = due[0]
            ok, retryable, code, why = await self._call(dest, inv)
            with store.transaction():
                self._settle(scope, inv_key, ok, retryable, code, why)

    async def _call(self, dest: dict | None, inv: dict) -> tuple[bool, bool, str, str]:
        """(delivered, worth retrying, error code, why not)."""
        if dest is None or dest["ApiDestinationArn"] != inv["target"]["Arn"]:
            return False, False, "RESOURCE_NOT_FOUND", f"API destination {inv['target']['Arn']} does not exist"
        cscope, conn = connections.by_arn(self.kumo.store, dest["ConnectionArn"])
        if conn is None:
            return False, False, "RESOURCE_NOT_FOUND", f"Connection {dest['ConnectionArn']} does not exist"
        token = conn.get("_token")
        if conn["AuthorizationType"] == "OAUTH_CLIENT_CREDENTIALS" and conn["ConnectionState"] == "AUTHORIZED" and (
                not token or token["expires"] <= self.kumo.clock.now()):
            await self.authorize(cscope, conn["Name"])  # the token expired on kumo's clock: fetch a new one
            conn = self.kumo.store.table(cscope, connections.CONNECTION).get(conn["Name"]) or conn
        try:
            headers, query, _ = connections.request_parts(conn)
        except ValueError as exc:
            return False, False, "SDK_CLIENT_ERROR", str(exc)
        http = inv["target"].get("HttpParameters") or {}
        url = dest["InvocationEndpoint"]
        for value in http.get("PathParameterValues") or []:
            url = url.replace("*", urllib.parse.quote(value, safe=""), 1)
        query.update(http.get("QueryStringParameters") or {})
        if query:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
        headers.update(http.get("HeaderParameters") or {})
        headers.setdefault("Content-Type", "application/json; charset=utf-8")
        headers.setdefault("User-Agent", "Amazon/EventBridge/ApiDestinations")
        body = None if dest["HttpMethod"] in ("GET", "HEAD") else inv["payload"].encode()
        try:
            status, _ = await self._request(dest["HttpMethod"], url, headers, body)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
            return False, True, "SDK_CLIENT_ERROR", f"Unable to invoke ApiDestination endpoint: {exc!r}"
        if 200 <= status < 300:
            return True, False, "", ""
        why = f"Unable to invoke ApiDestination endpoint: The endpoint responded with HTTP {status}."
        return False, status in RETRIED or status >= 500, "SDK_CLIENT_ERROR", why

    def _settle(self, scope: str, inv_key: str, ok: bool, retryable: bool, code: str, why: str) -> None:
        from .targets import dead_letter

        invocations = self.kumo.store.table(scope, INVOCATION)
        inv = invocations.get(inv_key)
        if inv is None:
            return
        now = self.kumo.clock.now()
        policy = inv["target"].get("RetryPolicy") or {}
        attempts = policy.get("MaximumRetryAttempts", DEFAULT_ATTEMPTS)
        max_age = policy.get("MaximumEventAgeInSeconds", DEFAULT_AGE)
        if ok:
            invocations.delete(inv_key)
            return
        delay = min(2.0 ** inv["attempts"], MAX_BACKOFF)
        if retryable and inv["attempts"] < attempts and now + delay - inv["first"] <= max_age:
            inv["attempts"] += 1
            inv["next"] = now + delay
            invocations.put(inv_key, inv)
            return
        invocations.delete(inv_key)
        if retryable:
            why = f"{why} Retries exhausted after {inv['attempts']} attempts."
        dead_letter(self.kumo, inv["rule"], inv["target"], inv["event"], code, why)

