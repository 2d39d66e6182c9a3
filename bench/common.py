"""Helpers shared by kumo's benchmarks: start servers, time calls, read memory, write RESULTS.md."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

RESULTS = Path(__file__).with_name("RESULTS.md")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A peer server process: kumo or moto."""

    def __init__(self, name: str, cmd: list[str], port: int, env: dict | None = None, tmp: str | None = None):
        self.name = name
        self.cmd = cmd
        self.port = port
        self.env = env
        self.tmp = tmp
        self.proc: subprocess.Popen | None = None
        self.startup_s: float | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "Server":
        """Spawn and wait for the first answered AWS request; records the time that took."""
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        body = b"Action=GetCallerIdentity&Version=2011-06-15"
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/sts/aws4_request, "
                             "SignedHeaders=host, Signature=0",
        }
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            try:
                req = urllib.request.Request(self.endpoint + "/", data=body, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=2) as resp:
                    if resp.status == 200:
                        self.startup_s = time.perf_counter() - t0
                        return self
            except OSError:
                if self.proc.poll() is not None:
                    break  # exited (its loopback range or port in use): no point waiting
                time.sleep(0.005)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout}s")

    def rss_mib(self) -> float:
        """Resident memory of the server and its children, in MiB."""
        total = 0
        for pid in _tree(self.proc.pid):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x",
                            config=Config(retries={"max_attempts": 1}))

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        pids += _tree(int(child))
    return pids


def kumo(*extra: str) -> Server:
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="kumo-bench-")
    # Its instances and load balancer workers end with it: nothing adopts them after a benchmark.
    cmd = [sys.executable, "-m", "kumo.cli", "start", "--port", str(port), "--data-dir", tmp, "--stop-instances-on-exit",
           *extra]
    return Server("kumo", cmd, port, tmp=tmp)


def moto() -> Server:
    port = free_port()
    exe = shutil.which("moto_server")
    cmd = [exe, "-p", str(port)] if exe else [sys.executable, "-m", "moto.server", "-p", str(port)]
    return Server("moto", cmd, port)


def timed(fn, n: int) -> list[float]:
    """Milliseconds of each of n sequential calls."""
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} / {pct(values, 99):.2f}"


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def record(title: str, command: str, body: str) -> None:
    """Add one dated section to bench/RESULTS.md (newest first under the header)."""
    header = "# kumo benchmark results\n\nEvery section is one run, with its date, machine and command; peers ran in the same run.\n"
    existing = RESULTS.read_text() if RESULTS.exists() else header
    if not existing.startswith("# kumo benchmark results"):
        existing = header + existing
    head, _, rest = existing.partition("\n## ")
    section = (f"## {title} ({_dt.date.today().isoformat()})\n\n"
               f"- machine: {machine()}\n- command: `{command}`\n\n{body.strip()}\n\n")
    RESULTS.write_text(head.rstrip() + "\n\n" + section + ("## " + rest if rest else ""))
