"""The gap while kumo restarts: requests through an ALB to healthy instances while kumo stops and starts again.

An Auto Scaling group of two web instances behind an ALB; one client loops GET through the ALB (0.5 s timeout,
10 ms pause after a failure) while kumo is stopped (SIGTERM, or kill -9) and started again on the same data
directory.  Per round: failed requests from the stop until the new kumo's workers serve alone, the longest time
without an answer, the new kumo's launch to its ready line, its ready line to its own load balancer workers
serving alone (the previous kumo's retired), and whether the instances kept their processes.

    python bench/bench_restart.py [--rounds 3] [--record]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, free_port, machine  # noqa: E402

AMI = "ami-0a0000000000a2023"
WEB = "#!/bin/sh\nmkdir -p /tmp/www && cd /tmp/www\nnohup python3 -m http.server 8080 >/dev/null 2>&1 &\necho $! > pid\n"
LB_PORT = 8090


def get(host, port, path="/pid", timeout=0.5):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class Kumo:
    def __init__(self, data_dir: str, base: int):
        self.data_dir, self.base, self.port = data_dir, base, free_port()
        self.proc = None

    def start(self) -> float:
        """Launch; returns real seconds to the ready line."""
        t0 = time.perf_counter()  # real time
        self.proc = subprocess.Popen([sys.executable, "-m", "kumo.cli", "start", "--port", str(self.port),
                                      "--data-dir", self.data_dir, "--loopback-base", str(self.base)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     start_new_session=True)
        while "ready on" not in self.proc.stdout.readline():
            if self.proc.poll() is not None:
                raise RuntimeError("kumo exited before it was ready")
        return time.perf_counter() - t0

    def client(self, service):
        return boto3.client(service, endpoint_url=f"http://127.0.0.1:{self.port}", region_name="us-east-1",
                            aws_access_key_id="000000000000", aws_secret_access_key="x",
                            config=Config(retries={"max_attempts": 1}))

    def stop(self, how: str) -> None:
        if how == "kill9":
            os.killpg(self.proc.pid, signal.SIGKILL)
        else:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        self.proc.stdout.close()


def world(k: Kumo) -> tuple[str, list[str]]:
    ec2, elb, asg = k.client("ec2"), k.client("elbv2"), k.client("autoscaling")
    subnets = sorted(ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"],
                     key=lambda s: s["AvailabilityZone"])[:2]
    nets = [s["SubnetId"] for s in subnets]
    tg = elb.create_target_group(Name="web", Protocol="HTTP", Port=8080, VpcId=subnets[0]["VpcId"],
                                 HealthCheckPath="/pid", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                                 HealthyThresholdCount=2)["TargetGroups"][0]
    lb = elb.create_load_balancer(Name="front", Subnets=nets)["LoadBalancers"][0]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=LB_PORT,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    elb.get_waiter("load_balancer_available").wait(LoadBalancerArns=[lb["LoadBalancerArn"]],
                                                   WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    lb = elb.describe_load_balancers(LoadBalancerArns=[lb["LoadBalancerArn"]])["LoadBalancers"][0]
    ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={
        "ImageId": AMI, "InstanceType": "t3.micro", "UserData": base64.b64encode(WEB.encode()).decode()})
    asg.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=2, MaxSize=2, LaunchTemplate={
        "LaunchTemplateName": "web"}, VPCZoneIdentifier=",".join(nets), TargetGroupARNs=[tg["TargetGroupArn"]])
    deadline = time.monotonic() + 60
    while True:
        health = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
        if len(health) == 2 and all(h["TargetHealth"]["State"] == "healthy" for h in health):
            break
        assert time.monotonic() < deadline, health
        time.sleep(0.2)
    ids = [h["Target"]["Id"] for h in health]
    addresses = [i["PublicIpAddress"] for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]
                 for i in r["Instances"]]
    return lb["AvailabilityZones"][0]["LoadBalancerAddresses"][0]["IpAddress"], addresses


def lb_workers(base: int) -> dict[int, int]:
    """Load balancer workers of the kumo on ``base``: pid -> parent pid."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as fh:
                if f"\0KUMO_LB_WORKER={base}\0".encode() not in b"\0" + fh.read() + b"\0":
                    continue
            with open(f"/proc/{entry.name}/stat") as fh:
                found[int(entry.name)] = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return found


def pids(addresses):
    return [get(ip, 8080, timeout=5)[1].strip() for ip in addresses]


def round_(k: Kumo, node: str, addresses: list[str], how: str) -> dict:
    before_pids = pids(addresses)
    outcomes: list[tuple[float, bool]] = []
    done = threading.Event()

    def loop():
        end = time.perf_counter() + 60  # real time: the loop's bound
        while not done.is_set() and time.perf_counter() < end:
            try:
                ok = get(node, LB_PORT)[0] == 200
            except OSError:
                ok = False
            outcomes.append((time.perf_counter(), ok))
            if not ok:
                time.sleep(0.01)

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    time.sleep(0.5)
    stopped = time.perf_counter()  # real time, as the outcomes are
    k.stop(how)
    ready = k.start()
    ready_at = time.perf_counter()
    deadline = ready_at + 20
    while set(lb_workers(k.base).values()) != {k.proc.pid} and time.perf_counter() < deadline:
        time.sleep(0.01)
    takeover = time.perf_counter() - ready_at
    time.sleep(0.5)
    done.set()
    t.join(5)
    window = [(at, ok) for at, ok in outcomes if at >= stopped]
    successes = [at for at, ok in outcomes if ok]
    before = [at for at in successes if at < stopped][-1:]
    marks = before + [at for at in successes if at >= stopped] + [window[-1][0]]
    return {"failed": sum(1 for _, ok in window if not ok), "served": sum(1 for _, ok in window if ok),
            "longest_gap": max(b - a for a, b in zip(marks, marks[1:])), "ready": ready, "takeover": takeover,
            "same_pids": pids(addresses) == before_pids}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--base", type=int, default=236, help="loopback base (the benchmarks use 232, 236, 240)")
    ap.add_argument("--record", action="store_true", help="append the figures to bench/RESULTS.md")
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="kumo-bench-restart-")
    k = Kumo(data, args.base)
    k.start()
    rows = []
    try:
        node, addresses = world(k)
        for how in ("sigterm", "kill9"):
            results = [round_(k, node, addresses, how) for _ in range(args.rounds)]
            for r in results:
                print(how, {key: round(v, 3) if isinstance(v, float) else v for key, v in r.items()}, flush=True)
            med = lambda key: statistics.median(r[key] for r in results)  # noqa: E731
            rows.append(f"| {'SIGTERM' if how == 'sigterm' else 'kill -9'} | "
                        f"{sum(r['failed'] for r in results)} of {sum(r['failed'] + r['served'] for r in results)} | "
                        f"{max(r['longest_gap'] for r in results) * 1000:.0f} | {med('ready'):.2f} | "
                        f"{med('takeover'):.2f} | {'yes' if all(r['same_pids'] for r in results) else 'no'} |")
    finally:
        k.stop("sigterm")
        subprocess.run([sys.executable, "-m", "kumo.cli", "stop", "--all", "--port", str(free_port()),
                        "--data-dir", data], capture_output=True, timeout=60)
        subprocess.run(["rm", "-rf", data])
    body = ("| stop | failed requests (all rounds) | longest time without an answer (ms) | new kumo: launch to ready "
            "(s) | ready to its own lb workers serving alone (s) | instances kept their processes |\n"
            "|---|---|---|---|---|---|\n"
            + "\n".join(rows) + "\n\n"
            f"{args.rounds} rounds each. One client loops GET through the ALB (0.5 s timeout, 10 ms pause after a "
            "failure), to an Auto Scaling group of two web instances, from the stop until 0.5 s after the new kumo's "
            "workers serve alone; kumo is stopped and started again on the same data directory. Launch and takeover "
            "times are medians, the longest gap the worst round; real time.\n")
    print(body)
    if args.record:
        import datetime as dt

        with open(RESULTS, "a") as f:
            f.write(f"\n## Restart gap: requests through an ALB while kumo restarts ({dt.date.today().isoformat()})"
                    f"\n\n- machine: {machine()}\n- command: `python bench/bench_restart.py --rounds {args.rounds}"
                    f" --record`\n\n{body}")


if __name__ == "__main__":
    main()
