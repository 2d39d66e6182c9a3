"""The HTTP data plane of ALBs and classic HTTP listeners: an L7 proxy with keep-alive on both sides.

Requests are parsed with httptools (llhttp).  A request body is read whole
before it is forwarded; response bodies stream back as they arrive.  The
whole exchange runs on protocol callbacks (no task switch per request), which
is what keeps a Python proxy within reach of HAProxy.  Status
codes follow AWS's: 503 with no registered target, 502 when a target refuses
or breaks the connection or answers garbage, 504 when it stays silent past
the idle timeout, 400 for a malformed request.
"""

from __future__ import annotations

import asyncio
import collections
import http
import random
import re
import time
from typing import TYPE_CHECKING

import httptools

from . import access_logs
from . import rules as R
from . import upstream
from .balance import Target

if TYPE_CHECKING:  # pragma: no cover
    from .worker import ListenerRuntime, Worker

HOP_BY_HOP = set(upstream.HOP_BY_HOP)
MAX_BODY = 64 * 1024 * 1024
_DROP, _XFF, _TRACE = 0, 1, 2
# Request headers the proxy does not pass on as they are: hop-by-hop ones, and the ones it writes itself.
_REQUEST_SPECIAL = {**{name: _DROP for name in HOP_BY_HOP}, b"x-forwarded-proto": _DROP,
                    b"x-forwarded-port": _DROP, b"x-forwarded-for": _XFF, b"x-amzn-trace-id": _TRACE}
_VALID_NAME = set(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SET_COOKIE = re.compile(rb"^set-cookie:[ \t]*([^\r\n]*)\r\n", re.I | re.M)


_getrandbits = random.getrandbits


def error_page(status: int, close: bool = False) -> bytes:
    phrase = http.HTTPStatus(status).phrase
    body = (f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {phrase}</h1></center>\r\n</body>\r\n</html>\r\n").encode()
    head = (f"HTTP/1.1 {status} {phrase}\r\nServer: awselb/2.0\r\nContent-Type: text/html\r\n"
            f"Content-Length: {len(body)}\r\nConnection: {'close' if close else 'keep-alive'}\r\n\r\n").encode()
    return head + body


def trace_id(existing: bytes | None, now: float) -> bytes:
    fresh = b"1-%08x-%024x" % (int(now), _getrandbits(96))
    if existing and b"Root=" in existing:
        return b"Self=" + fresh + b";" + existing
    return b"Root=" + fresh


class ParsedRequest:
    __slots__ = ("method", "url", "headers", "body", "keep_alive")

    def __init__(self):
        self.method = b""
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.keep_alive = True


class Exchange:
    """One request under way to a target."""

    __slots__ = ("req", "keep", "target", "group", "set_cookies", "started", "head_only")

    def __init__(self, req, keep, target, group, set_cookies, started):
        self.req, self.keep, self.target, self.group = req, keep, target, group
        self.set_cookies, self.started = set_cookies, started
        self.head_only = req.method == b"HEAD"


class ClientConnection(asyncio.Protocol):
    """One client connection to an HTTP listener."""

    def __init__(self, worker: "Worker", listener: "ListenerRuntime"):
        self.worker = worker
        self.listener = listener
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.current: ParsedRequest | None = None
        self.pending: collections.deque = collections.deque()
        self.exchange: Exchange | None = None
        self.closed = False
        self.body_size = 0
        self.peer = ("", 0)
        self.peer_ip = b""
        self.local = ("", 0)
        self.zone = None
        # The worker's sweep turns `seen` into `last_activity` and collects `nbytes` into the stats: the hot
        # path then costs neither a clock read nor a stats call per read.
        self.last_activity = worker.clock.now()  # kumo's clock, as the idle timeout it is judged by
        self.seen = False
        self.nbytes = 0
        self.write_ready = asyncio.Event()
        self.write_ready.set()
        self.writable = True  # write_ready as a plain flag, for the hot path
        self.busy = False
        self.tls = None

    # -- transport ---------------------------------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport
        peer = transport.get_extra_info("peername") or ("", 0)
        local = transport.get_extra_info("sockname") or ("", 0)
        self.peer, self.local = (peer[0], peer[1]), (local[0], local[1])
        self.peer_ip = peer[0].encode()  # for X-Forwarded-For, once per connection
        self.zone = self.listener.zone_of(self.local[0])
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            self.tls = (ssl_object.version(), (ssl_object.cipher() or ("",))[0])
        self.worker.stats.connection(self.listener.lb, +1)
        self.worker.connections.add(self)

    def connection_lost(self, exc):
        self.closed = True
        self.worker.connections.discard(self)
        self.worker.stats.connection(self.listener.lb, -1)
        self.collect()
        self.writable = True
        self.write_ready.set()

    def collect(self) -> None:
        if self.nbytes:
            self.worker.stats.processed(self.listener.lb, self.nbytes)
            self.nbytes = 0

    def pause_writing(self):
        self.writable = False
        self.write_ready.clear()

    def resume_writing(self):
        self.writable = True
        self.write_ready.set()

    def data_received(self, data: bytes):
        self.seen = True
        self.nbytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass
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
        p, req = self.parser, self.current
        req.method = p.get_method()
        req.keep_alive = p.should_keep_alive()

    def on_body(self, body: bytes):
        self.body_size += len(body)
        if self.body_size > MAX_BODY:
            self._fail(413)
            return
        self.current.body.append(body)

    def on_message_complete(self):
        self.pending.append(self.current)
        self.current = None
        if not self.busy:
            self._next()

    # -- serving ----------------------------------------------------------------------------------
    def _next(self) -> None:
        """Serve queued requests in order; one exchange with a target at a time."""
        while self.pending and not self.closed:
            req = self.pending.popleft()
            self.busy = True
            try:
                finished = self._start(req)
            except Exception:
                self.worker.log.exception("HTTP listener %s failed a request", self.listener.id)
                self._fail(500)
                return
            if not finished:
                return  # an exchange is under way; _complete() comes back here
            self.busy = False
            if not req.keep_alive:
                self.transport.close()
                self.closed = True
                return
        self.seen = True

    def _complete(self, keep: bool) -> None:
        self.exchange = None
        self.busy = False
        self.seen = True
        if not keep:
            if not self.closed:
                self.transport.close()
                self.closed = True
            return
        if self.pending:
            self._next()

    def _request_view(self, req: ParsedRequest) -> R.Request:
        """What rules and redirects look at: built only when the listener's rules need it."""
        headers: dict[str, list[str]] = {}
        for name, value in req.headers:
            headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        url = req.url.decode("latin-1")
        path, _, query = url.partition("?")
        host = (headers.get("host") or [""])[0]
        host_only = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return R.Request(req.method.decode(), path or "/", query, host_only.lower(), headers, self.peer[0],
                         "https" if self.listener.protocol in ("HTTPS", "SSL") else "http", self.listener.port)

    def _cookies(self, req: ParsedRequest, view: R.Request | None) -> dict[str, str]:
        if view is not None:
            return _cookies(view.headers.get("cookie", []))
        return _cookies([v.decode("latin-1") for n, v in req.headers if n.lower() == b"cookie"])

    def _start(self, req: ParsedRequest) -> bool:
        """Begin serving one request; True when the answer is already written."""
        started = time.monotonic()  # real-time measurement: TargetResponseTime is the target's real latency
        lst = self.listener
        if lst.default_actions is not None:  # only the default rule: nothing to match
            view, actions = None, lst.default_actions
        else:
            view = self._request_view(req)
            actions = lst.actions_for(view)
        stats = self.worker.stats
        stats.lbs[lst.lb]["requests"] += 1  # stats.request(), inline: once per request
        keep = req.keep_alive
        if lst.drop_invalid_headers:
            req.headers = [(n, v) for n, v in req.headers if all(c in _VALID_NAME for c in n)]
        for action in actions:
            kind = action.get("Type")
            if kind == "fixed-response":
                cfg = action.get("FixedResponseConfig") or {}
                body = (cfg.get("MessageBody") or "").encode()
                status = int(cfg.get("StatusCode") or 200)
                head = (f"HTTP/1.1 {status} {_phrase(status)}\r\nServer: awselb/2.0\r\n"
                        f"Content-Type: {cfg.get('ContentType') or 'text/plain; charset=utf-8'}\r\n"
                        f"Content-Length: {len(body)}\r\nConnection: {'keep-alive' if keep else 'close'}\r\n\r\n")
                self.transport.write(head.encode() + (b"" if req.method == b"HEAD" else body))
                stats.elb_status(lst.lb, status)
                if lst.access_log:
                    self._access(req, status, started, action="fixed-response", sent=len(head) + len(body))
                return True
            if kind == "redirect":
                target = R.redirect(action.get("RedirectConfig") or {}, view or self._request_view(req))
                head = (f"HTTP/1.1 {target.status} {_phrase(target.status)}\r\nServer: awselb/2.0\r\n"
                        f"Location: {target.location}\r\nContent-Length: 0\r\n"
                        f"Connection: {'keep-alive' if keep else 'close'}\r\n\r\n")
                self.transport.write(head.encode())
                stats.elb_status(lst.lb, target.status)
                if lst.access_log:
                    self._access(req, target.status, started, action="redirect", redirect=target.location,
                                 sent=len(head))
                return True
            if kind == "forward":
                return self._forward(req, view, action, started)
        self._error(503, keep, req, started)
        return True

    def _error(self, status: int, keep: bool, req: ParsedRequest | None = None, started: float = 0.0,
               target=None, group=None) -> None:
        page = error_page(status, close=not keep)
        self.transport.write(page)
        self.worker.stats.elb_error(self.listener.lb, status)
        if self.listener.access_log and req is not None:
            self._access(req, status, started, target=target, group=group, sent=len(page))

    def _access(self, req: ParsedRequest, elb_status: int, started: float, *, target=None, group=None,
                target_status: int | None = None, action: str = "forward", redirect: str | None = None,
                sent: int = 0) -> None:
        """One access log line for a request answered (only for load balancers that log)."""
        lst = self.listener
        elapsed = time.monotonic() - started  # real-time measurement: how long the request took
        now = self.worker.clock.now()
        host = user_agent = None
        received = len(req.method) + len(req.url) + 13 + sum(len(v) for v in req.body)
        for name, value in req.headers:
            received += len(name) + len(value) + 4
            low = name.lower()
            if low == b"host":
                host = value.decode("latin-1")
            elif low == b"user-agent":
                user_agent = value.decode("latin-1")
        scheme = "https" if lst.protocol in ("HTTPS", "SSL") else "http"
        authority = host or self.local[0]
        if ":" not in authority.rsplit("]", 1)[-1]:
            authority = f"{authority}:{lst.port}"
        request_line = f"{req.method.decode('latin-1')} {scheme}://{authority}{req.url.decode('latin-1')} HTTP/1.1"
        addr = (target.host, target.port) if target is not None else None
        target_time = elapsed if target_status is not None else None
        if lst.access_log == "classic":
            line = access_logs.classic_line(
                when=now, name=lst.spec.get("lb_name") or lst.lb, client=self.peer, backend=addr, request_time=0.0,
                backend_time=target_time, response_time=0.0, elb_status=elb_status, backend_status=target_status,
                received=received, sent=sent, request_line=request_line, user_agent=user_agent, tls=self.tls)
        else:
            line = access_logs.alb_line(
                kind=scheme, when=now, created=now - elapsed, lb_arn=lst.lb, client=self.peer, target=addr,
                request_time=0.0, target_time=target_time, response_time=0.0, elb_status=elb_status,
                target_status=target_status, received=received, sent=sent, request_line=request_line,
                user_agent=user_agent, tls=self.tls, group_arn=group.arn if group is not None else None,
                trace=getattr(self, "_trace", b"").decode("latin-1") or "-", domain=host.split(":")[0] if host and
                scheme == "https" else None, action=action, redirect_url=redirect)
        self.worker.access_line(lst.lb, line)

    def _forward(self, req, view, action, started) -> bool:
        lst = self.listener
        keep = req.keep_alive
        wg = action.get("_groups") or R.forward_groups(action)
        group_arn = None
        cookies = None  # parsed only when some stickiness reads them
        if wg.sticky:
            cookies = self._cookies(req, view)
            if cookies.get("AWSALBTG"):
                chosen = self.worker.tokens.read(lst.lb + "|tg", cookies["AWSALBTG"], self.worker.clock.now())
                if chosen and any(arn == chosen for arn, _ in wg.groups):
                    group_arn = chosen
        if group_arn is None:
            group_arn = wg.groups[0][0] if len(wg.groups) == 1 else R.pick_group(wg, random.random())
        group = self.worker.groups.get(group_arn)
        if group is None or not group.targets:
            target, set_cookies = None, []
        elif not group.stickiness and not group.slow_start:  # _choose without stickiness: no clock, no cookie
            target, set_cookies = group.pick(group.candidates(self.zone, lst.cross_zone), 0.0, random), []
        else:
            target, set_cookies = self._choose(group, req, view, cookies)
        if target is None:
            self._error(503, keep, req, started)
            return True
        if getattr(group, "lambda_spec", None):  # a target group of type lambda: see lambda_target.py
            from . import lambda_target

            return lambda_target.forward(self, req, group, target, keep, started)
        if wg.sticky:
            now = self.worker.clock.now()
            token = self.worker.tokens.make(lst.lb + "|tg", group_arn, _until(now, wg.sticky_seconds))
            set_cookies.append(_cookie("AWSALBTG", token, wg.sticky_seconds, now))
            set_cookies.append(_cookie("AWSALBTGCORS", token, wg.sticky_seconds, now, cors=True))
        payload = self._upstream_request(req)
        self.exchange = Exchange(req, keep, target, group, set_cookies, started)
        target.outstanding += 1
        conn = self.worker.pool.take(target.host, target.port)
        if conn is not None:
            conn.start(payload, self.exchange.head_only, self, self.worker.clock.real_delay(lst.idle_timeout))
        else:
            asyncio.get_running_loop().create_task(self._connect_and_send(target, payload))
        return False

    async def _connect_and_send(self, target: Target, payload: bytes) -> None:
        try:
            conn = await self.worker.pool.connect(target.host, target.port)
        except OSError:
            ex = self.exchange
            if ex is None:
                return
            target.outstanding -= 1
            self.worker.stats.target_connection_error(self.listener.lb)
            if not self.closed:
                self._error(502, ex.keep, ex.req, ex.started, target, ex.group)
            self._complete(ex.keep)
            return
        if self.closed or self.exchange is None:
            self.worker.pool.release(conn)
            return
        self._send(conn, payload)

    def _send(self, conn, payload: bytes) -> None:
        conn.start(payload, self.exchange.head_only, self, self.worker.clock.real_delay(self.listener.idle_timeout))

    # -- what the target answers (called by the upstream connection) ---------------------------
    def upstream_head(self, conn, status: int, fields: bytes, length: bytes | None, no_body: bool) -> None:
        """The target's response head: ``fields`` are its field lines without the hop-by-hop ones
        (upstream.response_fields), ``length`` its Content-Length (None: none)."""
        ex = self.exchange
        group = ex.group
        sticky = group.stickiness
        if sticky and sticky.get("type") == "app_cookie":
            app_name = sticky.get("cookie_name", "").lower().encode()
            if any(v.split(b"=", 1)[0].strip().lower() == app_name for v in _SET_COOKIE.findall(fields)):
                now, seconds = self.worker.clock.now(), sticky.get("duration", 86400)
                ex.set_cookies.append(_cookie(sticky.get("cookie", "AWSALBAPP-0"),
                                              self.worker.tokens.make(group.arn, ex.target.key, _until(now, seconds)),
                                              seconds, now))
        lines = [_STATUS_LINES.get(status) or _status_line(status), fields]
        for cookie in ex.set_cookies:
            lines.append(f"Set-Cookie: {cookie}\r\n".encode())
        if length is not None:
            lines += [b"Content-Length: ", length, b"\r\n"]
            framing = "length"
        elif no_body or 100 <= status < 200:
            framing = "none"
        else:
            lines.append(b"Transfer-Encoding: chunked\r\n")
            framing = "chunked"
        lines.append(b"Connection: keep-alive\r\n\r\n" if ex.keep else b"Connection: close\r\n\r\n")
        self._status = status
        if self.listener.access_log:
            self._sent = sum(len(line) for line in lines) + (int(length) if length and not no_body else 0)
        conn.begin_body(b"".join(lines), framing)

    def upstream_done(self, conn) -> None:
        ex = self.exchange
        if ex is None:
            return
        ex.target.outstanding -= 1
        self.worker.stats.target_response(self.listener.lb, ex.group.arn, ex.target.key, self._status,
                                          time.monotonic() - ex.started)  # real-time measurement (latency)
        if self.listener.access_log:
            self._access(ex.req, self._status, ex.started, target=ex.target, group=ex.group,
                         target_status=self._status, sent=self._sent)
        if conn.reusable():
            self.worker.pool.release(conn)
        else:
            conn.close()
        if ex.keep and not self.closed:  # _complete(True), inline: once per request
            self.exchange = None
            self.busy = False
            self.seen = True
            if self.pending:
                self._next()
        else:
            self._complete(False)

    def upstream_failed(self, conn, exc: BaseException, head_sent: bool) -> None:
        ex = self.exchange
        conn.close()
        if ex is None:
            return
        ex.target.outstanding -= 1
        if head_sent or self.closed:
            # The response is already under way: all the client can get is an end.
            if not self.closed:
                self.transport.close()
                self.closed = True
            self._complete(False)
            return
        self._error(504 if isinstance(exc, TimeoutError) else 502, ex.keep, ex.req, ex.started, ex.target, ex.group)
        self._complete(ex.keep)

    def _choose(self, group, req, view, cookies) -> tuple[Target | None, list[str]]:
        lst = self.listener
        set_cookies: list[str] = []
        sticky = group.stickiness
        candidates = group.candidates(self.zone, lst.cross_zone)
        kind = sticky.get("type") if sticky else None
        if kind != "lb_cookie" and kind != "app_cookie" and not group.slow_start:
            return group.pick(candidates, 0.0, random), set_cookies  # neither stickiness nor slow start reads the clock
        chosen = None
        scope = group.arn
        now = self.worker.clock.now()
        if cookies is None and kind in ("lb_cookie", "app_cookie"):
            cookies = self._cookies(req, view)
        if kind == "lb_cookie":
            key = self.worker.tokens.read(scope, cookies.get(sticky.get("cookie", "AWSALB")), now)
            chosen = next((t for t in candidates if t.key == key), None) if key else None
        elif kind == "app_cookie":
            key = self.worker.tokens.read(scope, cookies.get(sticky.get("cookie", "AWSALBAPP-0")), now)
            chosen = next((t for t in candidates if t.key == key), None) if key else None
        if chosen is None:
            chosen = group.pick(candidates, now, random)
        if chosen is not None and kind == "lb_cookie":
            seconds = sticky.get("duration", 86400)
            token = self.worker.tokens.make(scope, chosen.key, _until(now, seconds))
            name = sticky.get("cookie", "AWSALB")
            set_cookies.append(_cookie(name, token, seconds, now))
            if name in ("AWSALB", "AWSELB"):  # ALB and Classic both add a SameSite=None twin for CORS
                set_cookies.append(_cookie(name + "CORS", token, seconds, now, cors=True))
        return chosen, set_cookies

    def _upstream_request(self, req: ParsedRequest) -> bytes:
        lst = self.listener
        parts = [req.method, b" ", req.url, b" HTTP/1.1\r\n"]
        forwarded_for = None
        trace = None
        for name, value in req.headers:
            special = _REQUEST_SPECIAL.get(name.lower())
            if special is None:
                parts += (name, b": ", value, b"\r\n")
            elif special == _XFF:
                forwarded_for = value
            elif special == _TRACE:
                trace = value
        client = self.peer_ip
        xff = forwarded_for + b", " + client if forwarded_for else client
        parts += (b"X-Forwarded-For: ", xff, lst.forwarded_proto_port)
        if lst.kind != "classic":
            tid = trace_id(trace, self.worker.clock.now())
            parts += [b"X-Amzn-Trace-Id: ", tid, b"\r\n"]
            if lst.access_log:
                self._trace = tid
        if lst.tls_headers and self.tls:
            parts += [b"x-amzn-tls-version: ", self.tls[0].encode(), b"\r\nx-amzn-tls-cipher-suite: ",
                      self.tls[1].encode(), b"\r\n"]
        body = b"".join(req.body) if req.body else b""
        if body or req.method in (b"POST", b"PUT", b"PATCH"):
            parts += [b"Content-Length: ", str(len(body)).encode(), b"\r\n"]
        parts += [b"Connection: keep-alive\r\n\r\n", body]
        return b"".join(parts)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _cookies(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        for part in line.split(";"):
            name, _, value = part.strip().partition("=")
            if name:
                out[name] = value
    return out


def _until(now: float, seconds: int | None) -> float | None:
    """When a stickiness cookie set at ``now`` goes stale (None: a session cookie, stale never)."""
    return None if seconds is None else now + seconds


def _cookie(name: str, value: str, seconds: int | None, now: float, cors: bool = False) -> str:
    """A Set-Cookie value whose Expires counts ``seconds`` from ``now`` on kumo's clock."""
    cookie = f"{name}={value}; Path=/"
    if seconds is not None:  # None: a session cookie (Classic's stickiness without CookieExpirationPeriod)
        expires = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now + seconds))
        cookie = f"{name}={value}; Expires={expires}; Path=/"
    if cors:
        cookie += "; SameSite=None; Secure"
    return cookie


_STATUS_LINES: dict[int, bytes] = {}


def _status_line(status: int) -> bytes:
    line = _STATUS_LINES.get(status)
    if line is None:
        line = _STATUS_LINES[status] = f"HTTP/1.1 {status} {_phrase(status)}\r\n".encode()
    return line
