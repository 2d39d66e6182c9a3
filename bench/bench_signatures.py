"""What ``--enforce-signatures`` costs: GetCallerIdentity on kumo with and without it, in the same run.

A kumo process with and one without the flag, in alternating rounds of the same boto3 calls signed with the
root pair; plus the verifier's own CPU per request, timed in-process.

    python bench/bench_signatures.py [--calls 1000] [--rounds 3] [--no-record]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from multidict import CIMultiDict

sys.path.insert(0, str(Path(__file__).parent))
from common import kumo, pct, record, summary, timed  # noqa: E402


def started(*flags: str, timeout: float = 60.0):
    """A kumo process on a free benchmark loopback range, once its health endpoint answers (an enforcing kumo
    refuses the shared start probe's fake signature)."""
    for base in ("240", "236", "232"):
        server = kumo("--ephemeral", "--loopback-base", base, *flags)
        server.proc = subprocess.Popen(server.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       start_new_session=True)
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and server.proc.poll() is None:
            try:
                with urllib.request.urlopen(server.endpoint + "/_kumo/health", timeout=2):
                    return server
            except OSError:
                time.sleep(0.01)
        server.stop()  # that range is taken by another kumo: try the next
    raise RuntimeError("kumo did not start on any benchmark loopback range")


def client(server):
    return boto3.client("sts", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))


def verifier_cost(n: int) -> list[float]:
    """Microseconds of Verifier.check for one signed GetCallerIdentity (what enforcement adds per request)."""
    from kumo.aws.sigv4 import Verifier
    from kumo.config import Settings
    from kumo.server import Kumo

    k = Kumo(Settings(ephemeral=True, data_dir="/tmp/kumo-bench-sig"))
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    req = AWSRequest("POST", "http://127.0.0.1:4566/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials("test", "test"), "sts", "us-east-1").add_auth(req)
    headers = CIMultiDict(req.headers.items())
    headers["Host"] = "127.0.0.1:4566"
    v = Verifier(k)
    out = []
    for _ in range(n):
        t = time.perf_counter()
        v.check("POST", "/", "", headers, body, fam="query", service="sts")
        out.append((time.perf_counter() - t) * 1e6)
    k.store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()

    # One kumo at a time (the benchmark loopback ranges may be shared with other runs), alternating rounds.
    samples: dict[str, list[float]] = {"off": [], "on": []}
    medians: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(args.rounds):
        for name, flags in (("off", ()), ("on", ("--enforce-signatures",))):
            server = started(*flags)
            try:
                c = client(server)
                for _ in range(100):  # warm
                    c.get_caller_identity()
                lat = timed(c.get_caller_identity, args.calls)
            finally:
                server.stop()
            samples[name] += lat
            medians[name].append(statistics.median(lat))
    cost = verifier_cost(5000)

    off, on = samples["off"], samples["on"]
    delta = statistics.median(on) - statistics.median(off)
    rows = [
        "| measure | kumo | kumo --enforce-signatures | difference |",
        "|---|---|---|---|",
        f"| STS GetCallerIdentity, boto3: median / p99 of {len(off)} calls (ms) | {summary(off)} | {summary(on)} | "
        f"{delta:+.3f} ms median ({statistics.median(on) / statistics.median(off):.2f}x) |",
        "| medians of each round (ms) | " + ", ".join(f"{m:.3f}" for m in medians["off"]) + " | "
        + ", ".join(f"{m:.3f}" for m in medians["on"]) + " | |",
        f"| verifier CPU per request, in-process: median / p99 of {len(cost)} (µs) | | "
        f"{statistics.median(cost):.1f} / {pct(cost, 99):.1f} | |",
    ]
    table = "\n".join(rows)
    print(table)
    if not args.no_record:
        note = ("Alternating rounds of sequential calls from one boto3 client against a fresh kumo each round "
                "(the same root-pair signing on both sides). Latency includes boto3's own request building, "
                "signing and parsing. With the flag off the edge pays one `is None` test per request. "
                f"Load average at the end of the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (the "
                "machine is shared): the round medians show how much of the latency difference is noise; the "
                "in-process figure is what verification adds.")
        record("Signatures: kumo with and without --enforce-signatures",
               f"python bench/bench_signatures.py --calls {args.calls} --rounds {args.rounds}", table + "\n\n" + note)


if __name__ == "__main__":
    main()
