"""A fuzz campaign against one running kumo: every implemented operation, every protocol, generated and mutated.

For each service, in rounds: a fresh account (a random 12-digit access key),
then for each of its operations and protocols a seeded hypothesis run that
draws inputs from the operation's shape (``shapes.Generator``), serializes
them with botocore (``wire.build``), mutates a share of them at the byte
level (``mutations``) and sends them.  After each round kumo is reset, which
stops whatever the round started (instances, load balancers, runtimes).
A thread asks ``/_kumo/health`` throughout.

Fails are: any 500, no answer within the timeout, a closed connection or a
non-AWS-shaped error for a request that is valid HTTP, and health checks
that go unanswered.
"""

from __future__ import annotations

import collections
import hashlib
import importlib
import json
import random
import re
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from botocore import xform_name
from botocore.parsers import create_parser
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from kumo.aws import specs

from . import mutations, wire
from .shapes import Generator, Pool, resolve, roll

MAX_REQUEST = 2 << 20  # long lists of huge strings: a few cost more than the rest of a round
TAME_PERCENT = 45  # requests that keep to the model (the rest: boundary values, odd strings, missing members)
# Numbers that start real work (processes, listeners) stay small, so a campaign stays bounded.
CAPS = {"MinCount": (-1, 2), "MaxCount": (-1, 2), "MinSize": (-1, 2), "MaxSize": (-1, 2),
        "DesiredCapacity": (-1, 2), "InstanceCount": (-1, 2)}

@dataclass
class Target:
    service: str
    protocol: str
    model: object  # botocore ServiceModel (SQS over query: its query-named model)
    operation: object  # botocore OperationModel
    signing_name: str

    @property
    def name(self) -> str:
        return f"{self.service}.{self.operation.name}[{self.protocol}]"


def targets(services=None) -> list[Target]:
    """Every operation kumo has a handler for, once per protocol its service speaks."""
    out = []
    for name, spec in specs.SERVICES.items():
        if services and name not in services:
            continue
        try:
            api = importlib.import_module(f"kumo.services.{spec.package}.api")
        except ModuleNotFoundError:
            continue
        model = specs.service_model(name)
        variants = [(p, model) for p in specs.protocols_of(model)]
        if spec.legacy_query:
            variants.append(("query", specs.query_model(name)))
        for protocol, m in variants:
            for op_name in m.operation_names:
                if callable(getattr(api, xform_name(op_name), None)):
                    out.append(Target(name, protocol, m, m.operation_model(op_name), spec.signing_name))
    return out


@dataclass
class Failure:
    what: str  # "500", "hang", "dropped", "unshaped", "health"
    target: str
    request: wire.Request | None
    answer: wire.Answer | None
    cause: str = ""  # exception and deepest kumo frame, from kumo's log

    def describe(self) -> str:
        head = f"{self.what} {self.target}"
        if self.cause:
            head += f" [{self.cause}]"
        if self.answer is not None:
            head += f" -> {self.answer.status} {self.answer.error} {self.answer.body[:300]!r}"
        if self.request is not None:
            head += "\n    request: " + self.request.describe()
        return head


@dataclass
class Report:
    sent: int = 0
    by_kind: collections.Counter = field(default_factory=collections.Counter)
    statuses: collections.Counter = field(default_factory=collections.Counter)
    unserializable: int = 0
    skipped_caps: int = 0
    skipped_size: int = 0
    failures: list[Failure] = field(default_factory=list)
    health_checks: int = 0
    health_failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    per_target: collections.Counter = field(default_factory=collections.Counter)
    time_by_target: collections.Counter = field(default_factory=collections.Counter)
    ok_by_target: collections.Counter = field(default_factory=collections.Counter)  # 2xx answers
    slowest: float = 0.0
    slowest_request: str = ""

    def summary(self) -> str:
        lines = [f"requests sent: {self.sent} in {self.seconds:.1f} s "
                 f"({self.sent / max(self.seconds, 1e-9):.0f}/s; generated {self.by_kind['generated']}, "
                 f"mutated {self.by_kind['mutated']}; unserializable inputs skipped {self.unserializable}, "
                 f"over caps skipped {self.skipped_caps}, over {MAX_REQUEST >> 20} MiB skipped {self.skipped_size})",
                 f"operations x protocols covered: {len(self.per_target)}, {len(self.ok_by_target)} of them answered "
                 f"2xx at least once; slowest answer {self.slowest:.2f} s",
                 "most time: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.time_by_target.most_common(5)),
                 "statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items())),
                 f"health checks: {self.health_checks}, failed: {len(self.health_failures)}",
                 f"failures: {len(self.failures)}"]
        kinds = collections.Counter(f.what for f in self.failures)
        if kinds:
            lines.append("failure kinds: " + ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items())))
        seen = set()
        for f in self.failures:
            key = (f.what, f.target, f.cause)
            if key in seen:
                continue
            seen.add(key)
            lines.append("  " + f.describe())
        lines += [f"  health: {h}" for h in self.health_failures[:20]]
        lines.append(f"slowest request: {self.slowest_request}")
        return "\n".join(lines)


class HealthWatch(threading.Thread):
    """Asks /_kumo/health every ``interval`` seconds; an unanswered or failed check is a failure."""

    def __init__(self, endpoint: str, report: Report, interval: float = 1.0, timeout: float = 10.0):
        super().__init__(name="fuzz-health", daemon=True)
        self.endpoint, self.report, self.interval, self.timeout = endpoint, report, interval, timeout
        self._halt = threading.Event()

    def check(self) -> None:
        self.report.health_checks += 1
        try:
            with urllib.request.urlopen(self.endpoint + "/_kumo/health", timeout=self.timeout) as resp:
                if resp.status != 200 or "version" not in json.loads(resp.read()):
                    self.report.health_failures.append(f"{time.strftime('%X')}: status {resp.status}")
        except Exception as exc:
            self.report.health_failures.append(f"{time.strftime('%X')}: {type(exc).__name__}: {exc}")

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self.check()

    def stop(self) -> None:
        self._halt.set()
        self.join(self.timeout + 1)
        self.check()


class Campaign:
    def __init__(self, endpoint: str, seed: int = 0, per_round: int = 5, mutate_percent: int = 40,
                 rounds: int = 2, timeout: float = 20.0, log=None, server_log=None):
        parsed = urllib.parse.urlsplit(endpoint)
        if parsed.hostname not in ("127.0.0.1", "localhost", "::1") and not parsed.hostname.startswith("127."):
            raise ValueError("the fuzzer only targets loopback")
        self.endpoint = endpoint
        self.host, self.port = parsed.hostname, parsed.port
        self.seed = seed
        self.per_round = per_round  # requests per operation and protocol in each round
        self.mutate_percent = mutate_percent
        self.rounds = rounds
        self.timeout = timeout
        self.log = log or (lambda msg: None)
        self.server_log = server_log  # () -> what kumo logged since the last call
        self.pool = Pool()
        self.report = Report()
        self.wild = Generator(self.pool, CAPS)
        self.tame = Generator(self.pool, CAPS, wild=False)
        self._recent: list[wire.Request] = []
        self._params: dict[str, object] = {}

    # -- the run ---------------------------------------------------------------------------
    def run(self, chosen: list[Target], budget: int | None = None) -> Report:
        """``rounds`` rounds of every service, or, given a ``budget``, as many rounds as it takes to send that many."""
        started = time.perf_counter()
        watch = HealthWatch(self.endpoint, self.report)
        watch.start()
        try:
            by_service = collections.defaultdict(list)
            for t in chosen:
                by_service[t.service].append(t)
            rnd = 0
            while rnd < self.rounds if budget is None else self.report.sent < budget:
                for service, group in by_service.items():
                    self._round(service, group, rnd)
                    if budget is not None and self.report.sent >= budget:
                        break
                rnd += 1
        finally:
            watch.stop()
            self.report.seconds = time.perf_counter() - started
        return self.report

    def _round(self, service: str, group: list[Target], rnd: int) -> None:
        rng = random.Random(f"{self.seed}/{service}/{rnd}")
        account = str(rng.randint(100000000000, 999999999999))
        self.pool.clear()
        self._recent.clear()
        t0 = time.perf_counter()
        sent = self.report.sent
        # Creating before reading before deleting (twice, in longer rounds), so requests name resources that exist.
        ordered = sorted(group, key=lambda t: _phase(t.operation.name))
        first = (self.per_round + 1) // 2 if self.per_round >= 6 else self.per_round
        for npass, n in enumerate((first, self.per_round - first)):
            for target in ordered:
                if n:
                    self._fuzz(target, n, account, f"{rnd}.{npass}")
        self.reset()
        self.log(f"{service} round {rnd + 1}: {len(group)} operations x protocols, "
                 f"{self.report.sent - sent} requests, {time.perf_counter() - t0:.1f} s")

    def reset(self) -> None:
        req = urllib.request.Request(self.endpoint + "/_kumo/reset", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            resp.read()

    def _fuzz(self, target: Target, n: int, account: str, rnd: str) -> None:
        digest = hashlib.sha256(f"{self.seed}/{target.name}/{rnd}".encode()).digest()
        wild, tame = self.wild.params(target.operation), self.tame.params(target.operation)
        host = f"{self.host}:{self.port}"

        @settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)
        @hypothesis_seed(int.from_bytes(digest[:8], "big"))
        @given(st.data())
        def one(data):
            # Everything is drawn first: what follows depends on earlier answers, the draws must not.
            values = data.draw(tame if roll(data.draw) < TAME_PERCENT else wild)
            # Hypothesis' first example draws all zeros: let it be a plain, tame request.
            seeds = data.draw(mutations.plan()) if roll(data.draw) >= 100 - self.mutate_percent else []
            values = resolve(values, self.pool)
            try:
                req = wire.build(target.operation, values, target.protocol, target.service, target.signing_name,
                                 account, host)
            except Exception:
                self.report.unserializable += 1
                return
            if len(req.body) + len(req.target) > MAX_REQUEST:
                self.report.skipped_size += 1
                return
            if seeds:
                req = mutations.mutate(req, seeds, self._recent[-8:])
                if not _within_caps(req):
                    self.report.skipped_caps += 1
                    return
            else:
                self._recent.append(req)
                del self._recent[:-16]
            self.exchange(target, req, values)

        one()

    def exchange(self, target: Target, req: wire.Request, values=None) -> wire.Answer:
        answer = wire.send(self.host, self.port, req, self.timeout)
        r = self.report
        r.sent += 1
        r.by_kind[req.kind] += 1
        r.statuses[answer.status] += 1
        r.per_target[target.name] += 1
        r.time_by_target[target.name] += answer.seconds
        if 200 <= answer.status < 300:
            r.ok_by_target[target.name] += 1
        if answer.seconds > r.slowest:
            r.slowest, r.slowest_request = answer.seconds, req.describe(300)
        what = None
        if answer.status == 500:
            what = "500"
        elif answer.status == -1:
            what = "hang"
        elif answer.status == 0 and req.http_valid:
            what = "dropped"
        elif answer.status > 0 and req.http_valid and not req.target.startswith(b"/_kumo") \
                and not wire.aws_shaped(answer, req.method):  # /_kumo/* is kumo's own API, not AWS's
            what = "unshaped"
        if what:
            cause = ""
            if what == "500" and self.server_log is not None:
                cause = "{} at {}".format(*cause_of(self.server_log()))
            r.failures.append(Failure(what, target.name, req, answer, cause))
        elif 200 <= answer.status < 300 and req.kind == "generated":
            self._harvest(target, answer, values)
        return answer

    def _harvest(self, target: Target, answer: wire.Answer, values) -> None:
        op = target.operation
        if values:
            self.pool.harvest(op.input_shape, values)
        if op.output_shape is None:
            return
        try:
            parsed = create_parser(target.protocol).parse(
                {"status_code": answer.status, "headers": answer.headers, "body": answer.body}, op.output_shape)
        except Exception:
            return
        self.pool.harvest(op.output_shape, parsed)


_CREATE = ("Create", "Put", "Run", "Allocate", "Request", "Register", "Import", "Publish", "Send", "Subscribe",
           "Add", "Attach", "Associate", "Enable", "Set", "Tag", "Start", "Authorize", "Copy", "Upload")
_DELETE = ("Delete", "Terminate", "Deregister", "Remove", "Detach", "Disassociate", "Release", "Revoke",
           "Untag", "Disable", "Purge", "Stop", "Unsubscribe", "Cancel")


def _phase(op_name: str) -> int:
    if op_name.startswith(_DELETE):
        return 2
    return 0 if op_name.startswith(_CREATE) else 1


def _within_caps(req: wire.Request) -> bool:
    """A mutated form body must not ask for more instances than the caps allow."""
    if req.protocol not in ("query", "ec2"):
        return True
    try:
        pairs = urllib.parse.parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True)
    except Exception:
        return True
    for k, v in pairs:
        cap = CAPS.get(k.rpartition(".")[2])
        if cap is not None:
            try:
                if int(v) > cap[1]:
                    return False
            except ValueError:
                continue
    return True


def cause_of(log: str) -> tuple[str, str]:
    """(exception, file of the deepest kumo frame) of the last traceback in ``log``."""
    frames = re.findall(r'File "[^"]*?/kumo/([^"]+)", line (\d+)', log)
    errors = re.findall(r"^(\w+(?:\.\w+)*(?:Error|Exception|Iteration|Interrupt|Exit))\b", log, re.M)
    where = f"{frames[-1][0]}:{frames[-1][1]}" if frames else ""
    return (errors[-1].rpartition(".")[2] if errors else ""), where

