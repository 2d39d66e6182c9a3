"""Shared fixtures: a real kumo server per session, clients for it, and kumo as a separate process.

Each test gets an account of its own (a random 12-digit access key names it),
so tests share one server without seeing each other's state.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from kumo.config import Settings
from kumo.server import ServerThread

REGION = "us-east-1"


class LoopbackClaim:
    """A loopback range (``--loopback-base`` N: 127.N-N+2.x.x) this test run holds alone.

    Load balancer nodes and instance services bind fixed ports (with SO_REUSEPORT), so two kumo servers on
    one machine sharing a range would split each other's connections: concurrent test runs, or a test's own
    second kumo.  A lock file per range, held while the server lives, keeps every range to one holder.
    """

    def __init__(self, candidates):
        self.base = None
        self._fd = None
        for base in candidates:
            fd = os.open(os.path.join(tempfile.gettempdir(), f"kumo-loopback-{base}.lock"), os.O_CREAT | os.O_RDWR,
                         0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.base, self._fd = base, fd
            return
        raise RuntimeError("every loopback range for tests is in use by other kumo test runs")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def claim_loopback(low: int, high: int) -> LoopbackClaim:
    """A range among low, low+4 ... below high (tests use 8-228; the benchmarks 232, 236 and 240)."""
    candidates = list(range(low, high, 4))
    random.shuffle(candidates)
    # Checkouts from before these claims used 40 without one: try it last.
    candidates.sort(key=lambda b: b == 40)
    return LoopbackClaim(candidates)


@contextlib.contextmanager
def own_kumo(prefix: str = "kumo-test-", **settings):
    """An in-process kumo on a loopback range of its own, stopped (and its range released) on exit.

    The session's is one; a module or package whose tests need a clock of their own (frozen, or moved by
    days) starts another and overrides ``kumo_server``/``endpoint`` with it (tests/own_kumo.py)."""
    claim = claim_loopback(8, 60)
    server = ServerThread(Settings(port=0, ephemeral=True, data_dir=tempfile.mkdtemp(prefix=prefix),
                                   loopback_base=claim.base, **settings)).start()
    try:
        yield server
    finally:
        server.stop()
        claim.release()


def in_transaction(kumo_server, module):
    """``call(name, *args)``: ``module.name(kumo, *args)`` on the server's loop inside a store transaction, as
    another service calls a facade."""

    def call(name, *args):
        kumo = kumo_server.kumo

        def run():
            with kumo.store.transaction():
                return getattr(module, name)(kumo, *args)

        return kumo_server.run(run)

    return call


@pytest.fixture(scope="session")
def kumo_server():
    # KUMO_ENFORCE_SIGNATURES=1 runs the suite against a kumo that verifies every signature (tests sign with the
    # documented root pair, and workloads with the credentials kumo issues them).
    enforce = os.environ.get("KUMO_ENFORCE_SIGNATURES", "").lower() in ("1", "true", "yes", "on")
    with own_kumo(enforce_signatures=enforce) as server:
        yield server


@pytest.fixture(scope="session")
def endpoint(kumo_server) -> str:
    return kumo_server.endpoint


def new_account() -> str:
    return str(random.randint(100000000000, 999999999999))


@pytest.fixture
def account() -> str:
    return new_account()


class Clients:
    def __init__(self, endpoint: str, account: str, region: str = REGION):
        self.endpoint = endpoint
        self.account = account
        self.region = region

    def __call__(self, service: str, region: str | None = None, validate: bool = True, **kw):
        config = Config(retries={"max_attempts": 1, "mode": "standard"}, parameter_validation=validate)
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region or self.region,
            aws_access_key_id=kw.pop("access_key", self.account),
            aws_secret_access_key=kw.pop("secret_key", "test"),
            config=config,
            **kw,
        )


@pytest.fixture
def aws(endpoint, account) -> Clients:
    """``aws("iam")`` is a boto3 client for this test's own account."""
    return Clients(endpoint, account)


@pytest.fixture
def aws_cli(endpoint, account, tmp_path):
    """Run the ``aws`` command (awscli) against kumo, as this test's account; returns CompletedProcess."""
    env = dict(os.environ)
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID=account,
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"),
        AWS_PAGER="",
    )

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "awscli", *args, "--output", "json"]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    return run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class KumoProcess:
    """``kumo start`` as a child process, for tests of the CLI, signals and crashes."""

    def __init__(self, data_dir: Path, *extra: str):
        self.data_dir = data_dir
        self.extra = extra
        self.port = free_port()
        self.claim: LoopbackClaim | None = None
        self.loopback_base = 0  # claimed when it starts, unless it restarts another one's state
        self.proc: subprocess.Popen | None = None
        self.ready_line = ""

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "KumoProcess":
        if not self.loopback_base:
            self.claim = claim_loopback(60, 229)
            self.loopback_base = self.claim.base
        cmd = [sys.executable, "-m", "kumo.cli", "start", "--port", str(self.port), "--data-dir", str(self.data_dir),
               "--loopback-base", str(self.loopback_base), *self.extra]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if "ready on" in line:
                self.ready_line = line.strip()
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"kumo exited early: {self.proc.stderr.read()}")
        raise RuntimeError("kumo did not report ready in time")

    def client(self, service: str, account: str = "000000000000"):
        return Clients(self.endpoint, account)(service)

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, sig=signal.SIGTERM, timeout: float = 20.0) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        for stream in (self.proc.stdout, self.proc.stderr) if self.proc else ():
            stream.close()
        if self.proc and "--ephemeral" not in self.extra:
            # A stopped (or killed) durable kumo leaves its instances running for the next one: none comes.
            # (A kumo restarted on the same data dir still holds it: its own close stops them.)
            subprocess.run([sys.executable, "-m", "kumo.cli", "stop", "--all", "--port", str(free_port()),
                            "--data-dir", str(self.data_dir)], capture_output=True, timeout=60)
        if self.claim is not None:
            self.claim.release()


@pytest.fixture
def kumo_process(tmp_path):
    """Factory: ``kumo_process(*flags)`` starts ``kumo start`` with its own data dir and port."""
    started: list[KumoProcess] = []

    def make(*extra: str, data_dir: Path | None = None, like: KumoProcess | None = None) -> KumoProcess:
        """A kumo process; ``like`` restarts another one's state (same data dir and loopback range)."""
        proc = KumoProcess(data_dir or (like.data_dir if like else tmp_path / "data"), *extra)
        if like is not None:
            proc.loopback_base = like.loopback_base
        started.append(proc)
        return proc

    yield make
    for proc in started:
        proc.close()
    shutil.rmtree(tmp_path / "data", ignore_errors=True)
