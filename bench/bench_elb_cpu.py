"""CPU time of kumo's ALB data plane per proxied request, A/B between two source trees.

On a shared machine requests/s move with whatever else runs, for kumo and HAProxy alike, and their
ratio with them (bench_elb.py).  The worker's own CPU time per request moves much less: this compares
it between two checkouts (say main and a branch), alternating, so a change to the hot path shows even
when the machine is busy.  wrk (Debian's) drives an ALB in front of nginx, as in bench_elb.py.

    python bench/bench_elb_cpu.py /path/to/tree-a/src /path/to/tree-b/src [--rounds 2] [--seconds 8]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_elb import kumo_load_balancers, start_nginx  # noqa: E402
from common import kumo  # noqa: E402


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _workers(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if ppid == parent and b"kumo.dataplane.lb.worker" in cmd:
            found.append(int(entry))
    return found


def measure(src: str, backend: int, seconds: int, base: str) -> float:
    """Microseconds of worker CPU per request through an ALB of a kumo run from ``src``."""
    server = kumo("--ephemeral", "--loopback-base", base)
    server.env = {**os.environ, "PYTHONPATH": src}  # the tree under test
    server.start()
    try:
        alb, _ = kumo_load_balancers(server, backend)
        workers = _workers(server.proc.pid)
        url = f"http://{alb}:18080/"
        subprocess.run(["wrk", "-t1", "-c32", "-d2s", url], capture_output=True, timeout=60)  # warm up
        before = sum(_cpu_seconds(w) for w in workers)
        out = subprocess.run(["wrk", "-t1", "-c32", f"-d{seconds}s", url], capture_output=True, text=True,
                             timeout=seconds + 60).stdout
        used = sum(_cpu_seconds(w) for w in workers) - before
        return 1e6 * used / int(re.search(r"(\d+) requests in", out).group(1))
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--loopback-base", default="236")
    args = ap.parse_args()
    if not shutil.which("wrk") or not shutil.which("nginx"):
        sys.exit("wrk or nginx is missing: apt-get install wrk nginx-light")
    tmp = tempfile.mkdtemp(prefix="kumo-bench-elb-cpu-")
    nginx, backend = start_nginx(tmp)
    results: dict[str, list[float]] = {args.a: [], args.b: []}
    try:
        for _ in range(args.rounds):
            for src in (args.a, args.b):  # alternating, so a noisy spell hits both alike
                results[src].append(measure(src, backend, args.seconds, args.loopback_base))
                print(f"{src}: {results[src][-1]:.1f} us per request", flush=True)
    finally:
        nginx.terminate()
        nginx.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    for src, values in results.items():
        print(f"{src}: median {statistics.median(values):.1f} us of worker CPU per request "
              f"(rounds: {', '.join(f'{v:.1f}' for v in values)})")


if __name__ == "__main__":
    main()
