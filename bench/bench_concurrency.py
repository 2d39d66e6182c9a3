"""Concurrency benchmark: kumo's own latency with 50 concurrent clients against one client, in the same run.

Clients' latency under load is mostly the clients' own CPU (boto3 costs more per call than kumo, and all
share the machine's cores), so this reads kumo's server-side latency from inside kumo: it runs with
KUMO_REQUEST_TIMING=1 and reads GET /_kumo/timing, which times every request from the moment the event
loop reads its first bytes to the moment its answer is handed to the socket, so a request's wait behind
other requests on the loop is counted (aws/timing.py).  The loop-lag probe there bounds the one wait it
cannot see, bytes lying in the socket buffer while the loop is busy.

State: 100 IAM roles, 5 metrics of one day of 1-minute data, 10 alarms, SQS queues, SNS topics, a Lambda
function, --instances EC2 instances (default 50).  The mix (bench_memory.py's) has cheap calls and
CPU-heavy answers: GetMetricStatistics over 1,440 points x 5 statistics, ListRoles (100 roles),
DescribeInstances (all instances).

1. one client, --single calls of the mix (default 600), sequentially;
2. --clients (default 50) concurrent clients over 5 processes, for --seconds (default 60).

Targets: server-side p99 with 50 clients <= 10x the single-client p50, over all calls and per operation
(each against its own single-client p50: a heavy call's own cost is its floor).

    python bench/bench_concurrency.py [--clients 50] [--seconds 60] [--single 600] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench_memory as bm  # noqa: E402
from common import record  # noqa: E402

HEAVY = ("cloudwatch.GetMetricStatistics", "iam.ListRoles", "ec2.DescribeInstances")


def timing(server, clear: bool = False) -> dict:
    url = server.endpoint + "/_kumo/timing"
    if clear:
        req = urllib.request.Request(url, data=b"{}", headers={"Content-Type": "application/json"}, method="POST")
    else:
        req = urllib.request.Request(url)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def single(server, state: dict, calls: int) -> None:
    c = bm.clients(server.endpoint)
    counts = {"datapoints": 0}
    ops = bm.operations(c, state, random.Random(1), counts)
    weights, fns = [w for w, _ in ops], [f for _, f in ops]
    rng = random.Random(2)
    for _ in range(calls):
        try:
            rng.choices(fns, weights)[0]()
        except Exception:
            pass


def beside_heavy(server, state: dict, seconds: float) -> None:
    """One client calls GetCallerIdentity while another calls the day-long GetMetricStatistics, for `seconds`."""
    import threading

    stop = threading.Event()

    def heavy():
        c = bm.clients(server.endpoint)
        gms = [f for _, f in bm.operations(c, state, random.Random(3), {"datapoints": 0})
               if getattr(f, "__name__", "") == "gms"][0]
        while not stop.is_set():
            gms()

    def light():
        sts = bm.clients(server.endpoint)["sts"]
        while not stop.is_set():
            sts.get_caller_identity()

    threads = [threading.Thread(target=heavy), threading.Thread(target=light)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(60)


def compare(one: dict, many: dict, clients: int) -> tuple[str, float, float]:
    base = one["all"]["p50_ms"]
    rows = ["| operation | 1 client: count, p50 | "
            f"{clients} clients: count, p50 / p99 / max | p99 / own 1-client p50 |",
            "|---|---|---|---|"]
    a1, an = one["all"], many["all"]
    rows.append(f"| all calls | {a1['count']}, {a1['p50_ms']:.2f} | {an['count']}, {an['p50_ms']:.2f} / "
                f"{an['p99_ms']:.2f} / {an['max_ms']:.1f} | {an['p99_ms'] / base:.1f} |")
    worst = 0.0
    for op, h in sorted(many["operations"].items()):
        o = one["operations"].get(op)
        if not o or op.startswith(("GET ", "POST ")):
            continue
        ratio = h["p99_ms"] / o["p50_ms"]
        worst = max(worst, ratio)
        mark = " (heavy)" if op in HEAVY else ""
        rows.append(f"| {op}{mark} | {o['count']}, {o['p50_ms']:.2f} | {h['count']}, {h['p50_ms']:.2f} / "
                    f"{h['p99_ms']:.2f} / {h['max_ms']:.1f} | {ratio:.1f} |")
    return "\n".join(rows), an["p99_ms"] / base, worst


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--procs", type=int, default=5, help="client processes the clients are spread over")
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the concurrent phase")
    ap.add_argument("--single", type=int, default=600, help="calls of the single-client phase")
    ap.add_argument("--instances", type=int, default=50)
    ap.add_argument("--pair-seconds", type=float, default=20.0,
                    help="length of the phase with one light and one heavy client")
    ap.add_argument("--max-calls", type=int, default=100_000, help="bound on the concurrent phase's calls")
    ap.add_argument("--no-pin", action="store_true",
                    help="share every core between kumo and the clients (default: kumo on CPU 0, clients on the rest)")
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    # A TERM (timeout, Ctrl-C of a wrapper) must still stop kumo and its instances in the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    server = bm.start_kumo("--ephemeral", env=dict(os.environ, KUMO_REQUEST_TIMING="1"))
    pinned = not args.no_pin and len(os.sched_getaffinity(0)) >= 2
    if pinned:
        # The "clients on a separate core set": kumo (and what it starts later, which inherits its
        # mask) on CPU 0; this script and the client processes it forks on the other CPUs.
        cpus = sorted(os.sched_getaffinity(0))
        for tid in os.listdir(f"/proc/{server.proc.pid}/task"):  # every thread it has already
            os.sched_setaffinity(int(tid), {cpus[0]})
        os.sched_setaffinity(0, set(cpus[1:]))
    try:
        state = bm.create_state(bm.clients(server.endpoint), instances=args.instances)
        bm.warm_up(server.endpoint, state)
        timing(server, clear=True)
        single(server, state, args.single)
        one = timing(server)
        timing(server, clear=True)
        beside_heavy(server, state, args.pair_seconds)
        pair = timing(server)
        timing(server, clear=True)
        t0 = time.monotonic()  # real-time
        counts = bm.drive(server.endpoint, state, argparse.Namespace(
            minutes=args.seconds / 60, clients=args.clients, procs=args.procs, max_calls=args.max_calls))
        elapsed = time.monotonic() - t0
        many = timing(server)
    finally:
        server.stop()

    tables, verdicts = [], []
    for clock, label in (("cpu", "kumo's CPU time in flight"), ("wall", "wall time")):
        table, overall, worst = compare(one[clock], many[clock], args.clients)
        tables.append(f"{label} (ms):\n\n{table}")
        verdicts += [f"- {label}: server-side p99 with {args.clients} clients is {overall:.1f}x the single-client p50 "
                     f"over all calls (target <= 10): {'met' if overall <= 10 else 'NOT met'}",
                     f"- {label}: worst operation's p99 with {args.clients} clients is {worst:.1f}x its own "
                     f"single-client p50 (target <= 10): {'met' if worst <= 10 else 'NOT met'}"]
    light = "sts.GetCallerIdentity"
    for clock, label in (("cpu", "kumo's CPU time in flight"), ("wall", "wall time")):
        o, p = one[clock]["operations"][light], pair[clock]["operations"][light]
        ratio = p["p99_ms"] / o["p50_ms"]
        tables.append(f"{light} beside a client calling GetMetricStatistics (1,440 x 5), {label}: alone p50 "
                      f"{o['p50_ms']:.2f} ms; beside it p50 {p['p50_ms']:.2f}, p99 {p['p99_ms']:.2f}, max "
                      f"{p['max_ms']:.1f} ms ({p['count']} calls); p99 / alone p50 {ratio:.1f}")
    lag1, lagn = one["loop_lag"], many["loop_lag"]
    tables.append(f"event-loop lag (a 10 ms timer's lateness, wall ms): 1 client p50 {lag1['p50_ms']:.2f}, p99 "
                  f"{lag1['p99_ms']:.1f}, max {lag1['max_ms']:.1f}; {args.clients} clients p50 {lagn['p50_ms']:.2f}, "
                  f"p99 {lagn['p99_ms']:.1f}, max {lagn['max_ms']:.1f}")
    table = "\n\n".join(tables)
    load = (f"concurrent phase: {counts['calls']} calls in {elapsed:.0f} s ({counts['calls'] / elapsed:.0f}/s) from "
            f"{args.clients} clients in {args.procs} processes, {counts['errors']} unexpected errors; "
            f"{args.instances} instances; "
            + ("kumo pinned to CPU 0, clients to the other CPUs" if pinned else "kumo and clients sharing all CPUs"))
    print(table)
    print(load)
    if counts["errors"]:
        print("last unexpected error:", counts["last_error"])
    print("\n".join(verdicts))
    if not args.no_record:
        record("Concurrency: server-side latency, 1 vs 50 clients", "python bench/bench_concurrency.py",
               table + "\n\n" + load + "\n\n" + "\n".join(verdicts) + "\n\nServer-side latency from inside kumo "
               "(KUMO_REQUEST_TIMING=1, GET /_kumo/timing): from the loop reading a request's first bytes to its "
               "answer handed to the socket; histogram buckets are 5% wide.")


if __name__ == "__main__":
    main()
