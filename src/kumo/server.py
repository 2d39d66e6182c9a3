"""Wiring: one Kumo object holds the clock, the store, the controllers and the HTTP edge."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from typing import Any, Callable

from .core import tls

tls.import_aiohttp()  # before anything imports aiohttp: its client's TLS set-up waits for an outbound call

from aiohttp import web  # noqa: E402

from . import __version__
from .aws import specs
from .aws.connections import Runner
from .aws.gateway import Gateway
from .aws.guard import Guard
from .aws.timing import Timing
from .config import Settings
from .core.clock import Clock
from .core.controllers import ControllerManager
from .core.hub import ActionDispatch, EventHub, FunctionSink, MetricSink, ObjectSink
from .core.loopback import LoopbackClaim
from .core.pidlock import Held, PidLock
from .core.store import Store
from .core.trim import IdleTrim
from .registry import Services, route_owner

log = logging.getLogger("kumo")

CLOCK_SCOPE, CLOCK_KIND, CLOCK_KEY = "", "kumo.clock", "now"
# Kinds that survive a reset: the clock must never run backwards.
KEEP_ON_RESET = (CLOCK_KIND,)


class DataDirInUse(RuntimeError):
    """Another kumo runs on this data directory."""


def claim_data_dir(data_dir: str) -> PidLock:
    """One kumo per data directory: two would each run (and, stopping, kill) the same instances."""
    os.makedirs(data_dir, exist_ok=True)
    try:
        return PidLock(os.path.join(data_dir, "kumo.lock"))
    except Held as held:
        raise DataDirInUse(f"{data_dir} is in use by another kumo{f' (pid {held.pid})' if held.pid else ''}; "
                           f"stop that one (kumo stop) or give this one another --data-dir") from None


class Kumo:
    def __init__(self, settings: Settings, clock: Clock | None = None):
        self.settings = settings
        # Taken before the store opens, so a refused kumo never touches the holder's state.
        self._data_lock = None if settings.ephemeral else claim_data_dir(settings.data_dir)
        try:
            self.store = Store(settings.db_path)
        except BaseException:
            if self._data_lock is not None:
                self._data_lock.release()
            raise
        self.clock = clock or Clock(settings.time_scale)
        self._resume_clock()
        self.controllers = ControllerManager(self.clock)
        self.events = EventHub(self.clock)
        # Datapoints and alarm actions bring up the service that takes them (CloudWatch, an ARN's owner).
        self.metrics = MetricSink(wanted=lambda: self.services.get("cloudwatch"))
        self.actions = ActionDispatch(owner=lambda arn: self.services.owner_of(arn))
        self.objects = ObjectSink()
        self.functions = FunctionSink()
        self.gateway = Gateway(self)
        self.guard = Guard(settings)
        self.timing = Timing() if settings.request_timing else None
        self.idle_trim = IdleTrim(lambda: self.gateway.requests)
        self.started_at = self.clock.now()  # kumo's clock (the root user's CreateDate)
        self._started_real = time.monotonic()  # real-time measurement: the process's uptime
        self.ready_at: float | None = None
        self._loopback: LoopbackClaim | None = None
        self.services = Services(self)  # set up on first use (registry.py)
        self.running = False  # started: services loaded from now on start their controllers and hooks at once
        self._reset_hooks: list[Callable] = []
        self._start_hooks: list[Callable] = []
        self._stop_hooks: list[Callable] = []
        # Plain HTTP paths services serve beside the AWS API (fault injection, SNS's signing certificate),
        # in a router of their own: a service loaded after the app froze its router still adds its paths.
        self._routes = web.UrlDispatcher()
        self._runner: web.AppRunner | None = None
        self._clock_saver: asyncio.TimerHandle | None = None
        self.port: int | None = None
        # Set by a signal, ServerThread.stop or POST /_kumo/stop: the owner of the loop then calls stop().
        self.stop_requested = asyncio.Event()
        # Whether instances stop with kumo: an ephemeral kumo's could never be adopted; a durable one's keep
        # running (as after kill -9) unless asked (--stop-instances-on-exit, kumo stop --all).
        self.stop_workloads = settings.ephemeral or settings.stop_instances_on_exit
        # What stop hooks left running, by kind ("instance": 2), for the line kumo prints as it exits.
        self.left_running: dict[str, int] = {}

    # -- lifecycle ---------------------------------------------------------------
    def _resume_clock(self) -> None:
        saved = self.store.table(CLOCK_SCOPE, CLOCK_KIND).get(CLOCK_KEY)
        if saved:
            self.clock.jump_to(saved["now"])

    def _save_clock(self) -> None:
        self.store.table(CLOCK_SCOPE, CLOCK_KIND).put(CLOCK_KEY, {"now": self.clock.now()})
        # Every real second, not every simulated one: it bounds what a kill -9 loses in real time, and on
        # kumo's clock it would never run while time stands still, or run a thousand times a second at scale 1000.
        loop = asyncio.get_running_loop()
        self._clock_saver = loop.call_later(1.0, self._save_clock)

    def _setup_services(self) -> None:
        """Set up the services with durable state (``setup(kumo)``); the others load on first use."""
        self.services.setup_all(self.services.with_state())

    def on_reset(self, hook: Callable) -> None:
        self._reset_hooks.append(hook)

    def on_start(self, hook: Callable) -> None:
        """Run once the server listens (services start background work here)."""
        self._start_hooks.append(hook)

    def on_stop(self, hook: Callable) -> None:
        self._stop_hooks.append(hook)

    def route(self, method: str, path: str, handler: Callable) -> None:
        """A plain HTTP endpoint of a service under /_kumo/, e.g. fault injection or SNS's signing certificate."""
        self._routes.add_route(method, path, handler)

    @property
    def endpoint(self) -> str:
        """Where kumo itself can be reached (for URLs it hands out outside a request: SNS's SigningCertURL)."""
        host = self.settings.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port or self.settings.port}"

    def app(self) -> web.Application:
        # Every /_kumo route, ours and the services', is behind the guard; the gateway screens the rest.
        guard = self.guard.wrap
        app = web.Application(client_max_size=1024**3)
        app.router.add_get("/_kumo/health", guard(self._health))
        app.router.add_post("/_kumo/reset", guard(self._reset))
        app.router.add_get("/_kumo/clock", guard(self._clock_get))
        app.router.add_post("/_kumo/clock", guard(self._clock_post))
        app.router.add_post("/_kumo/stop", guard(self._stop_post))
        if self.timing is not None:
            app.router.add_get("/_kumo/timing", guard(self.timing.get))
            app.router.add_post("/_kumo/timing", guard(self.timing.post))
        app.router.add_route("*", r"/_kumo/{tail:[\s\S]*}", guard(self._service_route))
        # [\s\S], not ".": a path may decode to a newline (%0A), and a route that misses answers a plain 404.
        app.router.add_route("*", r"/{tail:[\s\S]*}", self.gateway.handle)
        return app

    async def start(self) -> int:
        self._loopback = LoopbackClaim(self.settings.loopback_base)
        self.clock.bind(asyncio.get_running_loop())
        self._setup_services()
        # A verified signature covers the body as sent: the gateway then undoes request compression itself.
        self._runner = Runner(self.app(), idle=self.settings.idle_timeout, header=self.settings.header_timeout,
                              access_log=None, handle_signals=False,
                              auto_decompress=not self.settings.enforce_signatures, timing=self.timing)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port, reuse_address=True)
        await site.start()
        if self.timing is not None:
            self.timing.start(asyncio.get_running_loop())
        self.idle_trim.start(asyncio.get_running_loop())
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.settings.port
        # Controllers start once the endpoint is known: workloads they boot are told where kumo is.
        await self.controllers.start()
        self._save_clock()
        for hook in self._start_hooks:
            result = hook()
            if asyncio.iscoroutine(result):
                await result
        self.running = True
        self.ready_at = self.clock.now()
        return self.port

    async def stop(self) -> None:
        if self._clock_saver is not None:
            self._clock_saver.cancel()
        if self.timing is not None:
            self.timing.stop()
        self.idle_trim.stop()
        try:
            self.store.table(CLOCK_SCOPE, CLOCK_KIND).put(CLOCK_KEY, {"now": self.clock.now()})
        except Exception:
            log.exception("could not save the clock")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for hook in self._stop_hooks:
            try:
                result = hook()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("a stop hook failed")
        await self.controllers.stop()
        self.clock.close()
        self.store.close()
        if self._loopback is not None:
            self._loopback.release()
            self._loopback = None
        if self._data_lock is not None:
            self._data_lock.release()
            self._data_lock = None

    async def reset(self) -> None:
        """Wipe all state: tear the running world down, then empty the store."""
        await self.controllers.reset()
        for hook in self._reset_hooks:
            result = hook()
            if asyncio.iscoroutine(result):
                await result
        self.store.wipe(keep_kinds=KEEP_ON_RESET)

    # -- /_kumo endpoints ---------------------------------------------------------------
    def health(self) -> dict:
        return {
            "version": __version__,
            "uptime": round(time.monotonic() - self._started_real, 3),  # real-time measurement
            "endpoint": f"http://{self.settings.host}:{self.port or self.settings.port}",
            "services": self.gateway.service_states(),
            "clock": {"now": self.clock.now(), "scale": self.clock.scale},
            "state": {"ephemeral": self.settings.ephemeral, "path": self.store.path, "records": self.store.count()},
            "controllers": self.controllers.stats(),
            "requests": self.gateway.requests,
            "internal_errors": self.gateway.internal_errors,
            "enforce_signatures": self.settings.enforce_signatures,
            "enforce_iam": self.settings.enforce_iam,
        }

    async def _service_route(self, request: web.Request) -> web.StreamResponse:
        match = await self._routes.resolve(request)
        if match.http_exception is not None:
            owner = route_owner(request.path)
            if owner is None or self.services.loaded(owner):
                return await self.gateway.handle(request)  # as any path no route takes
            await self.services.load(owner)
            match = await self._routes.resolve(request)
            if match.http_exception is not None:
                return await self.gateway.handle(request)
        match.add_app(request.app)
        request._match_info = match  # aiohttp's own dispatch sets it so; the handler reads its path's parameters
        return await match.handler(request)

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response(self.health())

    async def _reset(self, request: web.Request) -> web.Response:
        await self.reset()
        return web.json_response({"reset": True})

    async def _stop_post(self, request: web.Request) -> web.Response:
        """Stop this kumo (``kumo stop``); ``{"instances": "stop"}`` stops its instances too (``--all``)."""
        try:
            body = await request.json() if request.can_read_body else {}
            if not isinstance(body, dict) or body.get("instances", "keep") not in ("keep", "stop"):
                raise ValueError('expected {"instances": "keep" | "stop"}')
        except (ValueError, json.JSONDecodeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        if body.get("instances") == "stop":
            self.stop_workloads = True
        # Answered first: the stop itself closes this connection's server.
        asyncio.get_running_loop().call_soon(self.stop_requested.set)
        return web.json_response({"stopping": True, "pid": os.getpid(), "instances": (
            "stop" if self.stop_workloads else "keep")})

    async def _clock_get(self, request: web.Request) -> web.Response:
        return web.json_response({"now": self.clock.now(), "scale": self.clock.scale})

    async def _clock_post(self, request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            if "scale" in body:
                self.clock.set_scale(float(body["scale"]))
            if "advance" in body:
                await self.clock.advance(float(body["advance"]))
                await self.controllers.idle()
        except (ValueError, TypeError, json.JSONDecodeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"now": self.clock.now(), "scale": self.clock.scale})


def new_event_loop() -> asyncio.AbstractEventLoop:
    """asyncio's own loop for the control plane; ``KUMO_UVLOOP=1`` picks uvloop when it is installed.

    Measured (server CPU per STS GetCallerIdentity, 600 sequential calls and 20 concurrent clients, A/B
    alternated): uvloop's and asyncio's were within the noise of each other, while uvloop costs 2.2 MiB of
    idle RSS (its extension and its thread pool). The load balancer workers, which relay bytes, keep uvloop.
    """
    if os.environ.get("KUMO_UVLOOP") == "1":
        try:
            import uvloop

            return uvloop.new_event_loop()
        except ImportError:
            pass
    return asyncio.new_event_loop()


class ServerThread:
    """A kumo server on a thread of its own (tests, and embedding kumo in a Python program)."""

    def __init__(self, settings: Settings, clock: Clock | None = None):
        self.settings = settings
        self._clock = clock
        self.kumo: Kumo | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.settings.host}:{self.kumo.port}"

    def start(self, timeout: float = 30.0) -> "ServerThread":
        self._thread = threading.Thread(target=self._run, name="kumo-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("kumo did not start in time")
        if self._error:
            raise self._error
        return self

    def _run(self) -> None:
        self.loop = new_event_loop()
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        finally:
            self.loop.close()

    async def _main(self) -> None:
        try:
            self.kumo = Kumo(self.settings, self._clock)
            self._stop = self.kumo.stop_requested
            await self.kumo.start()
        except BaseException as exc:  # report start failures to the caller
            self._error = exc
            if self.kumo is not None:  # let go of its data directory and networks
                try:
                    await self.kumo.stop()
                except Exception:
                    log.exception("stopping a kumo that failed to start")
            self._ready.set()
            return
        self._ready.set()
        await self._stop.wait()
        await self.kumo.stop()

    def call(self, coro, timeout: float = 60.0):
        """Run a coroutine on the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def run(self, fn: Callable, *args):
        """Run a plain function on the server's loop (the store and clock belong to it)."""

        async def _call():
            return fn(*args)

        return self.call(_call())

    def advance(self, seconds: float) -> None:
        """Move simulated time forward and wait for the controllers to settle."""

        async def _advance():
            await self.kumo.clock.advance(seconds)
            await self.kumo.controllers.idle()

        self.call(_advance())

    def stop(self, timeout: float = 30.0) -> None:
        if self.loop is not None and self._stop is not None and self._thread and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout)
