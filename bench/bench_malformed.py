"""A bad request costs only itself: a third client's latency while two clients send malformed requests.

kumo holds --records IAM roles (durable state).  A victim client times STS
GetCallerIdentity with boto3 alone (quiet), and while two attacker processes
send malformed requests in a loop (deep JSON, bad and deep XML, byte
mutations, requests that used to answer 500, bodies abandoned mid-way): once
paced at --rate requests a second each, the same offered load for every
kumo measured, and once as fast as answered.  Target: under the paced attack
the victim's median is at most 2x its quiet median.  A control window has two clients send valid
requests as fast as answered: the flat-out attack should cost the victim no more than that.

With --baseline-src (e.g. a checkout of main's src/), the same run measures
that kumo too, so before and after are compared on one machine in one run.

    python bench/bench_malformed.py [--records 5000] [--calls 400] [--seconds 60] [--rate 100]
                                    [--baseline-src /path/to/main/src] [--no-record]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import kumo, pct, record  # noqa: E402

TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


def sig(service: str) -> str:
    return (f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0")


def json_headers(target: str | None, service: str) -> dict:
    h = {"Content-Type": "application/x-amz-json-1.0", "Authorization": sig(service)}
    if target is not None:
        h["X-Amz-Target"] = target
    return h


FORM = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": sig("sts")}
VALID_QUERY = b"Action=GetCallerIdentity&Version=2011-06-15"
VALID_JSON = b'{"QueueNamePrefix":"bench"}'
ALARM = (b'{"AlarmName":"\\ud800","MetricName":"m","Namespace":"n","Period":60,"EvaluationPeriods":1,'
         b'"Threshold":1,"ComparisonOperator":"GreaterThanThreshold","Statistic":"Average"}')


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(b))
        b[i] = rng.randrange(256)
    return bytes(b)


def malformed(rng: random.Random):
    """(path, body, headers) of the next malformed request; None means: abandon a body mid-way."""
    kinds = [
        lambda: ("/", b"[" * 1000 + b"]" * 1000, json_headers("AmazonSQS.ListQueues", "sqs")),
        lambda: ("/", b'{"a":' * 1000 + b"1" + b"}" * 1000, json_headers("Logs_20140328.DescribeLogGroups", "logs")),
        lambda: ("/", b"{}", json_headers(None, "sqs")),  # no X-Amz-Target
        lambda: ("/", b"{}", json_headers("", "logs")),
        lambda: ("/", ALARM, json_headers("GraniteServiceVersion20100801.PutMetricAlarm", "monitoring")),
        lambda: ("/2013-04-01/hostedzone", b"<CreateHostedZoneRequest><a></b>",
                 {"Content-Type": "application/xml", "Authorization": sig("route53")}),
        lambda: ("/2013-04-01/hostedzone", b"<x>" * 2000 + b"</x>" * 2000,
                 {"Content-Type": "application/xml", "Authorization": sig("route53")}),
        lambda: ("/", mutate(VALID_QUERY, rng), FORM),
        lambda: ("/", mutate(VALID_JSON, rng), json_headers("AmazonSQS.ListQueues", "sqs")),
        lambda: ("/", b'{"QueueNamePrefix": "ab', json_headers("AmazonSQS.ListQueues", "sqs")),
        lambda: None,
    ]
    return rng.choice(kinds)()


def well_formed(rng: random.Random):
    """The control: a valid GetCallerIdentity, which costs kumo what a good request costs."""
    return ("/", VALID_QUERY, FORM)


def attack(port: int, seconds: float, limit: int, seed: int, rate: float, stop: str, valid: bool = False) -> None:
    """One attacker: malformed requests in a loop (``rate`` a second, 0 = as fast as answered) until the stop
    file appears or the time or count bound is reached; prints its tally as JSON.  ``valid`` sends good
    requests instead: two busy clients of any kind share kumo's loop and the machine's cores with the victim."""
    rng = random.Random(seed)
    make = well_formed if valid else malformed
    tally: dict[str, int] = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    start = time.monotonic()
    deadline = start + seconds
    n = 0
    while n < limit and time.monotonic() < deadline and not os.path.exists(stop):
        if rate:
            wait = start + n / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        n += 1
        req = make(rng)
        if req is None:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: AmazonSQS.ListQueues\r\n"
                          b"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 5000\r\n\r\n{\"Queue")
            tally["abandoned"] = tally.get("abandoned", 0) + 1
            continue
        path, body, headers = req
        try:
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            key = str(resp.status)
            if resp.will_close:
                conn.close()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            key = "closed"
        tally[key] = tally.get(key, 0) + 1
    tally["seconds"] = round(time.monotonic() - start, 2)
    print(json.dumps(tally), flush=True)


def populate(server, records: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": sig("iam")}
    for i in range(records):
        body = f"Action=CreateRole&Version=2010-05-08&RoleName=r{i:05d}&AssumeRolePolicyDocument={TRUST}"
        conn.request("POST", "/", body=body.replace("{", "%7B").replace("}", "%7D").replace('"', "%22")
                     .replace(" ", "%20").replace(",", "%2C").replace(":", "%3A").replace("[", "%5B")
                     .replace("]", "%5D"), headers=headers)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200, resp.status
    conn.close()


def victim(server, calls: int) -> list[float]:
    sts = server.client("sts")
    out = []
    for _ in range(calls):
        t = time.perf_counter()
        sts.get_caller_identity()
        out.append((time.perf_counter() - t) * 1000)
    return out


def under_attack(server, args, rate: float, valid: bool = False) -> tuple[list[float], dict]:
    stop = tempfile.mktemp(prefix="kumo-bench-stop-")
    attackers = [subprocess.Popen([sys.executable, __file__, "--attack", str(server.port), "--seconds",
                                   str(args.seconds), "--seed", str(i), "--rate", str(rate), "--stop", stop]
                                  + (["--valid"] if valid else []),
                                  stdout=subprocess.PIPE, text=True)
                 for i in range(2)]
    try:
        time.sleep(1.0)  # both loops running
        loaded = victim(server, args.calls)
    finally:
        Path(stop).touch()
    total: dict[str, float] = {}
    for p in attackers:
        out, _ = p.communicate(timeout=args.seconds + 60)
        for k, v in json.loads(out.strip().splitlines()[-1]).items():
            total[k] = total.get(k, 0) + v
    os.unlink(stop)
    return loaded, total


def measure(server, args) -> dict:
    populate(server, args.records)
    victim(server, 50)  # warm
    quiet = victim(server, args.calls // 2)
    paced, paced_tally = under_attack(server, args, args.rate)
    flat_out, flat_tally = under_attack(server, args, 0)
    busy, busy_tally = under_attack(server, args, 0, valid=True)
    quiet += victim(server, args.calls // 2)  # quiet before and after: the machine's own drift averages out
    return {"quiet": quiet, "paced": paced, "paced_tally": paced_tally, "flat": flat_out, "flat_tally": flat_tally,
            "busy": busy, "busy_tally": busy_tally, "rss": server.rss_mib()}


def start(src: str | None):
    for base in ("236", "232", "240"):  # the benchmarks' loopback ranges; another bench may hold one
        server = kumo("--loopback-base", base)
        if src:
            server.env = {**os.environ, "PYTHONPATH": src}
        try:
            return server.start()
        except RuntimeError:
            continue
    raise RuntimeError("no loopback range free for kumo")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=5000)
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--seconds", type=float, default=60.0, help="each attacker's time bound")
    ap.add_argument("--baseline-src", help="src/ of another kumo (e.g. main) to measure in the same run")
    ap.add_argument("--no-record", action="store_true")
    ap.add_argument("--attack", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--max", type=int, default=200_000, help=argparse.SUPPRESS)
    ap.add_argument("--rate", type=float, default=100.0, help="requests a second of each paced attacker")
    ap.add_argument("--stop", help=argparse.SUPPRESS)
    ap.add_argument("--valid", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.attack:
        attack(args.attack, args.seconds, args.max, args.seed, args.rate, args.stop, args.valid)
        return

    here = str(Path(__file__).resolve().parents[1] / "src")
    peers = [("this branch", os.environ.get("PYTHONPATH") or here)]
    if args.baseline_src:
        peers.insert(0, ("baseline", args.baseline_src))
    results = {}
    for name, src in peers:
        server = start(src)
        try:
            results[name] = measure(server, args)
        finally:
            server.stop()

    rows = ["| measure | " + " | ".join(results) + " |", "|---" * (len(results) + 1) + "|"]

    def row(label, fn):
        rows.append(f"| {label} | " + " | ".join(fn(r) for r in results.values()) + " |")

    def p50(values):
        return statistics.median(values)

    def sent(t):
        return sum(v for n, v in t.items() if n != "seconds")

    def tally_text(t):
        return ", ".join(f"{k}: {v:g}" for k, v in sorted(t.items()) if k != "seconds")

    row("GetCallerIdentity quiet: median / p99 (ms)", lambda r: f"{p50(r['quiet']):.2f} / {pct(r['quiet'], 99):.2f}")
    for key, label in (("paced", f"two attackers at {args.rate:g} requests/s each"),
                       ("flat", "two attackers as fast as answered"),
                       ("busy", "control: two clients sending valid GetCallerIdentity as fast as answered")):
        row(f"{label}: GetCallerIdentity median / p99 (ms)",
            lambda r, k=key: f"{p50(r[k]):.2f} / {pct(r[k], 99):.2f}")
        row(f"{label}: median / quiet median", lambda r, k=key: f"{p50(r[k]) / p50(r['quiet']):.2f}x")
        row(f"{label}: requests sent, answered 500",
            lambda r, k=key: f"{sent(r[k + '_tally']):g}, {r[k + '_tally'].get('500', 0):g}")
        row(f"{label}: answers by status", lambda r, k=key: tally_text(r[k + "_tally"]))
    row("RSS after the run (MiB)", lambda r: f"{r['rss']:.1f}")
    ours = results["this branch"]
    paced = p50(ours["paced"]) / p50(ours["quiet"])
    flat = p50(ours["flat"]) / p50(ours["quiet"])
    busy = p50(ours["busy"]) / p50(ours["quiet"])
    body = "\n".join(rows) + (
        f"\n\n- paced attack, median / quiet median: {paced:.2f}x (target <= 2x): {'met' if paced <= 2 else 'NOT met'}\n"
        f"- attack as fast as answered: {flat:.2f}x, against {busy:.2f}x for two clients sending valid requests as "
        f"fast as answered (what any two busy clients cost the victim on this machine: one event loop, and 2 cores "
        f"shared by kumo, the victim and both client processes)\n"
        f"- {args.records} IAM roles in durable state; the victim makes {args.calls} sequential boto3 calls per window "
        f"(quiet is half before and half after the attacks); each attacker is its own process, bounded by "
        f"{args.seconds:g} s and stopped when the victim is done, looping over: JSON nested 1,000 deep, no or empty "
        "X-Amz-Target, a lone surrogate in PutMetricAlarm, malformed and 2,000-deep XML, byte mutations of a query "
        "and a JSON request, truncated JSON, and bodies abandoned mid-way.\n")
    print(body)
    if not args.no_record:
        cmd = "python bench/bench_malformed.py" + (f" --baseline-src {args.baseline_src}" if args.baseline_src else "")
        record("Malformed requests: a bad request costs only itself", cmd, body)


if __name__ == "__main__":
    main()
