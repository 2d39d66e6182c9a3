"""The HTTP data plane of ALBs and classic HTTP listeners: an L7 proxy with keep-alive on both sides.

Requests are parsed with httptools (llhttp).  A request body is read whole
before it is forwarded; response bodies stream back as they arrive.  Status
codes follow AWS's: 503 with no registered target, 502 when a target refuses
or breaks the connection or answers garbage, 504 when it stays silent past
the idle timeout, 400 for a malformed request.
"""

from __future__ import annotations

import asyncio
import http
import os
import random
import time
from typing import TYPE_CHECKING

import httptools

from . import rules as R
from .balance import Target

if TYPE_CHECKING:  # pragma: no cover
    from .worker import ListenerRuntime, Worker

HOP_BY_HOP = {b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding",
              b"upgrade", b"proxy-authenticate", b"proxy-authorization", b"content-length"}
MAX_BODY = 64 * 1024 * 1024
_VALID_NAME = set(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def error_page(status: int, close: bool = False) -> bytes:
    phrase = http.HTTPStatus(status).phrase
    body = (f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {phrase}</h1></center>\r\n</body>\r\n</html>\r\n").encode()
    head = (f"HTTP/1.1 {status} {phrase}\r\nServer: awselb/2.0\r\nContent-Type: text/html\r\n"
            f"Content-Length: {len(body)}\r\nConnection: {'close' if close else 'keep-alive'}\r\n\r\n").encode()
    return head + body


def trace_id(existing: str | None, now: float) -> str:
    fresh = f"1-{int(now):08x}-{os.urandom(12).hex()}"
    if existing and "Root=" in existing:
        return f"Self={fresh};{existing}"
    return f"Root={fresh}"


class ParsedRequest:
    __slots__ = ("method", "url", "headers", "body", "version", "keep_alive", "upgrade")

    def __init__(self):
        self.method = b""
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.version = "1.1"
        self.keep_alive = True
        self.upgrade = False


class ClientConnection(asyncio.Protocol):
    """One client connection to an HTTP listener."""

    def __init__(self, worker: "Worker", listener: "ListenerRuntime"):
        self.worker = worker
        self.listener = listener
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.current: ParsedRequest | None = None
        self.queue: asyncio.Queue = asyncio.Queue()
        self.task: asyncio.Task | None = None
        self.closed = False
        self.body_size = 0
        self.peer = ("", 0)
        self.local = ("", 0)
        self.zone = None
        self.last_activity = time.monotonic()
        self.write_ready = asyncio.Event()
        self.write_ready.set()
        self.busy = False
        self.tls = None

    # -- transport ---------------------------------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport
        peer = transport.get_extra_info("peername") or ("", 0)
        local = transport.get_extra_info("sockname") or ("", 0)
        self.peer, self.local = (peer[0], peer[1]), (local[0], local[1])
        self.zone = self.listener.zone_of(self.local[0])
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            self.tls = (ssl_object.version(), (ssl_object.cipher() or ("",))[0])
        self.worker.stats.connection(self.listener.lb, +1)
        self.worker.connections.add(self)
        self.task = asyncio.get_running_loop().create_task(self._serve())

    def connection_lost(self, exc):
        self.closed = True
        self.worker.connections.discard(self)
        self.worker.stats.connection(self.listener.lb, -1)
        if self.task is not None:
            self.task.cancel()
        self.write_ready.set()

    def pause_writing(self):
        self.write_ready.clear()

    def resume_writing(self):
        self.write_ready.set()

    def data_received(self, data: bytes):
        self.last_activity = time.monotonic()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # the upgraded stream is spliced once the target agrees (101)
        except httptools.HttpParserError:
            self._fail(400)

    def _fail(self, status: int) -> None:
        if self.transport is not None and not self.closed:
            self.worker.stats.elb_error(self.listener.lb, status)
            self.transport.write(error_page(status, close=True))
            self.transport.close()
            self.closed = True

    # -- httptools callbacks -------------------------------------------------------------------
    def on_message_begin(self):
        self.current = ParsedRequest()
        self.body_size = 0

    def on_url(self, url: bytes):
        self.current.url += url

    def on_header(self, name: bytes, value: bytes):
        self.current.headers.append((name, value))

    def on_headers_complete(self):
        p = self.parser
        self.current.method = p.get_method()
        self.current.version = p.get_http_version()
        self.current.keep_alive = p.should_keep_alive()
        self.current.upgrade = p.should_upgrade()

    def on_body(self, body: bytes):
        self.body_size += len(body)
        if self.body_size > MAX_BODY:
            self._fail(413)
            return
        self.current.body.append(body)

    def on_message_complete(self):
        self.queue.put_nowait(self.current)
        self.current = None

    # -- serving ----------------------------------------------------------------------------------
    async def _serve(self):
        try:
            while not self.closed:
                req = await self.queue.get()
                self.busy = True
                keep = await self._handle(req)
                self.busy = False
                self.last_activity = time.monotonic()
                if not keep:
                    self.transport.close()
                    return
        except asyncio.CancelledError:
            pass
        except Exception:
            self.worker.log.exception("HTTP listener %s failed a request", self.listener.id)
            self._fail(500)

    def _request_view(self, req: ParsedRequest) -> tuple[R.Request, dict[str, list[str]]]:
        headers: dict[str, list[str]] = {}
        for name, value in req.headers:
            headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        url = req.url.decode("latin-1")
        path, _, query = url.partition("?")
        host = (headers.get("host") or [""])[0]
        host_only = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        view = R.Request(req.method.decode(), path or "/", query, host_only.lower(), headers, self.peer[0],
                         "https" if self.listener.protocol in ("HTTPS", "SSL") else "http", self.listener.port)
        return view, headers

    async def _handle(self, req: ParsedRequest) -> bool:
        started = time.monotonic()
        lst = self.listener
        view, headers = self._request_view(req)
        stats = self.worker.stats
        stats.request(lst.lb)
        keep = req.keep_alive
        if lst.drop_invalid_headers:
            req.headers = [(n, v) for n, v in req.headers if all(c in _VALID_NAME for c in n)]
        actions = lst.actions_for(view)
        for action in actions:
            kind = action.get("Type")
            if kind == "fixed-response":
                cfg = action.get("FixedResponseConfig") or {}
                body = (cfg.get("MessageBody") or "").encode()
                status = int(cfg.get("StatusCode") or 200)
                head = (f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\nServer: awselb/2.0\r\n"
                        f"Content-Type: {cfg.get('ContentType') or 'text/plain; charset=utf-8'}\r\n"
                        f"Content-Length: {len(body)}\r\nConnection: {'keep-alive' if keep else 'close'}\r\n\r\n")
                self.transport.write(head.encode() + (b"" if req.method == b"HEAD" else body))
                stats.elb_status(lst.lb, status)
                return keep
            if kind == "redirect":
                target = R.redirect(action.get("RedirectConfig") or {}, view)
                head = (f"HTTP/1.1 {target.status} {http.HTTPStatus(target.status).phrase}\r\nServer: awselb/2.0\r\n"
                        f"Location: {target.location}\r\nContent-Length: 0\r\n"
                        f"Connection: {'keep-alive' if keep else 'close'}\r\n\r\n")
                self.transport.write(head.encode())
                stats.elb_status(lst.lb, target.status)
                return keep
            if kind == "forward":
                return await self._forward(req, view, headers, action, started)
        self._fail(503)
        return False

    async def _forward(self, req, view, headers, action, started) -> bool:
        lst = self.listener
        stats = self.worker.stats
        keep = req.keep_alive
        cookies = _cookies(headers)
        wg = R.forward_groups(action)
        group_arn = None
        if wg.sticky and cookies.get("AWSALBTG"):
            chosen = self.worker.tokens.read(lst.lb + "|tg", cookies["AWSALBTG"])
            if chosen and any(arn == chosen for arn, _ in wg.groups):
                group_arn = chosen
        if group_arn is None:
            group_arn = R.pick_group(wg, random.random())
        group = self.worker.groups.get(group_arn)
        if group is None or not group.targets:
            self.transport.write(error_page(503, close=not keep))
            stats.elb_error(lst.lb, 503)
            return keep
        target, set_cookies = self._choose(group, cookies, view)
        if target is None:
            self.transport.write(error_page(503, close=not keep))
            stats.elb_error(lst.lb, 503)
            return keep
        if wg.sticky:
            set_cookies.append(_cookie("AWSALBTG", self.worker.tokens.make(lst.lb + "|tg", group_arn),
                                       wg.sticky_seconds))
            set_cookies.append(_cookie("AWSALBTGCORS", self.worker.tokens.make(lst.lb + "|tg", group_arn),
                                       wg.sticky_seconds, cors=True))
        out = self._upstream_request(req, headers)
        target.outstanding += 1
        try:
            status = await self._exchange(target, out, req, set_cookies, group, keep)
        finally:
            target.outstanding -= 1
        elapsed = time.monotonic() - started
        if status is None:
            return False
        if status >= 0:
            stats.target_response(lst.lb, group.arn, target.key, status, elapsed)
        return keep and status >= 0

    def _choose(self, group, cookies, view) -> tuple[Target | None, list[str]]:
        lst = self.listener
        set_cookies: list[str] = []
        sticky = group.stickiness or {}
        candidates = group.candidates(self.zone, lst.cross_zone)
        chosen = None
        scope = group.arn
        if sticky.get("type") == "lb_cookie":
            key = self.worker.tokens.read(scope, cookies.get(sticky.get("cookie", "AWSALB")))
            chosen = next((t for t in candidates if t.key == key), None)
        elif sticky.get("type") == "app_cookie":
            key = self.worker.tokens.read(scope, cookies.get(sticky.get("cookie", "AWSALBAPP-0")))
            chosen = next((t for t in candidates if t.key == key), None)
        if chosen is None:
            chosen = group.pick(candidates, self.worker.clock.now(), random)
        if chosen is not None and sticky.get("type") == "lb_cookie":
            token = self.worker.tokens.make(scope, chosen.key)
            name = sticky.get("cookie", "AWSALB")
            set_cookies.append(_cookie(name, token, sticky.get("duration", 86400)))
            if name in ("AWSALB", "AWSELB"):  # ALB and Classic both add a SameSite=None twin for CORS
                set_cookies.append(_cookie(name + "CORS", token, sticky.get("duration", 86400), cors=True))
        return chosen, set_cookies

    def _upstream_request(self, req: ParsedRequest, headers: dict) -> bytes:
        lst = self.listener
        parts = [req.method, b" ", req.url, b" HTTP/1.1\r\n"]
        forwarded_for = None
        trace = None
        for name, value in req.headers:
            low = name.lower()
            if low in HOP_BY_HOP:
                continue
            if low == b"x-forwarded-for":
                forwarded_for = value
                continue
            if low in (b"x-forwarded-proto", b"x-forwarded-port"):
                continue
            if low == b"x-amzn-trace-id":
                trace = value.decode("latin-1")
                continue
            parts += [name, b": ", value, b"\r\n"]
        client = self.peer[0].encode()
        xff = forwarded_for + b", " + client if forwarded_for else client
        proto = b"https" if lst.protocol in ("HTTPS", "SSL") else b"http"
        parts += [b"X-Forwarded-For: ", xff, b"\r\nX-Forwarded-Proto: ", proto, b"\r\nX-Forwarded-Port: ",
                  str(lst.port).encode(), b"\r\n"]
        if lst.kind != "classic":
            parts += [b"X-Amzn-Trace-Id: ", trace_id(trace, time.time()).encode(), b"\r\n"]
        if lst.tls_headers and self.tls:
            parts += [b"x-amzn-tls-version: ", self.tls[0].encode(), b"\r\nx-amzn-tls-cipher-suite: ",
                      self.tls[1].encode(), b"\r\n"]
        body = b"".join(req.body)
        if body or req.method in (b"POST", b"PUT", b"PATCH"):
            parts += [b"Content-Length: ", str(len(body)).encode(), b"\r\n"]
        parts += [b"Connection: keep-alive\r\n\r\n", body]
        return b"".join(parts)

    async def _exchange(self, target: Target, payload: bytes, req: ParsedRequest, set_cookies: list[str],
                        group, keep: bool) -> int | None:
        """Send to the target and relay its answer; returns the status, -1 for an ELB error, None if gone."""
        lst = self.listener
        pool = self.worker.pool
        try:
            upstream = await pool.acquire(target.host, target.port)
        except OSError:
            self.transport.write(error_page(502, close=not keep))
            self.worker.stats.elb_error(lst.lb, 502)
            self.worker.stats.target_connection_error(lst.lb)
            return -1
        head_only = req.method == b"HEAD"
        upstream.start(payload, head_only)
        idle = self.worker.clock.real_timeout(lst.idle_timeout)
        try:
            status, resp_headers = await asyncio.wait_for(upstream.headers_ready, idle)
        except asyncio.TimeoutError:
            upstream.close()
            self.transport.write(error_page(504, close=not keep))
            self.worker.stats.elb_error(lst.lb, 504)
            return -1
        except (ConnectionError, httptools.HttpParserError):
            upstream.close()
            self.transport.write(error_page(502, close=not keep))
            self.worker.stats.elb_error(lst.lb, 502)
            return -1
        sticky = group.stickiness or {}
        if sticky.get("type") == "app_cookie":
            app_name = sticky.get("cookie_name", "").lower().encode()
            if any(n.lower() == b"set-cookie" and v.split(b"=", 1)[0].strip().lower() == app_name
                   for n, v in resp_headers):
                set_cookies.append(_cookie(sticky.get("cookie", "AWSALBAPP-0"),
                                           self.worker.tokens.make(group.arn, target.key),
                                           sticky.get("duration", 86400)))
        lines = [f"HTTP/1.1 {status} {_phrase(status)}\r\n".encode()]
        length = None
        for name, value in resp_headers:
            low = name.lower()
            if low == b"content-length":
                length = value
            if low in HOP_BY_HOP:
                continue
            lines += [name, b": ", value, b"\r\n"]
        for cookie in set_cookies:
            lines.append(f"Set-Cookie: {cookie}\r\n".encode())
        no_body = head_only or status in (204, 304) or 100 <= status < 200
        if length is not None:
            lines += [b"Content-Length: ", length, b"\r\n"]
            framing = "length"
        elif no_body:
            framing = "none"
        else:
            lines.append(b"Transfer-Encoding: chunked\r\n")
            framing = "chunked"
        lines.append(b"Connection: keep-alive\r\n\r\n" if keep else b"Connection: close\r\n\r\n")
        self.transport.write(b"".join(lines))
        ok = await self._relay_body(upstream, framing, idle)
        if ok and upstream.reusable():
            pool.release(upstream)
        else:
            upstream.close()
        return status if ok else None

    async def _relay_body(self, upstream, framing: str, idle: float | None) -> bool:
        while True:
            try:
                chunk = await asyncio.wait_for(upstream.next_chunk(), idle)
            except (asyncio.TimeoutError, ConnectionError, httptools.HttpParserError):
                self.transport.close()  # the response is already under way: all the client can get is an end
                return False
            if chunk is None:
                if framing == "chunked":
                    self.transport.write(b"0\r\n\r\n")
                return True
            if framing == "chunked":
                self.transport.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            elif framing == "length":
                self.transport.write(chunk)
            if not self.write_ready.is_set():
                upstream.pause()
                await self.write_ready.wait()
                upstream.resume()
            if self.closed:
                return False


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _cookies(headers: dict[str, list[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in headers.get("cookie", []):
        for part in line.split(";"):
            name, _, value = part.strip().partition("=")
            if name:
                out[name] = value
    return out


def _cookie(name: str, value: str, seconds: int | None, cors: bool = False) -> str:
    cookie = f"{name}={value}; Path=/"
    if seconds is not None:  # None: a session cookie (Classic's stickiness without CookieExpirationPeriod)
        expires = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + seconds))
        cookie = f"{name}={value}; Expires={expires}; Path=/"
    if cors:
        cookie += "; SameSite=None; Secure"
    return cookie


class Upstream(asyncio.Protocol):
    """A keep-alive connection to a target; one exchange at a time."""

    def __init__(self, pool, key):
        self.pool = pool
        self.key = key
        self.transport = None
        self.closed = False
        self.parser = None
        self.headers_ready: asyncio.Future | None = None
        self.chunks: asyncio.Queue | None = None
        self.keep = True
        self.head_only = False
        self._status = 0
        self._headers: list = []
        self._done = False

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        self.closed = True
        if self.headers_ready is not None and not self.headers_ready.done():
            self.headers_ready.set_exception(ConnectionError("target closed the connection"))
        if self.chunks is not None and not self._done:
            self.chunks.put_nowait(ConnectionError("target closed the connection"))

    def start(self, payload: bytes, head_only: bool) -> None:
        loop = asyncio.get_running_loop()
        self.parser = httptools.HttpResponseParser(self)
        self.headers_ready = loop.create_future()
        self.chunks = asyncio.Queue()
        self.head_only = head_only
        self._headers = []
        self._done = False
        self.transport.write(payload)

    def data_received(self, data: bytes):
        if self.parser is None:
            self.transport.close()  # data out of turn: the connection cannot be trusted
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if not self.headers_ready.done():
                self.headers_ready.set_exception(exc)
            else:
                self.chunks.put_nowait(exc)
            self.transport.close()

    def on_header(self, name, value):
        self._headers.append((name, value))

    def on_headers_complete(self):
        self._status = self.parser.get_status_code()
        self.keep = self.parser.should_keep_alive()
        if not self.headers_ready.done():
            self.headers_ready.set_result((self._status, self._headers))
        if self.head_only or self._status in (204, 304):
            # No body follows, whatever the headers say; llhttp cannot know the request was HEAD.
            self._finish()
            self.keep = False if self.head_only else self.keep

    def on_body(self, body: bytes):
        if not self._done:
            self.chunks.put_nowait(body)

    def on_message_complete(self):
        self._finish()

    def _finish(self):
        if not self._done:
            self._done = True
            self.chunks.put_nowait(None)

    async def next_chunk(self):
        item = await self.chunks.get()
        if isinstance(item, Exception):
            raise item
        return item

    def pause(self):
        if self.transport is not None:
            self.transport.pause_reading()

    def resume(self):
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def reusable(self) -> bool:
        return self.keep and self._done and not self.closed

    def close(self):
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class UpstreamPool:
    """Idle keep-alive connections to targets, per (host, port)."""

    def __init__(self, max_idle: int = 64):
        self.idle: dict[tuple, list[Upstream]] = {}
        self.max_idle = max_idle

    async def acquire(self, host: str, port: int) -> Upstream:
        key = (host, port)
        idle = self.idle.get(key)
        while idle:
            conn = idle.pop()
            if not conn.closed:
                conn.parser = None
                return conn
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(lambda: Upstream(self, key), host, port)
        return conn

    def release(self, conn: Upstream) -> None:
        conn.parser = None
        idle = self.idle.setdefault(conn.key, [])
        if len(idle) < self.max_idle:
            idle.append(conn)
        else:
            conn.close()

    def drop(self, host: str, port: int) -> None:
        for conn in self.idle.pop((host, port), []):
            conn.close()
