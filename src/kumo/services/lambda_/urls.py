"""Function URLs: a dedicated HTTP endpoint per function (or alias) that invokes it with AWS's event.

AWS gives each URL a host name ``<url-id>.lambda-url.<region>.on.aws``.  kumo
gives each one an address of its own on the loopback network
(``127.<base+3>.x.y``, kept across restarts) on kumo's own port, and reports
``http://<address>:<port>/`` as the FunctionUrl, so it is reachable with
nothing to resolve.  A request becomes AWS's payload format 2.0 event
(rawPath, rawQueryString, cookies, headers, queryStringParameters,
requestContext.http, body with isBase64Encoded); the function's answer is read
as AWS reads it: an object with ``statusCode`` gives the status, headers,
cookies and body, anything else is returned as JSON with 200.  AuthType
NONE serves anyone; AWS_IAM requires a SigV4-signed request (for the service
``lambda``), verified with ``--enforce-signatures`` like every API call and
only read without it.  Function errors answer 502,
throttles 429.  InvokeMode RESPONSE_STREAM is accepted and answered buffered.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as _dt
import json
import logging
import secrets
import string
import uuid

from aiohttp import web

from ...aws.errors import AwsError
from ...core.controllers import Controller
from ...core.loopback import LoopbackPool, network
from .functions import paginate, ref_of, require
from .model import ALIAS, URL, conflict, invalid, not_found, timestamp

log = logging.getLogger("kumo.lambda")
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
               "application/x-www-form-urlencoded", "+json", "+xml")


def _url_id() -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(32))


class UrlServer:
    """One aiohttp application serving every function URL, one site per URL address.

    Only the controller (``Urls.reconcile`` -> ``sync``) opens and closes the sites; handlers record the URL,
    enqueue its address and, after their transaction committed, wait (``settled``) for the controller to
    have served it, so a URL answers as soon as CreateFunctionUrlConfig does.
    """

    SETTLE_WAIT = 10.0  # simulated seconds a handler waits for the controller at most

    def __init__(self, service):
        self.service = service
        self.kumo = service.kumo
        self.pool = LoopbackPool(network(self.kumo.settings.loopback_base, 3), "lambda.loopback")
        self._runner: web.AppRunner | None = None
        self._sites: dict[str, web.TCPSite] = {}
        self._waiters: dict[str, list[asyncio.Future]] = {}

    def port(self) -> int:
        return int(self.kumo.port or self.kumo.settings.port)

    def allocate(self, owner: str) -> str:
        return self.pool.allocate(self.kumo.store, owner)

    def forget(self, record: dict) -> None:
        """Release a deleted URL's address (inside the caller's transaction) and stop serving it."""
        self.pool.release(self.kumo.store, record.get("_address"))
        self.kumo.controllers.enqueue(NAME, record.get("_address"))

    def _wanted(self, address: str) -> bool:
        return any(rec.get("_address") == address for _sc, _k, rec in self.kumo.store.all(URL))

    async def settled(self, address: str) -> None:
        """Wait until the controller has served ``address`` as the records now want it (bounded)."""
        if self._wanted(address) == (address in self._sites):
            return
        done = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(address, []).append(done)
        try:
            await self.kumo.clock.wait_for(asyncio.shield(done), self.SETTLE_WAIT)
        except asyncio.TimeoutError:
            pass  # answer anyway: the controller keeps trying, as after any failure
        finally:
            waiting = self._waiters.get(address, [])
            if done in waiting:
                waiting.remove(done)
            if not waiting:
                self._waiters.pop(address, None)

    async def sync(self, address: str) -> None:
        """Open or close the site of ``address`` as the records want it (the controller's work only)."""
        try:
            await self._sync(address)
        finally:
            for done in self._waiters.pop(address, []):
                if not done.done():
                    done.set_result(None)

    async def _sync(self, address: str) -> None:
        wanted = self._wanted(address)
        if wanted and address not in self._sites:
            if self._runner is None:
                app = web.Application(client_max_size=7 * 1024 * 1024)
                app.router.add_route("*", "/{tail:.*}", self.handle)
                self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
                await self._runner.setup()
            site = web.TCPSite(self._runner, address, self.port(), reuse_address=True)
            try:
                await site.start()
            except OSError as exc:
                log.error("function URL %s cannot be served on port %d: %s", address, self.port(), exc)
                return
            self._sites[address] = site
        elif not wanted and address in self._sites:
            await self._sites.pop(address).stop()

    async def close(self) -> None:
        for site in list(self._sites.values()):
            await site.stop()
        self._sites.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _record_for(self, address: str) -> tuple[str, dict] | None:
        for sc, _key, rec in self.kumo.store.all(URL):
            if rec.get("_address") == address:
                return sc, rec
        return None

    # -- serving ----------------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        from .invoke import Throttled

        sock = request.transport.get_extra_info("sockname") if request.transport else None
        found = self._record_for(sock[0]) if sock else None
        if found is None:
            return web.json_response({"Message": "Not Found"}, status=404)
        sc, rec = found
        account, region = sc.split("/")
        cors = rec.get("Cors") or {}
        if request.method == "OPTIONS" and cors and request.headers.get("Access-Control-Request-Method"):
            return web.Response(status=200, headers=_cors_headers(cors, request, preflight=True))
        if rec["AuthType"] == "AWS_IAM" and not request.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256"):
            return web.json_response({"Message": "Forbidden"}, status=403)
        body = await request.read()
        verifier = self.kumo.gateway.signatures
        if rec["AuthType"] == "AWS_IAM" and verifier is not None:
            try:
                verifier.check(request.method, request.raw_path.partition("?")[0] or "/", request.query_string,
                               request.headers, body, fam="rest", service="lambda")
            except AwsError as exc:
                return web.json_response({"Message": exc.message}, status=exc.status,
                                         headers={"x-amzn-ErrorType": exc.code})
        request_id = str(uuid.uuid4())
        event = _event(request, body, rec, account, request_id, self.kumo.clock.now())
        engine = self.service.engine
        try:
            r = engine.resolve(account, region, rec["_function"], rec.get("_qualifier"))
            engine.check_state(r)
            outcome = await engine.run(r, json.dumps(event).encode(), request_id)
        except Throttled:
            return web.json_response({"Message": "Rate Exceeded."}, status=429,
                                     headers={"x-amzn-RequestId": request_id})
        except Exception as exc:  # the function is gone or not ready
            log.info("function URL %s: %s", rec["FunctionUrl"], exc)
            return web.json_response({"Message": "Internal Server Error"}, status=502,
                                     headers={"x-amzn-RequestId": request_id})
        if outcome.failed:
            return web.json_response({"Message": "Internal Server Error"}, status=502,
                                     headers={"x-amzn-RequestId": request_id, "x-amzn-ErrorType": outcome.error})
        response = _response(outcome.payload)
        response.headers["x-amzn-RequestId"] = request_id
        for k, v in _cors_headers(cors, request, preflight=False).items():
            response.headers.setdefault(k, v)
        return response


def _event(request: web.Request, body: bytes, rec: dict, account: str, request_id: str, now: float) -> dict:
    """The function URL's event (payload format 2.0); ``now`` is the request's time on kumo's clock."""
    headers: dict[str, str] = {}
    for k, v in request.headers.items():
        key = k.lower()
        headers[key] = f"{headers[key]},{v}" if key in headers else v
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    query: dict[str, str] = {}
    for k, v in request.query.items():
        query[k] = f"{query[k]},{v}" if k in query else v
    url_id = rec["_url_id"]
    ctype = request.headers.get("Content-Type", "")
    textual = any(t in ctype for t in _TEXT_TYPES) or not ctype
    try:
        text, encoded = (body.decode("utf-8"), False) if textual else (base64.b64encode(body).decode(), True)
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    event = {
        "version": "2.0", "routeKey": "$default", "rawPath": request.path,
        "rawQueryString": request.query_string, "headers": headers,
        "requestContext": {
            "accountId": "anonymous" if rec["AuthType"] == "NONE" else account, "apiId": url_id,
            "domainName": request.host, "domainPrefix": url_id,
            "http": {"method": request.method, "path": request.path, "protocol": f"HTTP/{request.version.major}."
                     f"{request.version.minor}", "sourceIp": request.remote or "",
                     "userAgent": request.headers.get("User-Agent", "")},
            "requestId": request_id, "routeKey": "$default", "stage": "$default",
            "time": _dt.datetime.fromtimestamp(now, _dt.timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"] = text
    return event


def _response(payload: bytes) -> web.Response:
    try:
        doc = json.loads(payload) if payload else None
    except ValueError:
        doc = None
    if isinstance(doc, dict) and "statusCode" in doc:
        raw = doc.get("body")
        if raw is None:
            data = b""
        elif doc.get("isBase64Encoded"):
            data = base64.b64decode(raw)
        else:
            data = (raw if isinstance(raw, str) else json.dumps(raw)).encode()
        headers = {str(k): str(v) for k, v in (doc.get("headers") or {}).items()}
        resp = web.Response(status=int(doc["statusCode"]), body=data, headers=headers)
        for cookie in doc.get("cookies") or []:
            resp.headers.add("Set-Cookie", str(cookie))
        if "Content-Type" not in resp.headers and "content-type" not in headers:
            resp.headers["Content-Type"] = "application/json"
        return resp
    return web.Response(status=200, body=payload, headers={"Content-Type": "application/json"})


def _cors_headers(cors: dict, request: web.Request, preflight: bool) -> dict:
    if not cors:
        return {}
    out = {}
    origins = cors.get("AllowOrigins") or []
    origin = request.headers.get("Origin")
    if "*" in origins:
        out["Access-Control-Allow-Origin"] = "*"
    elif origin and origin in origins:
        out["Access-Control-Allow-Origin"] = origin
    if cors.get("AllowCredentials"):
        out["Access-Control-Allow-Credentials"] = "true"
    if cors.get("ExposeHeaders"):
        out["Access-Control-Expose-Headers"] = ",".join(cors["ExposeHeaders"])
    if preflight:
        if cors.get("AllowMethods"):
            out["Access-Control-Allow-Methods"] = ",".join(cors["AllowMethods"])
        if cors.get("AllowHeaders"):
            out["Access-Control-Allow-Headers"] = ",".join(cors["AllowHeaders"])
        if cors.get("MaxAge"):
            out["Access-Control-Max-Age"] = str(cors["MaxAge"])
    return out


# -- the API --------------------------------------------------------------------------------------------

NAME = "lambda-urls"


def _key(ctx, p) -> tuple[str, str, str | None]:
    ref = ref_of(ctx, p)
    require(ctx, ref)
    q = ref.qualifier
    if q == "$LATEST":
        q = None
    if q is not None:
        if q.isdigit():
            raise invalid("Function URLs are not supported for function versions: use an alias.")
        if f"{ref.name}:{q}" not in ctx.store.table(ctx.scope, ALIAS):
            raise not_found(f"Cannot find alias arn: {ref.arn(q)}")
    return f"{ref.name}:{q or ''}", ref.name, q


def create_function_url_config(ctx, p):
    key, name, q = _key(ctx, p)
    table = ctx.store.table(ctx.scope, URL)
    fn_arn = f"arn:aws:lambda:{ctx.region}:{ctx.account}:function:{name}" + (f":{q}" if q else "")
    if key in table:
        raise conflict(f"Failed to create function url config for [functionArn = {fn_arn}]. Error message:  "
                       "FunctionUrlConfig exists for this Lambda function")
    urls = ctx.kumo.services["lambda_"].urls
    address = urls.allocate(fn_arn)
    now = timestamp(ctx.now())
    rec = {"FunctionUrl": f"http://{address}:{urls.port()}/", "FunctionArn": fn_arn, "AuthType": p["AuthType"],
           "CreationTime": now, "LastModifiedTime": now, "InvokeMode": p.get("InvokeMode") or "BUFFERED",
           "_address": address, "_url_id": _url_id(), "_function": name, "_qualifier": q}
    if p.get("Cors"):
        rec["Cors"] = p["Cors"]
    table.put(key, rec)
    ctx.controllers.enqueue(NAME, address)
    ctx.after(lambda: urls.settled(address))
    return rec


def _existing(ctx, p) -> tuple[str, dict]:
    key, name, q = _key(ctx, p)
    rec = ctx.store.table(ctx.scope, URL).get(key)
    if rec is None:
        raise not_found("The resource you requested does not exist.")
    return key, rec


def get_function_url_config(ctx, p):
    return _existing(ctx, p)[1]


def update_function_url_config(ctx, p):
    key, rec = _existing(ctx, p)
    for k in ("AuthType", "Cors", "InvokeMode"):
        if k in p:
            rec[k] = p[k]
    rec["LastModifiedTime"] = timestamp(ctx.now())
    ctx.store.table(ctx.scope, URL).put(key, rec)
    return rec


def delete_function_url_config(ctx, p):
    key, rec = _existing(ctx, p)
    ctx.store.table(ctx.scope, URL).delete(key)
    urls = ctx.kumo.services["lambda_"].urls
    urls.forget(rec)
    ctx.after(lambda: urls.settled(rec["_address"]))
    return {}


def list_function_url_configs(ctx, p):
    ref = ref_of(ctx, p, allow_qualifier=False)
    require(ctx, ref)
    items = [rec for k, rec in sorted(ctx.store.table(ctx.scope, URL).items()) if rec["_function"] == ref.name]
    page, marker = paginate(items, p.get("Marker"), p.get("MaxItems"))
    out = {"FunctionUrlConfigs": page}
    if marker:
        out["NextMarker"] = marker
    return out


class Urls(Controller):
    """Serves every function URL (also after a restart)."""

    name = NAME
    resync_interval = 300.0

    def __init__(self, server: UrlServer):
        self.server = server

    def keys(self):
        return [rec["_address"] for _sc, _k, rec in self.server.kumo.store.all(URL) if rec.get("_address")]

    async def reconcile(self, key):
        if key:
            await self.server.sync(key)
        return None

    async def stop(self) -> None:
        await self.server.close()

    async def reset(self) -> None:
        await self.server.close()

