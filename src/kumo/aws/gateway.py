"""The AWS edge: one HTTP handler in front of every service.

bytes -> route -> params -> validate -> handler -> result -> bytes.  It knows
no service: handlers are found by name in ``kumo.services.<package>.api``
(``GetCallerIdentity`` -> ``get_caller_identity``), and anything missing
answers 501 NotImplemented in the service's own error shape.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import time
from types import ModuleType
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from botocore import xform_name

from ..core import credentials
from ..core.ids import request_id as new_request_id
from . import authorize, errors, offload, routing, specs, timing, validation
from .auth import account_from_access_key, read_signature
from .context import Identity, RequestContext
from .errors import AwsError, ProtocolError
from .protocols import HttpRequest, HttpResponse, parse_request, serialize_error, serialize_response

if TYPE_CHECKING:  # pragma: no cover
    from ..server import Kumo

log = logging.getLogger("kumo.gateway")
DEFAULT_MAX_BODY = 10 * 1024 * 1024


class Gateway:
    def __init__(self, kumo: "Kumo"):
        self.kumo = kumo
        self._modules: dict[str, ModuleType | None] = {}
        self.requests = 0
        self.internal_errors = 0
        self.signatures = None
        if kumo.settings.enforce_signatures:  # botocore's credentials and signer: 1.8 MiB a kumo without it lacks
            from . import sigv4

            self.signatures = sigv4.Verifier(kumo)

    # -- services ----------------------------------------------------------------
    def api_module(self, spec: specs.ServiceSpec) -> ModuleType | None:
        if spec.name not in self._modules:
            try:
                self._modules[spec.name] = importlib.import_module(f"kumo.services.{spec.package}.api")
            except ModuleNotFoundError as exc:
                if exc.name and exc.name.startswith(f"kumo.services.{spec.package}"):
                    self._modules[spec.name] = None
                else:
                    raise
        return self._modules[spec.name]

    def service_states(self) -> dict[str, str]:
        """Each service's state, without importing its handlers (health must not load every service)."""
        from ..registry import implemented

        states = {}
        loaded = specs.loaded()
        services = self.kumo.services
        for name, spec in specs.SERVICES.items():
            if not implemented(spec.package):
                states[name] = "not implemented"
            else:
                running = name in loaded or dict.get(services, spec.package) is not None
                states[name] = "running" if running else "available"
        return states

    # -- identity ------------------------------------------------------------------
    def identify(self, signature) -> Identity:
        default = self.kumo.settings.account_id
        if signature is None:
            return Identity.root(default)
        key = signature.access_key
        record = credentials.lookup(self.kumo.store, key)
        if record is not None:
            if record.get("Status") == "Inactive":
                raise AwsError("InvalidClientTokenId", "The security token included in the request is invalid.",
                               status=403)
            expiration = record.get("Expiration")
            if expiration is not None and self.kumo.clock.now() >= expiration:
                raise AwsError("ExpiredToken", "The security token included in the request is expired", status=400)
            return Identity(record["Account"], record["Arn"], record["UserId"], key, expiration)
        return Identity.root(account_from_access_key(key) or default, key)

    # -- the handler ---------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.Response:
        refused = self.kumo.guard.screen(request)  # a web page's request, or /_kumo/* under a foreign host
        if refused is not None:
            return refused
        started = time.perf_counter()  # real-time measurement: the request's latency, for the log
        self.requests += 1
        rid = new_request_id()
        headers = request.headers
        path = request.raw_path.partition("?")[0] or "/"
        query = request.query_string
        protocol = routing.guess_protocol(headers, path)
        model = None
        signature = read_signature(headers, query)
        try:
            if signature is not None:
                _check_credential(signature)
            pre = routing.pre_route(request.method, path, query, headers, signature)
            if pre.spec is not None:
                model = specs.service_model(pre.spec.name)
                if pre.protocol is None and protocol == "query" and pre.spec.legacy_query:
                    model = specs.query_model(pre.spec.name)  # early errors of old SDKs' form requests: XML
                protocol = pre.protocol or _answer_protocol(model, protocol)
            limit = pre.spec.max_body if pre.spec else DEFAULT_MAX_BODY
            body = await _read_body(request, limit, self.kumo.settings.body_timeout)
            if self.signatures is not None:  # --enforce-signatures
                body = self.signatures.verify(request.method, path, query, headers, body, protocol=protocol,
                                              model=model, signing_name=pre.spec and pre.spec.signing_name,
                                              limit=limit)
            http = HttpRequest(request.method, path, query, headers, body)
            route = routing.route(http, pre, signature)
            model, protocol = route.model, route.protocol
            if self.signatures is not None:
                self.signatures.require(route, headers, query)
            response = await self._dispatch(route, http, rid, signature, request)
        except AwsError as exc:
            response = self._error(protocol, model, exc, rid)
        except ProtocolError as exc:
            err = AwsError(validation.protocol_error_code(model.service_name if model else "", protocol, exc),
                           exc.message)
            response = self._error(protocol, model, err, rid)
        except ConnectionError:
            # The client left mid-request: nobody to answer and nothing wrong here.
            log.debug("client left during %s %s", request.method, request.path)
            return web.Response(status=400)
        except Exception:
            # The failed transaction already put back what it touched (core/store.py); nothing else to undo.
            self.internal_errors += 1
            log.exception("internal error serving %s %s", request.method, request.path)
            response = self._error(protocol, model, errors.internal_failure(), rid)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> %d (%.2f ms)", request.method, request.path, response.status,
                      (time.perf_counter() - started) * 1000)  # real-time measurement
        response.headers.setdefault("x-amzn-RequestId", rid)
        answer = web.Response(status=response.status, headers=response.headers, body=response.body)
        if response.close:
            answer.force_close()
        return answer

    def _error(self, protocol: str, model, error: AwsError, rid: str) -> HttpResponse:
        if not error.message.isascii():
            # Messages may quote the request (an operation name from a header of raw bytes): keep them encodable.
            error.message = error.message.encode("utf-8", "replace").decode("utf-8")
        try:
            response = serialize_error(protocol, model, error, rid)
            response.close = error.close
            return response
        except Exception:  # the error path must never fail: answer in the plainest AWS shape
            log.exception("could not serialize %s as %s", error.code, protocol)
            body = f'{{"__type":"InternalFailure","message":"{rid}"}}'.encode()
            return HttpResponse(500, {"Content-Type": "application/x-amz-json-1.0"}, body)

    async def _dispatch(self, route: routing.Route, http: HttpRequest, rid: str, signature, request) -> HttpResponse:
        op = route.operation
        if self.kumo.timing is not None:  # names the request in the timing histograms (aws/timing.py)
            request[timing.OPERATION] = f"{route.spec.name}.{op.name}"
        params = parse_request(route.protocol, http, op, labels=route.labels, pairs=route.pairs)
        module = self.api_module(route.spec)
        handler = getattr(module, xform_name(op.name), None) if module is not None else None
        if handler is None:  # before validation: whatever the input, the caller learns the operation is missing
            raise errors.not_implemented(route.spec.name, op.name)
        validation.validate(op, params, route.spec.name, route.protocol)
        if not self.kumo.services.ready(route.spec.package):
            await self.kumo.services.load(route.spec.package)  # its first request: set it up, start its controllers
        region = (signature.region if signature and signature.region else None) or self.kumo.settings.region
        ctx = RequestContext(
            kumo=self.kumo,
            spec=route.spec,
            operation=op.name,
            protocol=route.protocol,
            request_id=rid,
            region=region,
            identity=self.identify(signature),
            host=request.host or f"{self.kumo.settings.host}:{self.kumo.settings.port}",
            scheme=request.scheme,
            headers=http.headers,
            path=http.path,
        )
        if self.kumo.settings.enforce_iam:
            authorize.check(ctx, params, request.remote)
        store = self.kumo.store
        with store.transaction():
            result = handler(ctx, params)
        if inspect.isawaitable(result):
            # Async handlers (long polls, waits on the clock) commit each write as they make it.
            result = await result
        for settle in ctx.extra.get("after", ()):
            # The change is committed; some calls answer once the real world has taken it in
            # (a new listener accepts connections when CreateListener returns).
            await settle()
        if result and offload.big(result):  # a big answer is written off the loop (aws/offload.py)
            return await offload.serialize(route.protocol, op, result, rid)
        return serialize_response(route.protocol, op, result or {}, rid)


def _check_credential(signature) -> None:
    """The credential scope names the account's key, region and service, which become store keys: text only."""
    for part in (signature.access_key, signature.region, signature.service, signature.session_token or ""):
        if not part.isascii():
            try:
                part.encode("utf-8")
            except UnicodeEncodeError:
                raise AwsError("IncompleteSignature", "The credential of the request is not valid text.",
                               status=400) from None


def _answer_protocol(model, guessed: str) -> str:
    """Answer early errors in the protocol the client used, if the service speaks it."""
    spoken = specs.protocols_of(model)
    if guessed in spoken:
        return guessed
    if guessed == "query" and "ec2" in spoken:
        return "ec2"
    return spoken[0]


async def _read_body(request: web.Request, limit: int, timeout: float) -> bytes:
    length = request.content_length
    if length is not None and length > limit:
        raise errors.too_large(limit)
    if not request.body_exists:
        return b""
    content = request.content
    if content.is_eof():
        # The whole body came with the head (most API calls): nothing to wait for, so no timer to arm.
        body = content.read_nowait()
        if len(body) > limit:
            raise errors.too_large(limit)
        return body
    chunks, total = [], 0
    while True:
        try:
            # Wall-clock time, not kumo's clock: a socket waits in real time whatever the simulated time does.
            async with asyncio.timeout(timeout):
                chunk = await request.content.read(1 << 20)
        except TimeoutError:
            # Answer and close at once: marking the body ended spares aiohttp lingering over the stalled bytes.
            request.content.feed_eof()
            raise errors.request_timeout(timeout) from None
        except HttpProcessingError as exc:  # bad chunked framing, a body shorter than its Content-Length
            err = AwsError("IncompleteBody", f"The request body could not be read: {exc.message}", status=400)
            err.close = True
            raise err from None
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise errors.too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)
