"""Foundation benchmark: kumo beside moto's server, in the same run.

Measures startup to the first answered request, idle memory, and the median
and p99 latency of 1,000 sequential boto3 calls each of STS GetCallerIdentity
and IAM ListRoles (with 100 roles).  Target: kumo's median at most half of
moto's.

    python bench/bench_foundation.py [--calls 1000] [--starts 5] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import kumo, moto, record, summary, timed  # noqa: E402

TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


def startup(make, starts: int) -> list[float]:
    times = []
    for _ in range(starts):
        server = make().start()
        times.append(server.startup_s * 1000)
        server.stop()
    return times


def latencies(server, calls: int) -> dict[str, list[float]]:
    sts, iam = server.client("sts"), server.client("iam")
    for i in range(100):
        iam.create_role(RoleName=f"bench-role-{i:03d}", AssumeRolePolicyDocument=TRUST)
    assert len(iam.list_roles(MaxItems=1000)["Roles"]) == 100
    for _ in range(50):  # warm both paths
        sts.get_caller_identity()
        iam.list_roles()
    return {
        "sts": timed(sts.get_caller_identity, calls),
        "iam": timed(lambda: iam.list_roles(MaxItems=1000), calls),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()

    peers = {"kumo": lambda: kumo("--ephemeral"), "moto": moto}
    start_ms = {name: startup(make, args.starts) for name, make in peers.items()}

    results = {}
    for name, make in peers.items():
        server = make().start()
        try:
            time.sleep(1.0)
            idle = server.rss_mib()
            lat = latencies(server, args.calls)
            results[name] = {"idle": idle, **lat}
        finally:
            server.stop()

    # What durability costs: the same write on a durable and an ephemeral kumo.
    writes = {}
    for label, extra in (("durable", ()), ("ephemeral", ("--ephemeral",))):
        server = kumo(*extra).start()
        try:
            iam = server.client("iam")
            n = iter(range(10**6))
            writes[label] = timed(lambda: iam.create_user(UserName=f"u{next(n)}"), args.calls)
        finally:
            server.stop()

    k, m = results["kumo"], results["moto"]
    rows = [
        "| measure | kumo | moto server | kumo / moto |",
        "|---|---|---|---|",
        f"| startup to first answered request, median of {args.starts} (ms) | "
        f"{statistics.median(start_ms['kumo']):.0f} | {statistics.median(start_ms['moto']):.0f} | "
        f"{statistics.median(start_ms['kumo']) / statistics.median(start_ms['moto']):.2f} |",
        f"| idle RSS (MiB) | {k['idle']:.1f} | {m['idle']:.1f} | {k['idle'] / m['idle']:.2f} |",
    ]
    for key, label in (("sts", "STS GetCallerIdentity"), ("iam", "IAM ListRoles, 100 roles")):
        ratio = statistics.median(k[key]) / statistics.median(m[key])
        rows.append(f"| {label}: median / p99 of {args.calls} calls (ms) | {summary(k[key])} | {summary(m[key])} | "
                    f"{ratio:.2f} (median) |")
    rows.append(f"| IAM CreateUser on durable kumo (SQLite WAL commit per request): median / p99 (ms) | "
                f"{summary(writes['durable'])} | | |")
    rows.append(f"| IAM CreateUser on --ephemeral kumo: median / p99 (ms) | {summary(writes['ephemeral'])} | | |")
    table = "\n".join(rows)
    print(table)
    verdicts = []
    for key, label in (("sts", "GetCallerIdentity"), ("iam", "ListRoles")):
        ratio = statistics.median(k[key]) / statistics.median(m[key])
        verdicts.append(f"- {label}: kumo's median is {ratio:.2f}x moto's (target <= 0.5): "
                        f"{'met' if ratio <= 0.5 else 'NOT met'}")
    verdicts.append(f"- startup: {statistics.median(start_ms['kumo']):.0f} ms (target <= 1000 ms): "
                    f"{'met' if statistics.median(start_ms['kumo']) <= 1000 else 'NOT met'}")
    print("\n".join(verdicts))
    if not args.no_record:
        note = ("Latency is measured from the boto3 client, so it includes boto3's own request building, "
                "signing and parsing (the same for both servers).")
        record("Foundation: kumo vs moto server", "python bench/bench_foundation.py",
               table + "\n\n" + "\n".join(verdicts) + "\n\n" + note)


if __name__ == "__main__":
    main()
