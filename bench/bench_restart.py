"""The gap while kumo restarts: requests through an ALB to healthy instances while kumo stops and starts again.

An Auto Scaling group of two web instances behind an ALB; one client loops GET through the ALB (0.5 s timeout,
10 ms pause after a failure) while kumo is stopped (SIGTERM, or kill -9) and started again on the same data
directory.  Per round: failed requests, the time from the stop to the first answer again, from the new kumo's
launch to its ready line and to the first answer, and whether the instances kept their processes.

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


def pids(addresses):
    return [get(ip, 8080, timeout=5)[1].strip() for ip in addresses]


def round_(k: Kumo, node: str, addresses: list[str], how: str) -> dict:
    before = pids(addresses)
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
    stopped = time.perf_counter()
    k.stop(how)
    launched = time.perf_counter()
    ready = k.start()
    deadline = time.perf_counter() + 20
    back = None
    while back is None and time.perf_counter() < deadline:
        back = next((at for at, ok in list(outcomes) if at > launched and ok), None)
        time.sleep(0.01)
    time.sleep(0.5)
    done.set()
    t.join(5)
    return {"failed": sum(1 for at, ok in outcomes if at >= stopped and not ok),
            "stop_to_back": (back or float("nan")) - stopped, "ready": ready,
            "launch_to_back": (back or float("nan")) - launched, "same_pids": pids(addresses) == before}


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
            rows.append(f"| {'SIGTERM' if how == 'sigterm' else 'kill -9'} | {med('failed'):.0f} "
                        f"({min(r['failed'] for r in results)}-{max(r['failed'] for r in results)}) | "
                        f"{med('stop_to_back'):.2f} | {med('ready'):.2f} | {med('launch_to_back'):.2f} | "
                        f"{'yes' if all(r['same_pids'] for r in results) else 'no'} |")
    finally:
        k.stop("sigterm")
        subprocess.run([sys.executable, "-m", "kumo.cli", "stop", "--all", "--port", str(free_port()),
                        "--data-dir", data], capture_output=True, timeout=60)
        subprocess.run(["rm", "-rf", data])
    body = ("| stop | failed requests, median (range) | stop to serving again (s) | launch to ready (s) | "
            "launch to serving again (s) | instances kept their processes |\n|---|---|---|---|---|---|\n"
            + "\n".join(rows) + "\n\n"
            f"{args.rounds} rounds each. One client loops GET through the ALB (0.5 s timeout, 10 ms pause after a "
            "failure), to an Auto Scaling group of two web instances; kumo is stopped and started again on the same "
            "data directory. Times are medians, real time.\n")
    print(body)
    if args.record:
        import datetime as dt

        with open(RESULTS, "a") as f:
            f.write(f"\n## Restart gap: requests through an ALB while kumo restarts ({dt.date.today().isoformat()})"
                    f"\n\n- machine: {machine()}\n- command: `python bench/bench_restart.py --rounds {args.rounds}"
                    f" --record`\n\n{body}")


if __name__ == "__main__":
    main()
