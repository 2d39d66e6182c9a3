"""Memory benchmark: does kumo give memory back after a load?

One script, the same every time:

1. start kumo (durable, as users run it) and read its idle RSS;
2. create a fixed state: 100 IAM roles, 10 SQS queues, 5 SNS topics, 5 metrics of one day of 1-minute
   data, 10 alarms, a Lambda function, 10 EC2 instances;
3. call every operation of the load a few times (so lazily loaded models and modules are in), let it
   settle 5 s and read the *post-state baseline*;
4. drive a mixed load of common calls from concurrent boto3 clients (--clients, default 16, in 4 processes) for
   --minutes (default 5), bounded by --max-calls too, reading RSS every 2 s;
5. read RSS at the load's end and 1 minute after.

Target: RSS 1 minute after the load within 20% of the post-state baseline.

The load mostly reads. Its writes either undo themselves (SQS messages are received and deleted,
roles' tags overwritten) or are counted: PutMetricData adds datapoints, which CloudWatch keeps by
design; the script prints how many, and their size is bounded by the count of calls.

RSS is the kumo process's own (VmRSS), without its instances' and functions' process trees.

    python bench/bench_memory.py [--minutes 5] [--clients 8] [--no-record]
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import random
import signal
import sys
import threading
import time
import zipfile
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).parent))
from common import kumo, record  # noqa: E402

DAY = 86400
AMI = "ami-0a0000000000a2023"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
BASES = (200, 204, 208, 212, 216, 220)  # loopback networks to try: other benchmarks may hold some


def start_kumo(*extra: str, env: dict | None = None):
    last = None
    for base in BASES:
        try:
            server = kumo("--loopback-base", str(base), *extra)
            server.env = env
            return server.start()
        except RuntimeError as exc:
            last = exc
    raise last


def own_rss(pid: int) -> float:
    """The kumo process's own resident memory (MiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def clients(endpoint: str) -> dict:
    """One client per service, from a session of its own (boto3's default session is not thread-safe)."""
    session = boto3.session.Session()
    cfg = Config(retries={"max_attempts": 1}, max_pool_connections=4)
    return {name: session.client(name, endpoint_url=endpoint, region_name="us-east-1",
                                 aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x", config=cfg)
            for name in ("sts", "iam", "sqs", "sns", "cloudwatch", "ec2", "lambda")}


def package() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("lambda_function.py", "def handler(event, context):\n    return {'ok': True}\n")
    return buf.getvalue()


def create_state(c: dict, instances: int = 10) -> dict:
    iam, sqs, sns, cw, ec2, lam = c["iam"], c["sqs"], c["sns"], c["cloudwatch"], c["ec2"], c["lambda"]
    for i in range(100):
        iam.create_role(RoleName=f"mem-role-{i:03d}", AssumeRolePolicyDocument=TRUST,
                        Tags=[{"Key": "n", "Value": str(i)}])
    queues = [sqs.create_queue(QueueName=f"mem-q-{i}")["QueueUrl"] for i in range(10)]
    topics = [sns.create_topic(Name=f"mem-t-{i}")["TopicArn"] for i in range(5)]
    end = time.time() // 60 * 60
    start = end - DAY
    for m in range(5):
        points = [{"MetricName": f"day-{m}", "Timestamp": start + i * 60, "Value": float(i % 100)}
                  for i in range(1440)]
        for k in range(0, len(points), 150):
            cw.put_metric_data(Namespace="MemDay", MetricData=points[k:k + 150])
    for i in range(10):
        cw.put_metric_alarm(AlarmName=f"mem-alarm-{i}", Namespace="MemDay", MetricName=f"day-{i % 5}",
                            Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=50.0,
                            ComparisonOperator="GreaterThanThreshold")
    role = iam.create_role(RoleName="mem-fn-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    lam.create_function(FunctionName="mem-fn", Runtime="python3.12", Role=role, Handler="lambda_function.handler",
                        Code={"ZipFile": package()}, MemorySize=128, Timeout=10)
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=instances,
                                                      MaxCount=instances)["Instances"]]
    deadline = time.monotonic() + 120  # real-time: bounded wait for the fleet
    while time.monotonic() < deadline:
        states = {i["State"]["Name"] for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]
                  for i in r["Instances"]}
        if states == {"running"}:
            break
        time.sleep(0.2)
    while lam.get_function_configuration(FunctionName="mem-fn")["State"] != "Active":
        time.sleep(0.05)
    return {"queues": queues, "topics": topics, "start": start + 60, "instances": ids}


def operations(c: dict, state: dict, rng: random.Random, counts: dict) -> list:
    """The load's mix: (weight, call). Mostly reads; writes undo themselves or are counted."""
    iam, sqs, sns, cw, ec2, lam = c["iam"], c["sqs"], c["sns"], c["cloudwatch"], c["ec2"], c["lambda"]
    start = state["start"]

    def gms():
        cw.get_metric_statistics(Namespace="MemDay", MetricName=f"day-{rng.randrange(5)}", StartTime=start,
                                 EndTime=start + DAY - 120, Period=60,
                                 Statistics=["SampleCount", "Average", "Sum", "Minimum", "Maximum"])

    def put_metric():
        cw.put_metric_data(Namespace="MemLoad", MetricData=[
            {"MetricName": f"load-{rng.randrange(10)}", "Value": rng.random()}])
        counts["datapoints"] += 1

    def sqs_round():
        url = rng.choice(state["queues"])
        sqs.send_message(QueueUrl=url, MessageBody="x" * rng.randrange(10, 2000))
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    def tag_role():  # overwrites the same tag: no growth
        iam.tag_role(RoleName=f"mem-role-{rng.randrange(100):03d}", Tags=[{"Key": "n", "Value": str(rng.random())}])

    return [
        (10, c["sts"].get_caller_identity),
        (8, lambda: iam.list_roles(MaxItems=1000)),
        (8, lambda: iam.get_role(RoleName=f"mem-role-{rng.randrange(100):03d}")),
        (3, tag_role),
        (10, sqs_round),
        (4, lambda: sqs.list_queues()),
        (4, lambda: sns.list_topics()),
        (3, lambda: sns.get_topic_attributes(TopicArn=rng.choice(state["topics"]))),
        (4, gms),
        (6, put_metric),
        (4, lambda: cw.describe_alarms()),
        (3, lambda: cw.list_metrics(Namespace="MemDay")),
        (6, lambda: ec2.describe_instances()),
        (3, lambda: ec2.describe_security_groups()),
        (3, lambda: ec2.describe_vpcs()),
        (3, lambda: lam.list_functions()),
        (3, lambda: lam.get_function(FunctionName="mem-fn")),
        (2, lambda: iam.get_role(RoleName="no-such-role")),  # an error answer now and then
    ]


def worker(endpoint: str, state: dict, stop: threading.Event, budget: list, counts: dict, seed: int) -> None:
    rng = random.Random(seed)
    c = clients(endpoint)
    ops = operations(c, state, rng, counts)
    weights = [w for w, _ in ops]
    calls = [f for _, f in ops]
    while not stop.is_set():
        with counts["lock"]:
            if budget[0] <= 0:
                return
            budget[0] -= 1
        try:
            rng.choices(calls, weights)[0]()
        except c["iam"].exceptions.NoSuchEntityException:
            pass
        except Exception as exc:  # count, do not stop: the figure of interest is memory
            counts["errors"] += 1
            counts["last_error"] = repr(exc)
        counts["calls"] += 1


def process(endpoint: str, state: dict, threads: int, seconds: float, max_calls: int, seed: int, out) -> None:
    """One client process: `threads` clients for `seconds` (boto3 is CPU-bound: one process would hold them
    all behind its GIL)."""
    counts = {"calls": 0, "errors": 0, "datapoints": 0, "lock": threading.Lock(), "last_error": ""}
    budget = [max_calls]
    stop = threading.Event()
    workers = [threading.Thread(target=worker, args=(endpoint, state, stop, budget, counts, seed * 100 + n),
                                daemon=True) for n in range(threads)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + seconds  # real-time
    while time.monotonic() < deadline and any(w.is_alive() for w in workers):
        time.sleep(0.2)
    stop.set()
    for w in workers:
        w.join(60)
    del counts["lock"]
    out.put(counts)


def drive(endpoint: str, state: dict, args) -> dict:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    per = max(1, args.clients // args.procs)
    procs = [ctx.Process(target=process, args=(endpoint, state, per, args.minutes * 60, args.max_calls // args.procs,
                                               n, out)) for n in range(args.procs)]
    for p in procs:
        p.start()
    total = {"calls": 0, "errors": 0, "datapoints": 0, "last_error": ""}
    for _ in procs:
        got = out.get(timeout=args.minutes * 60 + 120)
        for key in ("calls", "errors", "datapoints"):
            total[key] += got[key]
        total["last_error"] = got["last_error"] or total["last_error"]
    for p in procs:
        p.join(30)
    return total


def warm_up(endpoint: str, state: dict) -> None:
    """Every operation of the mix a few times: lazily loaded models and modules become part of the baseline."""
    counts = {"datapoints": 0}
    c = clients(endpoint)
    for _ in range(3):
        for _, call in operations(c, state, random.Random(0), counts):
            try:
                call()
            except Exception:
                pass


def sample(pid: int, seconds: float, every: float, out: list, t0: float, stop: threading.Event | None = None):
    end = time.monotonic() + seconds  # real-time
    while time.monotonic() < end and not (stop and stop.is_set()):
        out.append((time.monotonic() - t0, own_rss(pid)))
        time.sleep(every)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=5.0, help="length of the load (default 5)")
    ap.add_argument("--after", type=float, default=60.0, help="seconds to watch after the load (default 60)")
    ap.add_argument("--clients", type=int, default=16, help="concurrent boto3 clients (default 16)")
    ap.add_argument("--procs", type=int, default=4, help="client processes the clients are spread over (default 4)")
    ap.add_argument("--max-calls", type=int, default=200_000, help="bound on the load's calls")
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    # A TERM (timeout, Ctrl-C of a wrapper) must still stop kumo and its instances in the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    server = start_kumo()
    pid = server.proc.pid
    try:
        time.sleep(1.0)
        idle = own_rss(pid)
        setup = clients(server.endpoint)
        state = create_state(setup)
        warm_up(server.endpoint, state)
        time.sleep(5.0)
        baseline = own_rss(pid)
        print(f"idle {idle:.1f} MiB, post-state baseline {baseline:.1f} MiB", flush=True)

        series: list[tuple[float, float]] = []
        stop = threading.Event()
        t0 = time.monotonic()  # real-time
        watcher = threading.Thread(target=sample, args=(pid, args.minutes * 60 + 30, 2.0, series, t0, stop),
                                   daemon=True)
        watcher.start()
        counts = drive(server.endpoint, state, args)
        stop.set()
        watcher.join(5)
        load_s = time.monotonic() - t0
        watcher.join(5)
        end = own_rss(pid)
        peak = max([end] + [r for _, r in series])
        after: list[tuple[float, float]] = []
        sample(pid, args.after, 5.0, after, t0)
        final = own_rss(pid)
        with_children = server.rss_mib()
    finally:
        server.stop()

    ratio = final / baseline
    rows = [
        "| measure | kumo RSS (MiB) |",
        "|---|---|",
        f"| idle, just started | {idle:.1f} |",
        f"| post-state baseline (state created, every call warmed, 5 s settle) | {baseline:.1f} |",
        f"| peak during the load | {peak:.1f} |",
        f"| end of the load | {end:.1f} |",
        f"| {args.after:.0f} s after the load | {final:.1f} ({ratio:.2f}x baseline) |",
    ]
    table = "\n".join(rows)
    load = (f"load: {counts['calls']} calls in {load_s:.0f} s ({counts['calls'] / load_s:.0f}/s) from {args.clients} "
            f"clients, {counts['errors']} unexpected errors; {counts['datapoints']} datapoints stored by "
            f"PutMetricData (state growth by design); kumo with its instances' processes at the end: "
            f"{with_children:.1f} MiB")
    verdict = (f"- RSS {args.after:.0f} s after the load is {ratio:.2f}x the post-state baseline (target <= 1.20): "
               f"{'met' if ratio <= 1.2 else 'NOT met'}")
    print(table)
    print(load)
    if counts["errors"]:
        print("last unexpected error:", counts["last_error"])
    print("RSS every 2 s (s: MiB):", " ".join(f"{t:.0f}:{r:.0f}" for t, r in series + after))
    print(verdict)
    if not args.no_record:
        record("Memory after a mixed load", f"python bench/bench_memory.py --minutes {args.minutes:g}",
               table + "\n\n" + load + "\n\n" + verdict)


if __name__ == "__main__":
    main()
