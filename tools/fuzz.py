#!/usr/bin/env python3
"""Fuzz kumo for longer than the test suite does: the campaign of tests/fuzz, with a request budget.

    python tools/fuzz.py --requests 20000 --seed 1 [--services ec2,sqs] [--endpoint http://127.0.0.1:4566]

Starts a kumo of its own on loopback (or fuzzes ``--endpoint``, which must be a
loopback address: the run resets it), runs rounds over every implemented
operation and protocol until the budget is spent, and prints the summary:
requests sent, status histogram, and every 500 (with the cause from kumo's log
and a reproducer).  Exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.fuzz.campaign import Campaign, targets  # noqa: E402
from tests.fuzz.server import FuzzServer  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=20000, help="requests to send (default 20000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--services", help="comma-separated botocore service names (default: all implemented)")
    ap.add_argument("--per-round", type=int, default=5, help="requests per operation and protocol in a round")
    ap.add_argument("--mutate-percent", type=int, default=40, help="share of requests mutated at the byte level")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds an answer may take before it is a hang")
    ap.add_argument("--endpoint", help="fuzz this kumo (loopback only) instead of starting one")
    ap.add_argument("--reproducers", help="write every failing request, raw, to this file")
    args = ap.parse_args(argv)
    # A stopped run still stops the kumo it started (and what that kumo runs).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    chosen = targets(args.services.split(",") if args.services else None)
    if not chosen:
        ap.error("no implemented operation in those services")
    server = None if args.endpoint else FuzzServer().start()
    endpoint = args.endpoint or server.endpoint
    print(f"fuzzing {endpoint}: {len(chosen)} operations x protocols, {args.requests} requests, seed {args.seed}",
          flush=True)
    started = time.perf_counter()
    campaign = Campaign(endpoint, seed=args.seed, per_round=args.per_round, mutate_percent=args.mutate_percent,
                        timeout=args.timeout, log=lambda msg: print(msg, flush=True),
                        server_log=server.new_log if server else None)
    try:
        report = campaign.run(chosen, budget=args.requests)
    finally:
        leftovers = []
        if server is not None:
            alive = server.alive()
            code = server.stop()
            leftovers = server.leftovers()
            print(f"kumo was {'up' if alive else 'DOWN'} at the end; stopped with exit code {code}")
            server.cleanup()
    print(report.summary())
    if leftovers:
        print("left behind:\n  " + "\n  ".join(leftovers))
    if args.reproducers and report.failures:
        with open(args.reproducers, "wb") as f:
            for failure in report.failures:
                f.write(f"# {failure.what} {failure.target} {failure.cause}\n".encode() + failure.request.to_bytes()
                        + b"\n\n")
    print(f"wall time {time.perf_counter() - started:.1f} s")
    return 1 if report.failures or report.health_failures or leftovers else 0


if __name__ == "__main__":
    sys.exit(main())
