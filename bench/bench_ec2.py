"""EC2 benchmark: kumo beside moto's server, in the same run.

* time for 50 instances to reach running (kumo boots 50 real process trees;
  moto only records them), target < 10 s;
* kumo's own memory per instance (RSS of the kumo server, and separately of
  the instances' process trees);
* DescribeInstances latency with 500 instances.

    python bench/bench_ec2.py [--calls 200] [--no-record]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import _tree, kumo, moto, record, summary, timed  # noqa: E402

AMI = "ami-0a0000000000a2023"


def launch(server, count: int, ami: str) -> float:
    ec2 = server.client("ec2")
    t0 = time.perf_counter()
    ids = []
    while len(ids) < count:  # RunInstances in batches, as a client launching a fleet would
        n = min(50, count - len(ids))
        ids += [i["InstanceId"] for i in ec2.run_instances(ImageId=ami, InstanceType="t3.nano", MinCount=n,
                                                           MaxCount=n)["Instances"]]
    while True:
        states = [i["State"]["Name"] for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]
                  for i in r["Instances"]]
        if all(s == "running" for s in states):
            return time.perf_counter() - t0
        if time.perf_counter() - t0 > 300:
            raise RuntimeError("instances did not reach running in 300 s")
        time.sleep(0.05)


def own_rss(server) -> float:
    """RSS of the server process alone (MiB), without its instances."""
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def workload_rss() -> tuple[float, int]:
    """RSS (MiB) and count of all processes tagged as kumo workloads."""
    total, count = 0, 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if b"KUMO_WORKLOAD=" not in (proc / "environ").read_bytes():
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    count += 1
        except OSError:
            continue
    return total / 1024, count


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()

    results = {}
    for name, make in (("kumo", lambda: kumo("--ephemeral", "--loopback-base", "232")), ("moto", moto)):
        server = make().start()
        try:
            ec2 = server.client("ec2")
            ami = AMI if name == "kumo" else ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
            ec2.describe_instances()
            before = own_rss(server)
            t50 = launch(server, 50, ami)
            time.sleep(1.0)
            after = own_rss(server)
            tree_rss, procs = workload_rss() if name == "kumo" else (0.0, 0)
            launch(server, 450, ami)
            ec2.describe_instances()
            lat = timed(ec2.describe_instances, args.calls)
            results[name] = {"t50": t50, "per_instance": (after - before) / 50, "tree_rss": tree_rss,
                             "procs": procs, "describe": lat}
        finally:
            server.stop()

    k, m = results["kumo"], results["moto"]
    rows = [
        "| measure | kumo | moto server |",
        "|---|---|---|",
        f"| 50 instances from RunInstances to all `running` (s) | {k['t50']:.2f} (real process trees) | "
        f"{m['t50']:.2f} (records only) |",
        f"| server RSS growth per instance, 50 instances (MiB) | {k['per_instance']:.3f} | {m['per_instance']:.3f} |",
        f"| RSS of the instances' own processes, 50 instances (MiB, {k['procs']} processes) | "
        f"{k['tree_rss']:.1f} ({k['tree_rss'] / 50:.2f} per instance) | n/a |",
        f"| DescribeInstances with 500 instances: median / p99 of {args.calls} calls (ms) | {summary(k['describe'])} | "
        f"{summary(m['describe'])} |",
    ]
    ratio = statistics.median(k["describe"]) / statistics.median(m["describe"])
    verdict = [f"- 50 instances running in {k['t50']:.2f} s (target < 10 s): {'met' if k['t50'] < 10 else 'NOT met'}",
               f"- DescribeInstances (500): kumo's median is {ratio:.2f}x moto's"]
    table = "\n".join(rows)
    print(table)
    print("\n".join(verdict))
    if not args.no_record:
        record("EC2: kumo vs moto server", "python bench/bench_ec2.py", table + "\n\n" + "\n".join(verdict) +
               "\n\nDescribeInstances is timed from boto3, so it includes boto3 parsing 500 instances (the same for "
               "both servers).")


if __name__ == "__main__":
    main()
