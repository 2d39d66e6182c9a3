"""Execution environments: runtime processes that kumo starts, reuses, scales out and reaps.

One ``Environment`` is one runtime process with a Runtime API listener of its
own.  It serves one invocation at a time:

    init ──first GET next──► ready ◄──────────────┐
      │                        │ invoke           │ POST response / error
      │ init error, exit,      ▼                  │
      │ 10 s init limit      busy ────────────────┘
      ▼                        │ timeout, exit (crash, out of memory)
    dead ◄─────────────────────┘

Environments belong to pools (``fleet.py``), whose starter task calls
``start``.  A crash or timeout kills the environment, so the next invocation
starts a fresh one and runs init again, as on AWS.

The init limit and the function's timeout run on kumo's clock (at
``--time-scale`` 1 they are the wall-clock seconds AWS gives; an advance
ends a hung invocation).  Init Duration and Duration are real-time
measurements: the function's code runs in real time.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass, field

from ...dataplane.compute import peers
from . import runtime_api, telemetry
from .runtimes import Launch
from .sandbox import LaunchSpec, Launched, install_root

log = logging.getLogger("kumo.lambda")
INIT_LIMIT = 10.0  # seconds: AWS's limit on the init phase
TAIL_BYTES = 4096


@dataclass
class Target:
    """What environments of one pool run: one version (or $LATEST revision) of a function."""

    account: str
    region: str
    name: str
    version: str  # "$LATEST" or "1", "2" ...
    revision: str
    function_arn: str  # unqualified
    config: dict  # the version's FunctionConfiguration (Runtime, Handler, MemorySize, Timeout ...)
    code_dir: str
    layer_dirs: list[str]
    launch: Launch
    merged_layers: str | None = None  # all layers in one directory, for hosts without mount namespaces

    @property
    def key(self) -> tuple:
        return (self.account, self.region, self.name, self.version)

    @property
    def memory_mb(self) -> int:
        return int(self.config.get("MemorySize") or 128)

    @property
    def timeout(self) -> float:
        return float(self.config.get("Timeout") or 3)

    @property
    def log_group(self) -> str:
        return (self.config.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{self.name}"


@dataclass
class Invocation:
    request_id: str
    payload: bytes
    invoked_arn: str
    deadline_s: float  # function timeout
    client_context: str | None = None  # base64, as the API takes it
    tail: bool = False
    lines: list[str] = field(default_factory=list)
    future: asyncio.Future | None = None
    sent_at: float = 0.0
    sent: bool = False


@dataclass
class Outcome:
    """How one invocation ended, as the API and the logs report it."""

    payload: bytes
    error: str | None = None  # errorType when the function failed ("Unhandled" at the API)
    duration_ms: float = 0.0
    init_ms: float | None = None
    memory_used: int = 0
    status: str | None = None  # REPORT "Status:" (timeout, error) when the platform ended it
    log_tail: str = ""
    provisioned: bool = False

    @property
    def failed(self) -> bool:
        return self.error is not None


class InitFailed(Exception):
    """The environment could not start; ``doc`` is the error an invocation reports."""

    def __init__(self, doc: dict, status: str | None = None, env: "Environment | None" = None):
        super().__init__(doc.get("errorMessage", "init failed"))
        self.doc = doc
        self.status = status
        self.stream = env.stream if env is not None else None
        self.init_ms = env.init_ms if env is not None else None
        self.lines = list(env.init_lines) if env is not None else []


def error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


class Environment:
    def __init__(self, fleet, pool, provisioned: bool = False):
        self.fleet = fleet
        self.pool = pool
        self.target = pool.target
        self.id = secrets.token_hex(16)
        self.provisioned = provisioned
        self.state = "init"
        self.conn: runtime_api.RuntimeConnection | None = None
        self.server: asyncio.AbstractServer | None = None
        self.launched: Launched | None = None
        self.current: Invocation | None = None
        self.ready: asyncio.Future = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future = asyncio.get_running_loop().create_future()  # set once all is released
        self.init_started = 0.0
        self.init_ms: float | None = None
        # The first invocation reports Init Duration; provisioned environments initialise ahead of any.
        self.first_pending = not provisioned
        self.last_used = fleet.clock.now()
        self.stream = telemetry.stream_name(fleet.clock.now(), self.target.version, self.id)
        self.init_error: dict | None = None
        self.init_lines: list[str] = []  # what init printed (an init failure's LogType Tail shows it)
        self._out = b""
        self._timers: list = []  # kumo clock timers (init limit, function timeout)
        self._pidfd: int | None = None
        self.invocations = 0

    # -- start -----------------------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.server, address = await runtime_api.serve(self)
        if self.state != "init":  # killed while its listener opened: nothing to launch
            await self.close()
            return
        sandbox = self.fleet.sandbox
        t = self.target
        task_root = sandbox.task_root(t.code_dir)
        runtime_dir = sandbox.runtime_dir()
        opt_dir = "/opt" if sandbox.namespaces else (t.merged_layers or "/opt")
        bootstrap = None
        if t.launch.family == "provided":
            bootstrap = self._custom_bootstrap(task_root, opt_dir)
        env = self.fleet.environment_for(self, address, task_root, opt_dir, runtime_dir)
        spec = LaunchSpec(self.id, t.launch.argv(runtime_dir, task_root, opt_dir, t.memory_mb, bootstrap), env,
                          t.code_dir, t.layer_dirs, t.memory_mb,
                          int((t.config.get("EphemeralStorage") or {}).get("Size") or 512),
                          t.launch.address_space_limit,
                          install_root(t.launch.program) + ([t.launch.client_dir] if t.launch.client_dir else []))
        self.init_started = time.perf_counter()  # real-time measurement: Init Duration
        try:
            self.launched = sandbox.launch(spec)
        except OSError as exc:
            self._fail_init({"errorType": "Runtime.InvalidEntrypoint",
                             "errorMessage": f"RequestId: {{rid}} Error: fork/exec {spec.argv[0]}: {exc.strerror}"})
            await self.close()
            return
        loop.add_reader(self.launched.output_fd, self._on_output)
        try:
            self._pidfd = os.pidfd_open(self.launched.pid)
            loop.add_reader(self._pidfd, self._on_exit)
        except (AttributeError, OSError):  # no pidfd: watch the output pipe's end instead
            self._pidfd = None
        self._timers.append(self.fleet.clock.call_later(INIT_LIMIT, self._init_timeout))

    def start_failed(self, exc: Exception) -> None:
        """``start`` raised: the environment is dead, and whoever waits for it gets an init error."""
        self._fail_init({"errorType": "Runtime.Unknown",
                         "errorMessage": f"RequestId: {{rid}} Error: could not start the runtime: {exc}"})
        self.kill()

    def _custom_bootstrap(self, task_root: str, opt_dir: str) -> str:
        code, layers = self.target.code_dir, self.target.layer_dirs
        if os.path.exists(os.path.join(code, "bootstrap")):
            return f"{task_root}/bootstrap"
        if any(os.path.exists(os.path.join(d, "bootstrap")) for d in layers):
            return f"{opt_dir}/bootstrap"
        return f"{task_root}/bootstrap"  # missing: the exec fails and init reports it

    # -- Runtime API callbacks ------------------------------------------------------------------
    def admits(self, peer, local) -> bool:
        """Whether a process of this environment (its runtime, or one the runtime started) is the caller."""
        launched = self.launched
        if launched is None or not peer or not local:
            return False
        if peers.holder(peers.socket_inode(peer, local), self.fleet.sandbox.members(launched)) is not None:
            return True
        log.warning("%s: Runtime API connection from %s:%s refused: not a process of the environment",
                    self.target.name, peer[0], peer[1])
        return False

    def on_next(self, conn: runtime_api.RuntimeConnection) -> None:
        if self.state == "dead":
            return
        self.conn = conn
        if self.state == "init":
            self.init_ms = (time.perf_counter() - self.init_started) * 1000  # real-time measurement
            self.state = "ready"
            self._cancel_timers()
            if not self.ready.done():
                self.ready.set_result(True)
        inv = self.current
        if inv is not None and not inv.sent:
            self._send(inv)

    def on_result(self, conn, request_id: str, ok: bool, body: bytes, headers: dict) -> None:
        inv = self.current
        if inv is None or not inv.sent or inv.request_id != request_id:
            conn.reply(400, {"errorMessage": f"Invalid request ID: {request_id}", "errorType": "InvalidRequestID"})
            return
        if ok:
            self._complete(inv, Outcome(body))
        else:
            error = headers.get("lambda-runtime-function-error-type") or "Unhandled"
            try:
                doc = json.loads(body) if body else {}
                if isinstance(doc, dict) and doc.get("errorType"):
                    error = doc["errorType"]
            except ValueError:
                pass
            self._complete(inv, Outcome(body or error_payload(error, ""), error=error))
        conn.accepted()  # after the caller was woken: the 202 goes out once the caller's answer has

    def on_init_error(self, conn, body: bytes, headers: dict) -> None:
        if self.state != "init":
            conn.reply(403, {"errorMessage": "Init error is only accepted during init",
                             "errorType": "InvalidStateTransition"})
            return
        conn.reply(202)
        try:
            doc = json.loads(body) if body else {}
        except ValueError:
            doc = {}
        if not isinstance(doc, dict):
            doc = {}
        doc.setdefault("errorType", headers.get("lambda-runtime-function-error-type") or "Runtime.Unknown")
        doc.setdefault("errorMessage", "")
        self._fail_init(doc, status="error")

    def on_too_large(self, conn, request_id: str) -> None:
        conn.reply(413, {"errorMessage": f"Exceeded maximum allowed payload size ({runtime_api.MAX_RESPONSE} bytes).",
                         "errorType": "RequestEntityTooLarge"})
        inv = self.current
        if inv is not None and inv.request_id == request_id:
            self._complete(inv, Outcome(error_payload(
                "Function.ResponseSizeTooLarge",
                f"Response payload size exceeded maximum allowed payload size ({runtime_api.MAX_RESPONSE} bytes)."),
                error="Function.ResponseSizeTooLarge"))

    # -- invoking ---------------------------------------------------------------------------------
    def invoke(self, inv: Invocation) -> asyncio.Future:
        """Hand ``inv`` to this (ready, idle) environment; the future resolves with an ``Outcome``."""
        loop = asyncio.get_running_loop()
        inv.future = loop.create_future()
        self.current = inv
        self.state = "busy"
        self.invocations += 1
        if self.conn is not None and not self.conn.closed:
            self._send(inv)
        return inv.future

    def _send(self, inv: Invocation) -> None:
        t = self.target
        clock = self.fleet.clock
        # The deadline is read by the function against the host's clock (its context's remaining time), so it
        # is placed on the host's wall clock: now plus the real seconds the timeout takes on kumo's clock.
        real_timeout = clock.real_delay(inv.deadline_s)
        deadline_ms = int((time.time() + (inv.deadline_s if real_timeout is None else real_timeout)) * 1000)
        trace = f"Root=1-{int(clock.now()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"
        headers = {"Lambda-Runtime-Aws-Request-Id": inv.request_id, "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                   "Lambda-Runtime-Invoked-Function-Arn": inv.invoked_arn, "Lambda-Runtime-Trace-Id": trace}
        if inv.client_context:
            try:
                headers["Lambda-Runtime-Client-Context"] = base64.b64decode(inv.client_context).decode()
            except (ValueError, UnicodeDecodeError):
                pass
        conn, self.conn = self.conn, None
        self._line(telemetry.start_line(inv.request_id, t.version), inv)
        inv.sent_at = time.perf_counter()  # real-time measurement: Duration
        inv.sent = True
        if not conn.send_event(headers, inv.payload):
            self._crash("the runtime closed its Runtime API connection")
            return
        self._timers.append(clock.call_later(inv.deadline_s, self._invoke_timeout, inv))

    def _complete(self, inv: Invocation, outcome: Outcome) -> None:
        """Finish ``inv``: answer its caller, and log its END and REPORT lines.

        Unless the caller wants the log tail, the caller is woken first and the bookkeeping (draining the
        output pipe, reading peak memory, the log lines) follows on the loop's next turn, still before
        anything else the runtime writes is read, so lines stay in order.
        """
        self._cancel_timers()
        if self.current is inv:
            self.current = None
        # real-time measurement: Duration (the function's code runs in real time)
        outcome.duration_ms = (time.perf_counter() - inv.sent_at) * 1000 if inv.sent else 0.0
        if self.first_pending:
            outcome.init_ms = self.init_ms
            self.first_pending = False
        outcome.provisioned = self.provisioned
        self.last_used = self.fleet.clock.now()
        if self.state == "busy":
            self.state = "ready"
            self.pool.released(self)
        if inv.tail:
            self._account(inv, outcome)
            text = "".join(line + "\n" for line in inv.lines).encode()
            outcome.log_tail = base64.b64encode(text[-TAIL_BYTES:]).decode()
        else:
            asyncio.get_running_loop().call_soon(self._account, inv, outcome)
        if inv.future is not None and not inv.future.done():
            inv.future.set_result(outcome)

    def _account(self, inv: Invocation, outcome: Outcome) -> None:
        self._drain(inv)
        if self.launched is not None:
            outcome.memory_used = self.fleet.sandbox.peak_memory_mb(self.launched)
        if inv.sent:
            t = self.target
            self._line(telemetry.end_line(inv.request_id), inv)
            self._line(telemetry.report_line(inv.request_id, outcome.duration_ms, t.memory_mb, outcome.memory_used,
                                             outcome.init_ms, outcome.status,
                                             outcome.error if outcome.status else None), inv)

    def _invoke_timeout(self, inv: Invocation) -> None:
        if self.current is not inv:
            return
        seconds = f"{inv.deadline_s:.2f}"
        self._line(f"{telemetry.iso_ms(self.fleet.clock.now())} {inv.request_id} Task timed out after {seconds} seconds",
                   inv)
        outcome = Outcome(error_payload("Sandbox.Timedout",
                                        f"RequestId: {inv.request_id} Error: Task timed out after {seconds} seconds"),
                          error="Sandbox.Timedout", status="timeout")
        self.state = "dead"  # the environment is reset: the next invocation starts a new one
        self.pool.forget(self)
        self._complete(inv, outcome)
        self.kill()

    def _init_timeout(self) -> None:
        if self.state != "init":
            return
        self._fail_init({"errorType": "Runtime.InitTimeout",
                         "errorMessage": f"RequestId: {{rid}} Error: Init phase timed out after {INIT_LIMIT:.2f} seconds"},
                        status="timeout")
        self.kill()

    def _fail_init(self, doc: dict, status: str | None = None) -> None:
        self.init_error = doc
        self.state = "dead"
        self.pool.forget(self)
        if self.init_ms is None:
            # real-time measurement: Init Duration
            self.init_ms = (time.perf_counter() - self.init_started) * 1000 if self.init_started else 0.0
        if not self.ready.done():
            self.ready.set_exception(InitFailed(doc, status, self))
            self.ready.exception()  # retrieved: no "never retrieved" warning if nobody waits

    def _crash(self, why: str) -> None:
        """The runtime process went away (or broke the protocol) while serving or starting."""
        returncode = self.fleet.sandbox.exit_status(self.launched) if self.launched else None
        oom = self.launched is not None and self.fleet.sandbox.oom_killed(self.launched)
        if returncode is None:
            detail = why
        elif returncode < 0:
            import signal

            name = {signal.SIGKILL: "killed", signal.SIGSEGV: "segmentation fault", signal.SIGABRT: "aborted",
                    signal.SIGTERM: "terminated"}.get(-returncode, f"signal {-returncode}")
            detail = f"signal: {name}"
        else:
            detail = f"exit status {returncode}"
        error_type = "Runtime.OutOfMemory" if oom else "Runtime.ExitError"
        self.state, was = "dead", self.state
        self.pool.forget(self)
        inv = self.current
        if was == "init":
            self._fail_init({"errorType": error_type,
                             "errorMessage": f"RequestId: {{rid}} Error: Runtime exited with error: {detail}"},
                            status="error")
        if inv is not None and inv.future is not None and not inv.future.done():
            message = f"RequestId: {inv.request_id} Error: Runtime exited with error: {detail}"
            if inv.sent:
                self._line(message, inv)
                self._line(error_type, inv)
            self._complete(inv, Outcome(error_payload(error_type, message), error=error_type, status="error"))

    # -- output and exit ----------------------------------------------------------------------
    def _on_output(self) -> None:
        self._drain()

    def _drain(self, inv: Invocation | None = None) -> None:
        """Read what the runtime wrote; lines belong to ``inv`` (default: the current invocation)."""
        if self.launched is None:
            return
        owner = inv if inv is not None else self.current
        fd = self.launched.output_fd
        chunks = []
        eof = False
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                eof = True
                break
            if not data:
                eof = True
                break
            chunks.append(data)
        if chunks:
            data = self._out + b"".join(chunks)
            *lines, self._out = data.split(b"\n")
            for line in lines:
                self._line(line.decode("utf-8", "replace"), owner)
        if eof:
            try:
                asyncio.get_running_loop().remove_reader(fd)
            except (RuntimeError, ValueError, OSError):
                pass
            if self._out:
                self._line(self._out.decode("utf-8", "replace"), owner)
                self._out = b""
            if self._pidfd is None and self.state != "dead":
                self._crash("the runtime exited")

    def _on_exit(self) -> None:
        if self._pidfd is not None:
            try:
                asyncio.get_running_loop().remove_reader(self._pidfd)
            except (RuntimeError, ValueError, OSError):
                pass
        self._drain()
        if self.state != "dead":
            self._crash("the runtime exited")
        asyncio.get_running_loop().create_task(self.close())

    def _line(self, text: str, inv: Invocation | None) -> None:
        t = self.target
        self.fleet.telemetry.line(t.account, t.region, t.log_group, self.stream, text)
        if inv is not None and inv.tail:
            inv.lines.append(text)
        elif self.state == "init" and len(self.init_lines) < 200:
            self.init_lines.append(text)

    # -- stopping --------------------------------------------------------------------------------
    def _cancel_timers(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    def kill(self, why: str = "signal: killed") -> None:
        """SIGKILL the environment; whatever waits on it fails as a runtime that exited."""
        if self.state == "dead" and self.launched is None:
            return
        self.state = "dead"
        self.pool.forget(self)
        self._cancel_timers()
        message = f"Runtime exited with error: {why}"
        if not self.ready.done():
            self.ready.set_exception(InitFailed({"errorType": "Runtime.ExitError",
                                                 "errorMessage": f"RequestId: {{rid}} Error: {message}"}, "error",
                                                self))
            self.ready.exception()
        inv = self.current
        if inv is not None and inv.future is not None and not inv.future.done():
            self._complete(inv, Outcome(error_payload("Runtime.ExitError", f"RequestId: {inv.request_id} Error: {message}"),
                                        error="Runtime.ExitError", status="error"))
        if self.launched is not None:
            self.fleet.sandbox.kill(self.launched)
        if self._pidfd is None:
            asyncio.get_running_loop().create_task(self.close())

    async def close(self) -> None:
        """Release everything of a dead environment (its process has exited or been killed)."""
        self._cancel_timers()
        if self.server is not None:
            self.server.close()
            self.server = None
        if self.conn is not None and self.conn.transport is not None:
            self.conn.transport.close()
        if self.launched is not None:
            launched, self.launched = self.launched, None
            loop = asyncio.get_running_loop()
            for fd in (launched.output_fd, self._pidfd):
                if fd is None:
                    continue
                try:
                    loop.remove_reader(fd)
                except (ValueError, OSError):
                    pass
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._pidfd = None
            self.fleet.sandbox.release(launched)  # reaps the runtime's process (exited, or just killed)
        self.fleet.closed(self)
        if not self.closed.done():
            self.closed.set_result(None)
