"""Warm Invoke latency and cold starts of two kumo checkouts, measured in the same run: calls alternate.

On a shared machine, load changes from one minute to the next by more than a small change to the
invocation path costs; alternating one call to each keeps both sides under the same load.

    python bench/ab_lambda_warm.py --before /path/to/other/src --after src [--calls 3000] [--rounds 3] [--cold 20]

Prints p50 / p99 per side and round, the CPU each kumo server used per invoke, and the p50 of the
first Invoke of ``--cold`` new functions per side (environment start, init and the invocation).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_lambda import TRUST, create, cpu_seconds  # noqa: E402
from common import Server, free_port, pct  # noqa: E402


def server(src: str, base: int) -> Server:
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="kumo-bench-")
    env = dict(os.environ, PYTHONPATH=os.path.abspath(src))
    cmd = [sys.executable, "-m", "kumo.cli", "start", "--port", str(port), "--data-dir", tmp,
           "--loopback-base", str(base)]
    return Server("kumo", cmd, port, env=env, tmp=tmp)


def first_invoke(lam, role: str, name: str) -> float:
    """Milliseconds of the first Invoke of a new function: environment start, init and the invocation."""
    create(lam, role, name, "python3.12")
    t = time.perf_counter()
    lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read()
    took = (time.perf_counter() - t) * 1000
    lam.delete_function(FunctionName=name)
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True, help="the src/ directory of the baseline checkout")
    ap.add_argument("--after", required=True, help="the src/ directory of the checkout under test")
    ap.add_argument("--calls", type=int, default=3000, help="warm invokes per side and round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cold", type=int, default=20, help="cold starts per side (alternating)")
    args = ap.parse_args()
    sides = {"before": server(args.before, 232).start(), "after": server(args.after, 236).start()}
    try:
        lams, roles = {}, {}
        for name, srv in sides.items():
            role = roles[name] = srv.client("iam").create_role(RoleName="bench",
                                                               AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
            lams[name] = srv.client("lambda")
            create(lams[name], role, "trivial", "python3.12")
            for _ in range(200):
                lams[name].invoke(FunctionName="trivial", Payload=b"{}")["Payload"].read()
        for r in range(args.rounds):
            lat = {name: [] for name in sides}
            cpu0 = {name: cpu_seconds([srv.proc.pid]) for name, srv in sides.items()}
            for _ in range(args.calls):
                for name in sides:
                    t = time.perf_counter()
                    lams[name].invoke(FunctionName="trivial", Payload=b"{}")["Payload"].read()
                    lat[name].append((time.perf_counter() - t) * 1000)
            for name, srv in sides.items():
                cpu = (cpu_seconds([srv.proc.pid]) - cpu0[name]) / args.calls * 1e6
                print(f"round {r + 1} {name:6}: warm Invoke p50 {statistics.median(lat[name]):.2f} ms, "
                      f"p99 {pct(lat[name], 99):.2f} ms, kumo server CPU {cpu:.0f} us per invoke")
        starts = {name: [] for name in sides}
        for i in range(args.cold):
            for name in sides:
                starts[name].append(first_invoke(lams[name], roles[name], f"cold-{i}"))
        for name in sides:
            if starts[name]:
                print(f"cold   {name:6}: first Invoke of a new function p50 {statistics.median(starts[name]):.1f} ms "
                      f"of {len(starts[name])}")
    finally:
        for srv in sides.values():
            srv.stop()


if __name__ == "__main__":
    main()
