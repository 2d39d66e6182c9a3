"""A data plane worker process: serves every load balancer listener from the control plane's snapshot.

kumo runs a few of these (one per CPU by default); each binds every listener
address with SO_REUSEPORT and the kernel spreads connections among them.  The
control plane sends config snapshots and clock updates over a Unix socket
(4-byte length + JSON); workers send back their counters every second.

    python -m kumo.dataplane.lb.worker <control socket path>

A worker outlives the control plane: when kumo stops (kill -9 included) it keeps
serving its last snapshot for up to ORPHAN_GRACE, so traffic does not wait for
kumo to start again.  The next kumo's workers bind beside it, and once they
serve, the control plane retires it with SIGTERM: it closes its listeners, lets
exchanges under way finish (at most RETIRE_GRACE) and exits.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import ssl
import struct
import sys
import time

from . import rules as R
from .balance import Group, StickyTokens, Target
from .stats import Stats

log = logging.getLogger("kumo.dataplane.lb.worker")
TICK = 0.25  # real seconds between idle-timeout sweeps (how soon a timeout is noticed, not how long it is)
REPORT_EVERY = 1.0  # real seconds between counter reports to the control plane
MAX_LOG_LINES = 200_000  # access log lines a worker holds per load balancer between reports
# Real seconds: how long a worker whose kumo is gone serves on alone, and how long a retiring one lets
# exchanges under way finish.  Real time, since no kumo clock runs meanwhile.
ORPHAN_GRACE = 60.0
RETIRE_GRACE = 2.0


class ClockView:
    """kumo's simulated clock (core/clock.py) as this process sees it: every timestamp, expiry and
    timeout of a worker reads it.  The control plane sends it with each config snapshot and whenever
    time jumps or changes pace; in between it runs on from the last update at the last scale."""

    def __init__(self):
        # Frozen at 0 until the first update: nothing serves before the first config, which carries the clock.
        self.sim, self.real, self.scale = 0.0, time.monotonic(), 0.0
        self._delays: dict[float, float | None] = {}  # real_delay's answers at the current pace

    def update(self, sim: float, scale: float) -> None:
        self.sim, self.real, self.scale = sim, time.monotonic(), scale
        self._delays = {}

    def now(self) -> float:
        return self.sim + (time.monotonic() - self.real) * self.scale

    def real_delay(self, sim_seconds: float) -> float | None:
        """Real seconds that ``sim_seconds`` take at the clock's current pace (None: frozen, never)."""
        try:
            return self._delays[sim_seconds]  # asked once per proxied request, with a listener's idle timeout
        except KeyError:
            delay = self._delays[sim_seconds] = None if self.scale == 0 else max(0.05, sim_seconds / self.scale)
            return delay


class ListenerRuntime:
    def __init__(self, spec: dict):
        self.id = spec["id"]
        self.update(spec)
        self.servers: list = []

    def update(self, spec: dict) -> None:
        self.spec = spec
        self.lb = spec["lb"]
        self.kind = spec["kind"]  # application | network | classic
        self.protocol = spec["protocol"]
        self.port = spec["port"]
        self.addresses = {a["ip"]: a["zone"] for a in spec["addresses"]}
        self.cross_zone = spec.get("cross_zone", True)
        self.idle_timeout = float(spec.get("idle_timeout", 60))
        self.drop_invalid_headers = bool(spec.get("drop_invalid_headers"))
        self.tls_headers = bool(spec.get("tls_headers"))
        self.access_log = spec.get("access_log")  # None, or the format: "alb", "classic" or "nlb"
        self.rules = R.compile_rules(spec.get("rules") or [])
        self.default_group = spec.get("default_group")
        # With only the default rule there is nothing to match: requests skip building a rules view.
        only = self.rules[0] if len(self.rules) == 1 and not self.rules[0].matchers else None
        self.default_actions = only.actions if only else None
        proto = b"https" if self.protocol in ("HTTPS", "SSL") else b"http"
        self.forwarded_proto_port = b"\r\nX-Forwarded-Proto: %s\r\nX-Forwarded-Port: %d\r\n" % (proto, self.port)

    def zone_of(self, ip: str) -> str | None:
        return self.addresses.get(ip)

    def actions_for(self, request: R.Request) -> list[dict]:
        rule = R.first_match(self.rules, request)
        return rule.actions if rule else []

    def bind_key(self) -> tuple:
        certs = tuple(sorted(c["arn"] for c in self.spec.get("certificates") or []))
        return (self.protocol, self.port, tuple(sorted(self.addresses)), certs)


class Worker:
    def __init__(self, control_path: str):
        self.control_path = control_path
        self.log = log
        self.clock = ClockView()
        self.stats = Stats()
        self.tokens = StickyTokens(b"")
        self.groups: dict[str, Group] = {}
        self.listeners: dict[str, ListenerRuntime] = {}
        self.connections: set = set()
        from .upstream import UpstreamPool

        self.pool = UpstreamPool()
        self.writer: asyncio.StreamWriter | None = None
        self.bind_errors: dict[str, str] = {}
        self.access_lines: dict[str, list[str]] = {}  # load balancer -> access log lines not yet reported

    def access_line(self, lb: str, line: str) -> None:
        lines = self.access_lines.setdefault(lb, [])
        if len(lines) < MAX_LOG_LINES:  # bounded: a control plane that stopped listening must not grow this
            lines.append(line)

    # -- control channel ---------------------------------------------------------------------------
    async def run(self) -> None:
        reader, self.writer = await asyncio.open_unix_connection(self.control_path)
        await self._send({"type": "hello", "pid": os.getpid()})
        loop = asyncio.get_running_loop()
        loop.create_task(self._report_forever())
        loop.create_task(self._sweep_forever())
        while True:
            head = await reader.readexactly(4)
            message = json.loads(await reader.readexactly(struct.unpack("!I", head)[0]))
            kind = message.get("type")
            if kind == "config":
                await self.apply(message)
                await self._send({"type": "applied", "version": message.get("version")})
            elif kind == "clock":
                self._set_clock(message)
                await self._send({"type": "applied", "version": message.get("version")})
            elif kind == "report":  # the control plane collects now (access logs due on kumo's clock)
                await self._report_once()
                await self._send({"type": "applied", "version": message.get("version")})
            elif kind == "stop":
                return

    async def _send(self, message: dict) -> None:
        data = json.dumps(message, separators=(",", ":")).encode()
        self.writer.write(struct.pack("!I", len(data)) + data)
        await self.writer.drain()

    async def _report_forever(self) -> None:
        while True:
            # Real time on purpose: counters cross to the control plane at a steady real pace, so the in-flight
            # counts that end a Classic drain arrive on a frozen clock too; the control plane files them under
            # minutes of kumo's clock.
            await asyncio.sleep(REPORT_EVERY)
            if not await self._report_once():
                return  # the control plane is gone: nobody to report to

    async def _report_once(self) -> bool:
        """Send the counters (and access log lines) gathered since the last report; False once kumo is gone."""
        for conn in self.connections:
            conn.collect()
        snapshot = self.stats.drain()
        # Requests and connections still open on draining targets: Classic ends a drain when they are done.
        draining = {arn: {t.key: t.outstanding for t in g.targets if t.state == "draining"}
                    for arn, g in self.groups.items() if any(t.state == "draining" for t in g.targets)}
        logs, self.access_lines = self.access_lines, {}
        if snapshot or self.bind_errors or draining or logs:
            try:
                await self._send({"type": "stats", "stats": snapshot, "bind_errors": self.bind_errors,
                                  "draining": draining, "logs": logs})
            except (ConnectionError, RuntimeError):
                return False
        return True

    async def _sweep_forever(self) -> None:
        """Idle timeouts.  A connection with nothing under way is judged on kumo's clock: a jump of the clock
        (advance) expires it as time running would, and a frozen clock expires none.  An exchange waiting on a
        target gets the idle timeout at the clock's pace in real seconds instead (``real_delay``): the target
        answers in real time, so an advance must not time out a request in flight.  The sweep itself polls in
        real time (TICK), because the view of the clock can jump at any moment."""
        while True:
            await asyncio.sleep(TICK)
            now = self.clock.now()
            self._stamp(now)
            for conn in list(self.connections):
                lst = conn.listener
                limit = lst.idle_timeout  # an NLB listener's is its tcp.idle_timeout.seconds (350 by default)
                if not conn.busy and now - conn.last_activity > limit:
                    conn.transport.close()
            for lst in self.listeners.values():
                for server in lst.servers:
                    if hasattr(server, "sweep"):
                        server.sweep()
            self.pool.sweep(time.monotonic())  # real time: exchanges in flight wait on real targets

    # -- config ---------------------------------------------------------------------------------------
    def _set_clock(self, state: dict) -> None:
        # Activity seen since the last sweep happened before this jump: stamp it with the time before.
        self._stamp(self.clock.now())
        self.clock.update(state["sim"], state["scale"])

    def _stamp(self, now: float) -> None:
        for conn in self.connections:
            if conn.seen:
                conn.seen = False
                conn.last_activity = now

    async def apply(self, message: dict) -> None:
        self._set_clock(message["clock"])
        self.tokens = StickyTokens(bytes.fromhex(message["secret"]))
        groups = {}
        for arn, spec in message["groups"].items():
            old = self.groups.get(arn)
            known = {t.key: t for t in old.targets} if old else {}
            targets = [self._target(known, t) for t in spec["targets"]]
            group = Group(arn, targets, spec.get("algorithm", "round_robin"), float(spec.get("slow_start", 0)),
                          spec.get("stickiness") or {}, spec.get("protocol", "HTTP"))
            group.proxy_protocol = bool(spec.get("proxy_protocol_v2"))
            group.cross_zone = spec.get("cross_zone")
            group.preserve_client_ip = bool(spec.get("preserve_client_ip"))
            group.fail_open = spec.get("fail_open", True)
            group.lambda_spec = spec.get("lambda")  # lambda target groups (lambda_target.py)
            if old is not None:
                group._rr = old._rr
            groups[arn] = group
            gone = {t.key for t in (old.targets if old else [])} - {t.key for t in targets}
            for key in gone:
                host, port = next(((t.host, t.port) for t in old.targets if t.key == key), (None, None))
                if host:
                    self.pool.drop(host, port)
        self.groups = groups
        wanted = {spec["id"]: spec for spec in message["listeners"]}
        for lid in list(self.listeners):
            if lid not in wanted or self.listeners[lid].bind_key() != ListenerRuntime(wanted[lid]).bind_key():
                self._close(self.listeners.pop(lid))
        for lid, spec in wanted.items():
            if lid in self.listeners:
                self.listeners[lid].update(spec)
            else:
                lst = ListenerRuntime(spec)
                self.listeners[lid] = lst
                await self._open(lst)

    @staticmethod
    def _target(known: dict[str, Target], spec: dict) -> Target:
        """A target of the new snapshot; the same object as before when it was already there, so that
        exchanges under way count their end on the target that routing now looks at."""
        target = known.get(spec["key"])
        if target is None:
            return Target(spec["key"], spec["host"], spec["port"], spec["zone"], spec["state"],
                          spec.get("healthy_since", 0.0))
        target.host, target.port, target.zone = spec["host"], spec["port"], spec["zone"]
        target.state, target.healthy_since = spec["state"], spec.get("healthy_since", 0.0)
        return target

    def _close(self, lst: ListenerRuntime) -> None:
        for server in lst.servers:
            server.close()
        lst.servers = []
        self.bind_errors.pop(lst.id, None)
        for conn in list(self.connections):
            if conn.listener is lst:
                conn.transport.close()

    async def _open(self, lst: ListenerRuntime) -> None:
        loop = asyncio.get_running_loop()
        from .http_proxy import ClientConnection
        from .tcp_proxy import TcpClient, UdpListener

        ssl_ctx = _tls_context(lst.spec) if lst.protocol in ("HTTPS", "TLS", "SSL") else None
        if lst.protocol in ("HTTPS", "TLS", "SSL") and ssl_ctx is None:
            # Without a usable certificate a TLS listener must not answer in the clear: it stays closed.
            self.bind_errors[lst.id] = "no usable certificate (the listener's certificates are not ISSUED)"
            return
        errors = []
        for ip in lst.addresses:
            try:
                if lst.protocol in ("UDP", "TCP_UDP"):
                    sock = _udp_socket(ip, lst.port)
                    transport, proto = await loop.create_datagram_endpoint(lambda: UdpListener(self, lst), sock=sock)
                    lst.servers.append(_UdpServer(transport, proto))
                if lst.protocol != "UDP":
                    if lst.protocol in ("HTTP", "HTTPS"):
                        factory = lambda: ClientConnection(self, lst)  # noqa: E731
                    else:
                        factory = lambda: TcpClient(self, lst)  # noqa: E731
                    server = await loop.create_server(factory, ip, lst.port, reuse_port=True, ssl=ssl_ctx,
                                                      backlog=1024)
                    lst.servers.append(server)
            except OSError as exc:
                errors.append(f"{ip}:{lst.port}: {exc.strerror or exc}")
        if errors:
            self.bind_errors[lst.id] = "; ".join(errors)


class _UdpServer:
    def __init__(self, transport, protocol):
        self.transport, self.protocol = transport, protocol

    def close(self):
        for flow in list(self.protocol.flows.values()):
            flow.close()
        self.transport.close()

    def sweep(self):
        self.protocol.sweep()


def _udp_socket(ip: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((ip, port))
    sock.setblocking(False)
    return sock


def _tls_context(spec: dict) -> ssl.SSLContext | None:
    """One context per certificate; SNI picks the one whose names match, else the default."""
    import tempfile

    certs = spec.get("certificates") or []
    if not certs:
        return None
    contexts = []
    for cert in certs:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.NamedTemporaryFile("w", suffix=".pem") as cf, tempfile.NamedTemporaryFile("w", suffix=".key") as kf:
            cf.write(cert["certificate_pem"] + ("\n" + cert["chain_pem"] if cert.get("chain_pem") else ""))
            kf.write(cert["private_key_pem"])
            cf.flush()
            kf.flush()
            ctx.load_cert_chain(cf.name, kf.name)
        contexts.append((cert, ctx))
    default = next((c for c in contexts if c[0].get("default")), contexts[0])

    def choose(ssl_object, server_name, _ctx):
        if server_name:
            for cert, ctx in contexts:
                if any(_name_matches(n, server_name) for n in cert.get("names") or []):
                    ssl_object.context = ctx
                    return None
        ssl_object.context = default[1]
        return None

    default[1].sni_callback = choose
    return default[1]


def _name_matches(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower(), host.lower()
    if pattern.startswith("*."):
        return "." in host and host.split(".", 1)[1] == pattern[2:]
    return pattern == host


async def serve(worker: Worker) -> None:
    """Run until kumo says stop; serve on alone while no kumo is there; retire gracefully on SIGTERM."""
    loop = asyncio.get_running_loop()
    retire = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, retire.set)
    run = loop.create_task(worker.run())
    retiring = loop.create_task(retire.wait())
    await asyncio.wait([run, retiring], return_when=asyncio.FIRST_COMPLETED)
    if run.done() and not retire.is_set():
        try:
            run.result()
            return  # told to stop
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass  # the control plane went away: serve on until the next kumo retires us, or the grace ends
        try:
            await asyncio.wait_for(retire.wait(), ORPHAN_GRACE)
        except asyncio.TimeoutError:
            pass
    run.cancel()
    retiring.cancel()
    for lst in worker.listeners.values():
        for server in lst.servers:
            server.close()
    deadline = time.monotonic() + RETIRE_GRACE  # real-time measurement, see RETIRE_GRACE
    while any(getattr(c, "busy", False) for c in worker.connections) and time.monotonic() < deadline:  # real-time measurement
        await asyncio.sleep(0.02)


def main() -> None:
    import gc

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # A proxy allocates short-lived objects by the million: collect the young generation rarely,
    # so collector pauses do not show in tail latency.
    gc.set_threshold(50_000, 20, 100)
    try:
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    worker = Worker(sys.argv[1])
    gc.freeze()
    try:
        loop.run_until_complete(serve(worker))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
