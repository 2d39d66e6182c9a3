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
import os
import select
import socket
import time
from types import ModuleType
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from botocore import xform_name

from ..core import credentials
from ..core.ids import request_id as new_request_id
from . import authorize, errors, offload, routing, specs, streaming, timing, validation
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
        self._presigned_verifier = None
        self._presigned_v2_verifier = None
        # Requests a service answers outside its API, before routing: ``async fn(request) -> web.Response | None``
        # (S3's CORS preflights and website endpoints).  And services adding headers to the answers of requests
        # a browser sent (``Origin``): ``fn(request, headers)`` (S3's CORS headers).
        self.intercepts: list = []
        self.finishers: list = []
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
        for intercept in self.intercepts:
            answer = await intercept(request)
            if answer is not None:
                return answer
        started = time.perf_counter()  # real-time measurement: the request's latency, for the log
        self.requests += 1
        rid = new_request_id()
        headers = request.headers
        path = request.raw_path.partition("?")[0] or "/"
        query = request.query_string
        protocol = routing.guess_protocol(headers, path)
        model = None
        streamed = None
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
            route = streamed = None
            presigned_v2 = False
            routed_path = path
            if limit is None:  # the service reads big bodies itself (aws/streaming.py): route on the head
                limit = DEFAULT_MAX_BODY
                routed_path = routing.virtual_hosted_path(headers.get("Host", ""), path)
                route = routing.route(HttpRequest(request.method, routed_path, query, headers, b""), pre, signature)
                model, protocol = route.model, route.protocol
                if streaming.streams_input(route.operation):
                    streamed = streaming.RequestBody(request, self.kumo.settings.body_timeout)
                if self.signatures is None and signed_query(query):
                    self._presigned().check(request.method, path, query, headers, b"", fam="s3",
                                            service=pre.spec.signing_name, unsigned_body=True)
                elif "AWSAccessKeyId=" in query and "Signature=" in query:
                    # S3's older query signature (SigV2), which boto3 still makes for presigned URLs by default.
                    presigned_v2 = True
                    self._presigned_v2().check(request.method, path, query, headers,
                                               routing.virtual_bucket(headers.get("Host", "")))
            body = b"" if streamed else await _read_body(request, limit, self.kumo.settings.body_timeout)
            if self.signatures is not None:  # --enforce-signatures
                chunk_seed = None
                if streamed is not None and headers.get("X-Amz-Content-SHA256", "").startswith(
                        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"):
                    chunk_seed = streamed.chunk_seed = {}  # the body's chunk signatures chain from this one
                body = self.signatures.verify(request.method, path, query, headers, body, protocol=protocol,
                                              model=model, signing_name=pre.spec and pre.spec.signing_name,
                                              limit=limit, unsigned_body=streamed is not None,
                                              chunk_seed=chunk_seed)
            http = HttpRequest(request.method, routed_path, query, headers, body)
            if route is None:
                route = routing.route(http, pre, signature)
            model, protocol = route.model, route.protocol
            if self.signatures is not None and not presigned_v2:
                self.signatures.require(route, headers, query)
            response = await self._dispatch(route, http, rid, signature, request, streamed)
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
        if self.finishers and "Origin" in headers:
            for finish in self.finishers:
                finish(request, response.headers)
        if response.stream is not None:
            return await _send_file(request, response)
        answer = web.Response(status=response.status, headers=response.headers, body=response.body)
        if response.close or (streamed is not None and request.body_exists and not request.content.is_eof()):
            # Refused before its body was read (an upload to a missing bucket): close rather than drain gigabytes.
            answer.force_close()
        return answer

    def _presigned(self):
        """A verifier for presigned URLs, which S3 checks even when other signatures are only read."""
        if self.signatures is not None:
            return self.signatures
        if self._presigned_verifier is None:
            from . import sigv4

            self._presigned_verifier = sigv4.Verifier(self.kumo)
        return self._presigned_verifier

    def _presigned_v2(self):
        if self._presigned_v2_verifier is None:
            from . import sigv2

            self._presigned_v2_verifier = sigv2.V2Verifier(self.kumo, self._presigned()._secret)
        return self._presigned_v2_verifier

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

    async def _dispatch(self, route: routing.Route, http: HttpRequest, rid: str, signature, request,
                        streamed=None) -> HttpResponse:
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
        if streamed is not None:
            ctx.extra["body"] = streamed
        if ctx.identity.access_key and ctx.identity.arn.split(":", 5)[-1] != "root":
            # Last use of issued credentials (GetAccessKeyLastUsed, RoleLastUsed, service last accessed).
            from ..services.iam.internal import note_activity

            note_activity(self.kumo, ctx.identity, authorize.actions.prefix_of(route.spec.name), region)
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


def signed_query(query: str) -> bool:
    return "X-Amz-Signature=" in query or "X-Amz-Credential=" in query


async def _send_file(request: web.Request, response: HttpResponse) -> web.StreamResponse:
    """An answer whose body is (part of) a file: sent with sendfile, never read into memory."""
    body = response.stream
    f = body.file or open(body.path, "rb")
    try:
        return await _send_open_file(request, response, body, f)
    finally:
        f.close()


async def _send_open_file(request: web.Request, response: HttpResponse, body, f) -> web.StreamResponse:
    answer = web.StreamResponse(status=body.status or response.status, headers=response.headers)
    answer.content_length = body.length
    await answer.prepare(request)  # sends the head at once
    if request.method != "HEAD" and body.length:
        transport = request.transport
        if transport is None:
            return answer
        sock = transport.get_extra_info("socket")
        if sock is not None and body.length > (1 << 20):
            try:  # a bigger send buffer: fewer wake-ups of the loop per MiB sent
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
            except OSError:
                pass
        try:
            if sock is not None and body.length > (1 << 20) and not transport.get_extra_info("sslcontext"):
                await _sendfile_in_thread(transport, sock, f, body.offset, body.length)
            else:
                await asyncio.get_running_loop().sendfile(transport, f, body.offset, body.length)
        except ConnectionError:  # the client left mid-body: nothing to answer, the connection is done
            transport.close()
            return answer
        except NotImplementedError:  # a transport without sendfile (TLS): chunks
            f.seek(body.offset)
            left = body.length
            while left > 0:
                chunk = f.read(min(left, 1 << 20))
                if not chunk:
                    break
                await answer.write(chunk)
                left -= len(chunk)
    await answer.write_eof()
    return answer


async def _sendfile_in_thread(transport, sock, f, offset: int, count: int) -> None:
    """Big bodies: sendfile from a worker thread that waits for the socket itself (poll), instead of a loop
    wake-up and two epoll changes per send buffer's worth: 1.5 GiB/s instead of 0.8 to curl on loopback.
    The transport is handed over as asyncio's own loop.sendfile does: reading paused, its buffer empty."""
    make_empty = getattr(transport, "_make_empty_waiter", None)
    if make_empty is None:  # not asyncio's selector transport: its own sendfile
        await asyncio.get_running_loop().sendfile(transport, f, offset, count)
        return
    fd, src = sock.fileno(), f.fileno()

    def send() -> None:
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        sent = 0
        while sent < count:
            try:
                n = os.sendfile(fd, src, offset + sent, count - sent)
            except BlockingIOError:
                # Real time: a client that reads nothing for a minute is gone (as the idle timeout judges).
                if not poller.poll(60_000):
                    raise ConnectionResetError("the client stopped reading") from None
                continue
            if n == 0:
                raise ConnectionResetError("the file ended before its length")
            sent += n

    resume = transport.is_reading()
    transport.pause_reading()
    await make_empty()
    try:
        await asyncio.to_thread(send)
    finally:
        transport._reset_empty_waiter()
        if resume and not transport.is_closing():
            transport.resume_reading()


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
