"""Foundation benchmark: kumo beside moto's server, in the same run.

Measures startup (median of N starts, kumo's and moto's interleaved) to the
first answered AWS request (STS GetCallerIdentity) and, for kumo, to
``/_kumo/health``; idle memory; and the median and p99 latency of 1,000
sequential boto3 calls each of STS GetCallerIdentity and IAM ListRoles (with
100 roles).  Targets: startup <= 0.5 s to the first answer and <= 0.6 s to
health, idle RSS <= 45 MiB, kumo's median at most half of moto's.

Startup is measured as a normal install runs: with bytecode (.pyc) present.
The script compiles kumo's tree first (``compileall``, as pip does on install)
and says how many of kumo's modules had current bytecode.

    python bench/bench_foundation.py [--calls 1000] [--starts 7] [--no-record]
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import kumo, moto, record, summary, timed  # noqa: E402

TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


def bytecode() -> str:
    """Compile kumo's tree as an install would, then count the modules whose .pyc is current."""
    import kumo

    src = Path(kumo.__file__).parent
    compileall.compile_dir(str(src), quiet=1)
    modules = list(src.rglob("*.py"))
    current = 0
    for path in modules:
        pyc = Path(importlib.util.cache_from_source(str(path)))
        current += pyc.exists() and pyc.stat().st_mtime >= path.stat().st_mtime
    return f"{current} of {len(modules)} kumo modules"


def to_health(make, timeout: float = 60.0) -> float:
    """Milliseconds from spawning a server to its first answered ``/_kumo/health``."""
    server = make()
    t0 = time.perf_counter()
    server.proc = subprocess.Popen(server.cmd, env=server.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
    try:
        while time.perf_counter() - t0 < timeout:
            try:
                with urllib.request.urlopen(server.endpoint + "/_kumo/health", timeout=2) as resp:
                    if resp.status == 200:
                        return (time.perf_counter() - t0) * 1000
            except OSError:
                if server.proc.poll() is not None:
                    break
                time.sleep(0.005)
        raise RuntimeError(f"{server.name} never answered /_kumo/health")
    finally:
        server.stop()


def startup(peers: dict, starts: int) -> dict[str, list[float]]:
    """Each peer's startup to its first answered AWS request, the peers' starts interleaved (same conditions)."""
    times: dict[str, list[float]] = {name: [] for name in peers}
    for _ in range(starts):
        for name, make in peers.items():
            server = make().start()
            times[name].append(server.startup_s * 1000)
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
    ap.add_argument("--starts", type=int, default=7)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()

    compiled = bytecode()
    peers = {"kumo": lambda: kumo("--ephemeral"), "moto": moto}
    start_ms = startup(peers, args.starts)
    health_ms = [to_health(peers["kumo"]) for _ in range(args.starts)]
    durable_ms = startup({"kumo": kumo}, args.starts)["kumo"]  # a durable kumo opens its SQLite file

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
    first, health = statistics.median(start_ms["kumo"]), statistics.median(health_ms)
    rows = [
        "| measure | kumo | moto server | kumo / moto |",
        "|---|---|---|---|",
        f"| startup to first answered AWS request (STS GetCallerIdentity), median of {args.starts} (ms) | "
        f"{first:.0f} | {statistics.median(start_ms['moto']):.0f} | "
        f"{first / statistics.median(start_ms['moto']):.2f} |",
        f"| startup to first answered /_kumo/health, median of {args.starts} (ms) | {health:.0f} | | |",
        f"| startup of a durable kumo (SQLite file) to first answered AWS request, median (ms) | "
        f"{statistics.median(durable_ms):.0f} | | |",
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
    verdicts.append(f"- startup to the first answer: {first:.0f} ms (target <= 500 ms): "
                    f"{'met' if first <= 500 else 'NOT met'}")
    verdicts.append(f"- startup to /_kumo/health: {health:.0f} ms (target <= 600 ms): "
                    f"{'met' if health <= 600 else 'NOT met'}")
    verdicts.append(f"- idle RSS: {k['idle']:.1f} MiB (target <= 45 MiB): {'met' if k['idle'] <= 45 else 'NOT met'}")
    verdicts.append(f"- bytecode present (startup measured as installed): {compiled} had current .pyc files")
    print("\n".join(verdicts))
    if not args.no_record:
        note = ("Latency is measured from the boto3 client, so it includes boto3's own request building, "
                "signing and parsing (the same for both servers).")
        record("Foundation: kumo vs moto server", "python bench/bench_foundation.py",
               table + "\n\n" + "\n".join(verdicts) + "\n\n" + note)


if __name__ == "__main__":
    main()
