"""The clock rule: every wait, timeout, expiry, interval and timestamp in kumo reads kumo's clock.

kumo's clock is ``core/clock.py`` (``kumo.clock``); the load balancer workers read their view of it,
``ClockView`` in ``dataplane/lb/worker.py``, which the control plane keeps up to date.  Simulated time
can run fast, slow, stand still or jump (``/_kumo/clock``), so anything that reads the host's clock or
waits on the event loop's instead would not follow it.

This test parses every module under ``src/kumo`` and fails on

* a wait or a timer off the clock: ``time.sleep``, ``asyncio.sleep`` (but ``asyncio.sleep(0)``, a mere
  yield to the event loop), ``asyncio.wait_for``, ``asyncio.timeout``/``timeout_at``,
  ``asyncio.wait(timeout=...)``, ``threading.Timer``, and ``call_later``/``call_at`` on anything but a
  clock;
* a read of the host's time of day: ``time.time``/``time_ns``, ``datetime.now``/``utcnow``/``today``,
  ``date.today``;
* a real-time measurement (``time.monotonic``, ``time.perf_counter``, ``loop.time()``) whose statement, or
  a comment line just above it, does not say it is one (a comment with "real-time" or "real time"),

outside the clocks themselves and the exceptions listed in ``ALLOWED``, each with its reason.  An
exception that no longer matches any call fails the test too, so the list never outlives the code.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "kumo"

# The clocks: a file, and the class in it that is a clock (None: the whole file).
CLOCKS = {
    "core/clock.py": None,
    "dataplane/lb/worker.py": "ClockView",
}

WAITS = {"time.sleep", "asyncio.sleep", "asyncio.wait_for", "asyncio.timeout", "asyncio.timeout_at",
         "threading.Timer", "call_later", "call_at", "asyncio.wait(timeout=)"}
WALL = {"time.time", "time.time_ns", "datetime.datetime.now", "datetime.datetime.utcnow",
        "datetime.datetime.today", "datetime.date.today"}
MEASUREMENTS = {"time.monotonic", "time.monotonic_ns", "time.perf_counter", "time.perf_counter_ns", "loop.time"}
SAYS_REAL_TIME = re.compile(r"#.*real[- ]time", re.IGNORECASE)

# (file under src/kumo, the function or class it is in, the call) -> why it may stay off kumo's clock.
ALLOWED: dict[tuple[str, str, str], str] = {
    # -- the edge: protecting the server, and judging what clients bring -----------------------------------
    ("aws/connections.py", "_Connection.data_received", "call_later"):
        "The request-head timeout protects the server from slow clients: a socket waits in real time whatever "
        "kumo's clock does (a frozen clock must not let a client hold a connection for ever).",
    ("aws/gateway.py", "_read_body", "asyncio.timeout"):
        "The request-body stall timeout protects the server from slow clients, in real time (as the head "
        "timeout above).",
    ("aws/streaming.py", "RequestBody.read", "asyncio.timeout"):
        "The same body stall timeout, for bodies a service streams itself (S3 uploads), in real time.",
    ("aws/sigv4.py", "Verifier._check_time", "time.time"):
        "Clients sign with the host's wall clock, not kumo's simulated one: request skew is judged on wall time.",
    ("aws/sigv4.py", "Verifier._check_expiry", "time.time"):
        "Places a presigned URL's X-Amz-Date (the client's wall clock) in simulated time through "
        "clock.at_wall; the expiry itself is judged on kumo's clock.",
    ("aws/sigv2.py", "V2Verifier._check_expiry", "time.time"):
        "A SigV2 URL's Expires is an instant on the client's wall clock: what is left of it at first use becomes "
        "a deadline on kumo's clock, which judges the expiry.",
    ("services/sts/web_identity.py", "get_json", "asyncio.wait_for"):
        "Bounds how long STS waits on an identity provider's real server (connect, then each read) in real "
        "time: a frozen simulated clock must not hold AssumeRoleWithWebIdentity for ever.",
    # -- kumo's own machinery ----------------------------------------------------------------------------------
    ("server.py", "Kumo._save_clock", "call_later"):
        "Saves the simulated time every real second: it bounds what a kill -9 loses in real time; on kumo's "
        "clock it would stop while time stands still and run a thousand times a second at --time-scale 1000.",
    ("core/trim.py", "IdleTrim.start", "call_later"):
        "Memory goes back to the OS after real seconds without a request: idleness of the sockets, which a "
        "frozen or racing simulated clock says nothing about.",
    ("core/trim.py", "IdleTrim._check", "call_later"):
        "The idle check's next round, in real time (as its start).",
    ("aws/timing.py", "Timing.start", "call_later"):
        "The loop-lag probe measures how late a real-time timer fires: a real-time measurement by design.",
    ("aws/timing.py", "Timing._tick", "call_later"):
        "The loop-lag probe's next round (as its start).",
    ("core/controllers.py", "ControllerManager.idle", "asyncio.wait(timeout=)"):
        "Bounds, in real seconds, a wait for running reconciles to finish (tests after an advance, shutdown): "
        "a wait for real work, not a duration of kumo's world.",
    ("dataplane/lb/control.py", "DataPlane._exited", "call_later"):
        "A worker process that died at once is restarted after a real-time pause, to spare the host's CPU "
        "from a crash loop.",
    ("dataplane/lb/control.py", "DataPlane._until", "asyncio.wait_for"):
        "Bounds, in real seconds, a wait for worker processes to start or to acknowledge a config.",
    ("dataplane/lb/control.py", "ElbRuntime.settle", "asyncio.wait_for"):
        "Bounds, in real seconds, a wait for the worker processes to serve the latest changes.",
    ("dataplane/lb/probes.py", "probe", "asyncio.wait_for"):
        "A health check waits on a real target, which answers in real time: HealthCheckTimeoutSeconds at the "
        "clock's pace (clock.real_delay), so an advance does not time out a probe in flight.  Its interval and "
        "thresholds run on kumo's clock (HealthController).",
    ("dataplane/lb/worker.py", "Worker._report_forever", "asyncio.sleep"):
        "Counters cross to the control plane each real second, so the in-flight counts that end a Classic "
        "drain arrive on a frozen clock too; the control plane files them under minutes of kumo's clock.",
    ("dataplane/lb/worker.py", "Worker._sweep_forever", "asyncio.sleep"):
        "The idle-timeout sweep polls in real time (how soon a timeout is noticed); the timeouts themselves "
        "are judged on the worker's ClockView, which can jump at any moment.",
    # -- services -------------------------------------------------------------------------------------------
    ("services/acm/issued.py", "request_certificate", "time.time"):
        "Real TLS clients judge a certificate by the host's clock: NotBefore is the earlier of kumo's time and "
        "the host's, so the certificate is valid on both (status and expiry are judged on kumo's clock).",
    ("services/acm/manage.py", "renew_certificate", "time.time"):
        "A renewed certificate, like a new one (issued.py above), must be valid on the host's clock too.",
    ("services/sns/signing.py", "_new_certificate", "datetime.datetime.now"):
        "Subscribers check the signing certificate's validity against their own (host) clocks.",
    ("services/lambda_/telemetry.py", "Telemetry._arm", "call_later"):
        "A write-batching delay (one store transaction per flush), in real time to spare the invoke path real "
        "work; every line and datapoint keeps its time on kumo's clock.",
    ("services/ec2/monitor.py", "Monitor._sample_forever", "asyncio.sleep"):
        "Samples real processes' CPU counters each real second (a real-time measurement: workloads run in real "
        "time); what it publishes is stamped and scheduled on kumo's clock.",
    ("services/lambda_/runtimes/python/bootstrap.py", "LambdaContext.get_remaining_time_in_millis", "time.time"):
        "Runs inside the function's process, not in kumo: it counts down the function's real run time to the "
        "deadline the Runtime API hands it (Lambda-Runtime-Deadline-Ms, epoch milliseconds, as on AWS).",
    # -- workloads and their processes: real processes exit in real time ---------------------------------------
    ("dataplane/compute/process.py", "ProcessBackend.stop_many", "asyncio.sleep"):
        "Polls, every 50 real ms within the grace period, for real processes to exit after SIGTERM and SIGKILL: "
        "processes take real time to exit whatever kumo's clock says (a frozen clock must not hang a shutdown).",
    ("services/lambda_/environments.py", "Environment._send", "time.time"):
        "The function reads Lambda-Runtime-Deadline-Ms against the host's clock (its context's remaining time), "
        "so the deadline is placed on host time: now plus the real seconds its Timeout takes on kumo's clock.",
    ("cli.py", "cmd_stop", "time.sleep"):
        "The client command polls the stopping kumo every 0.1 real seconds (at most 60): it runs in the user's "
        "shell, not in kumo, and waits for a real process to exit.",
    ("dataplane/lb/worker.py", "serve", "asyncio.wait_for"):
        "A worker whose kumo is gone serves on alone for ORPHAN_GRACE real seconds: no kumo clock runs then.",
    ("dataplane/lb/worker.py", "serve", "asyncio.sleep"):
        "A retiring worker lets exchanges under way finish, polling every 20 real ms for at most RETIRE_GRACE: "
        "they wait on real targets, and no kumo clock runs then.",
}


# -- the scanner --------------------------------------------------------------------------------------------
def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):  # asyncio.get_running_loop().time(): the receiver is a call
        inner = _dotted(node.func)
        parts.append(f"{inner}()" if inner else "?()")
    else:
        return None
    return ".".join(reversed(parts))


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> the module or object it stands for (``import datetime as dt``, ``from time import sleep``)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _canonical(call: ast.Call, aliases: dict[str, str]) -> str | None:
    name = _dotted(call.func)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    full = aliases.get(head, head) + (f".{rest}" if rest else "")
    if full in WAITS | WALL | MEASUREMENTS:
        if full == "asyncio.sleep" and call.args and isinstance(call.args[0], ast.Constant) and call.args[0].value == 0:
            return None  # a yield to the event loop, not a wait
        return full
    if full == "asyncio.wait":
        return "asyncio.wait(timeout=)" if any(k.arg == "timeout" for k in call.keywords) else None
    receiver, _, method = name.rpartition(".")
    if method in ("call_later", "call_at"):
        return None if receiver.split(".")[-1].endswith("clock") else method
    if method == "time" and "loop" in receiver.lower():
        return "loop.time"
    return None


class _Finder(ast.NodeVisitor):
    def __init__(self, aliases: dict[str, str], lines: list[str]):
        self.aliases, self.lines = aliases, lines
        self.scope: list[str] = []
        self.found: list[tuple[str, str, int, bool]] = []  # (qualname, call, line, commented as real time)
        self.statement: ast.stmt | None = None

    def _scoped(self, node):
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped

    def generic_visit(self, node):
        if isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            outer, self.statement = self.statement, node
            super().generic_visit(node)
            self.statement = outer
            return
        super().generic_visit(node)

    def visit_Call(self, node: ast.Call):
        call = _canonical(node, self.aliases)
        if call is not None:
            self.found.append((".".join(self.scope) or "<module>", call, node.lineno, self._says_real_time(node)))
        self.generic_visit(node)

    def _says_real_time(self, node: ast.Call) -> bool:
        first = node.lineno
        last = getattr(node, "end_lineno", None) or first
        compound = (ast.If, ast.While, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.Try)
        if self.statement is not None and not isinstance(self.statement, compound):  # the whole simple statement
            first = min(first, self.statement.lineno)
            last = max(last, getattr(self.statement, "end_lineno", None) or last)
        span = self.lines[first - 1:last]
        above = self.lines[first - 2] if first >= 2 else ""
        if above.lstrip().startswith("#"):  # a comment of its own on the line above counts too
            span.append(above)
        return any(SAYS_REAL_TIME.search(line) for line in span)


def _in_clock(rel: str, qualname: str) -> bool:
    if rel not in CLOCKS:
        return False
    cls = CLOCKS[rel]
    return cls is None or qualname == cls or qualname.startswith(cls + ".")


def scan() -> list[tuple[str, str, str, int, bool]]:
    """Every timing call under src/kumo: (file, qualname, call, line, commented as a real-time measurement)."""
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        text = path.read_text()
        finder = _Finder(_aliases(ast.parse(text)), text.splitlines())
        finder.visit(ast.parse(text))
        out += [(rel, q, call, line, real) for q, call, line, real in finder.found if not _in_clock(rel, q)]
    return out


# -- the tests ----------------------------------------------------------------------------------------------
def test_every_timer_reads_kumos_clock():
    offenders = []
    for rel, qualname, call, line, real_time in scan():
        if (rel, qualname, call) in ALLOWED:
            continue
        if call in MEASUREMENTS and real_time:
            continue  # a real-time measurement that says so
        why = ("a real-time measurement must say so in a comment ('real-time measurement')" if call in MEASUREMENTS
               else "use kumo's clock (kumo.clock: now, sleep, call_later, call_at, wait_for) or explain an exception "
                    "in ALLOWED")
        offenders.append(f"src/kumo/{rel}:{line} {qualname}: {call} — {why}")
    assert not offenders, "timers off kumo's clock:\n" + "\n".join(offenders)


def test_every_exception_is_explained_and_still_needed():
    seen = {(rel, q, call) for rel, q, call, _, _ in scan()}
    stale = [f"{key}" for key in ALLOWED if key not in seen]
    assert not stale, "ALLOWED entries that match no call any more (remove them):\n" + "\n".join(stale)
    vague = [f"{key}" for key, reason in ALLOWED.items() if len(reason.split()) < 6]
    assert not vague, "ALLOWED entries without a real reason:\n" + "\n".join(vague)


def test_the_scanner_sees_what_it_must():
    """The rule is only as good as its scanner: each forbidden form is caught, the allowed ones are not."""
    source = '''
import asyncio, time, threading
import datetime as _dt
from time import sleep as nap

async def f(loop, kumo, clock):
    time.sleep(1); nap(1); await asyncio.sleep(1); await asyncio.sleep(0)
    await asyncio.wait_for(g(), 1); await asyncio.wait({t}, timeout=1); await asyncio.wait({t})
    loop.call_later(1, g); asyncio.get_running_loop().call_at(1, g); threading.Timer(1, g)
    kumo.clock.call_later(1, g); clock.call_at(1, g); self.clock.call_later(1, g)
    time.time(); _dt.datetime.now(_dt.timezone.utc); _dt.datetime.utcnow(); _dt.date.today()
    started = time.monotonic()  # real-time measurement: latency
    loop.time()
'''
    tree = ast.parse(source)
    finder = _Finder(_aliases(tree), source.splitlines())
    finder.visit(tree)
    calls = [(call, real) for _, call, _, real in finder.found]
    assert [c for c, _ in calls] == [
        "time.sleep", "time.sleep", "asyncio.sleep", "asyncio.wait_for", "asyncio.wait(timeout=)",
        "call_later", "call_at", "threading.Timer",
        "time.time", "datetime.datetime.now", "datetime.datetime.utcnow", "datetime.date.today",
        "time.monotonic", "loop.time"]
    assert calls[-2] == ("time.monotonic", True) and calls[-1] == ("loop.time", False)
