"""A world that survives any restart: SIGTERM or kill -9 kumo, start it again on the same data directory, and
the instances behind a load balancer keep running (same processes, no reboot) while traffic comes back."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.ec2.conftest import AMI, wait_state

# First-boot user data: a rebooted instance would not serve again, so an answer after a restart is the old process.
WEB = """#!/bin/sh
mkdir -p /tmp/www && cd /tmp/www
nohup python3 -m http.server 8080 >/dev/null 2>&1 &
echo $! > pid
"""
LB_PORT = 8090


def _get(host: str, port: int, path: str = "/", timeout: float = 1.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class Traffic:
    """A bounded request loop through the load balancer: each outcome with the (real) time it ended."""

    def __init__(self, host: str, port: int, limit: float = 90.0):
        self.host, self.port, self.limit = host, port, limit
        self.outcomes: list[tuple[float, bool]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Traffic":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        end = time.monotonic() + self.limit  # real time: the loop's bound
        while not self._stop.is_set() and time.monotonic() < end:
            try:
                ok = _get(self.host, self.port, "/pid", timeout=0.5)[0] == 200
            except OSError:
                ok = False
            self.outcomes.append((time.monotonic(), ok))
            if not ok:
                time.sleep(0.01)  # a refused connection fails at once: do not spin

    def failures_since(self, t: float) -> int:
        return sum(1 for at, ok in list(self.outcomes) if at >= t and not ok)

    def first_success_after(self, t: float, within: float) -> float | None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for at, ok in list(self.outcomes):
                if at >= t and ok:
                    return at
            time.sleep(0.01)
        return None


def _world(k):
    """An Auto Scaling group of two web instances behind an ALB; returns the ALB's node address and the
    instances' public addresses."""
    ec2, elb, asg = k.client("ec2"), k.client("elbv2"), k.client("autoscaling")
    subnets = sorted(ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"],
                     key=lambda s: s["AvailabilityZone"])[:2]
    vpc, nets = subnets[0]["VpcId"], [s["SubnetId"] for s in subnets]
    tg = elb.create_target_group(Name="web", Protocol="HTTP", Port=8080, VpcId=vpc, HealthCheckPath="/pid",
                                 HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                                 HealthyThresholdCount=2)["TargetGroups"][0]
    lb = elb.create_load_balancer(Name="front", Subnets=nets, Type="application")["LoadBalancers"][0]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=LB_PORT,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    elb.get_waiter("load_balancer_available").wait(LoadBalancerArns=[lb["LoadBalancerArn"]],
                                                   WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    lb = elb.describe_load_balancers(LoadBalancerArns=[lb["LoadBalancerArn"]])["LoadBalancers"][0]
    ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={
        "ImageId": AMI, "InstanceType": "t3.micro", "UserData": __import__("base64").b64encode(WEB.encode()).decode()})
    asg.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=2, MaxSize=2, DesiredCapacity=2,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, VPCZoneIdentifier=",".join(nets),
                                  TargetGroupARNs=[tg["TargetGroupArn"]])
    deadline = time.monotonic() + 30
    while True:
        members = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]["Instances"]
        if len(members) == 2 and all(m["LifecycleState"] == "InService" for m in members):
            break
        assert time.monotonic() < deadline, members
        time.sleep(0.2)
    ids = [m["InstanceId"] for m in members]
    addresses = [i["PublicIpAddress"] for i in wait_state(ec2, ids, "running")]
    deadline = time.monotonic() + 30
    while True:
        health = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
        if len(health) == 2 and all(h["TargetHealth"]["State"] == "healthy" for h in health):
            break
        assert time.monotonic() < deadline, health
        time.sleep(0.2)
    return lb["AvailabilityZones"][0]["LoadBalancerAddresses"][0]["IpAddress"], addresses


def _lb_workers(base: int) -> dict[int, int]:
    """The load balancer workers serving kumo's networks from ``base`` on: pid -> parent pid."""
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


def _pids(addresses: list[str]) -> list[bytes]:
    """The process id of each instance's web server, as the instance itself reports it."""
    return [_get(ip, 8080, "/pid", timeout=5)[1].strip() for ip in addresses]


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_instances_and_traffic_survive_a_restart(kumo_process, how):
    k = kumo_process().start()
    node, addresses = _world(k)
    before = _pids(addresses)
    assert all(p.isdigit() for p in before)
    with Traffic(node, LB_PORT) as traffic:
        assert traffic.first_success_after(0, within=10) is not None
        stopped_at = time.monotonic()  # real time, as the traffic's outcomes are
        if how == "sigterm":
            assert k.terminate(signal.SIGTERM) == 0
            assert "2 instances keep running" in k.proc.stderr.read()
        else:
            k.kill9()
        # The stopped kumo's load balancer workers serve on alone meanwhile.
        assert _lb_workers(k.loopback_base) and all(parent != k.proc.pid
                                                    for parent in _lb_workers(k.loopback_base).values())
        restarted_at = time.monotonic()
        again = kumo_process(like=k).start()
        ready_at = time.monotonic()
        # Within 1 s of the new kumo's ready line its own workers serve and the old ones are retired.
        while set(_lb_workers(k.loopback_base).values()) != {again.proc.pid}:
            assert time.monotonic() - ready_at < 1.0, (_lb_workers(k.loopback_base), again.proc.pid)
            time.sleep(0.02)
        time.sleep(0.5)  # traffic through the new workers only
        served_at = traffic.first_success_after(restarted_at, within=10)
        failed = traffic.failures_since(stopped_at)
        fails = [at - stopped_at for at, ok in list(traffic.outcomes) if at >= stopped_at and not ok]
        print(f"\n{how}: {failed} failed requests during the gap; traffic served again "
              f"{(served_at or float('nan')) - restarted_at:.2f} s after the restart began"
              + (f" (failures from {fails[0]:.2f} s to {fails[-1]:.2f} s after the stop; restart at "
                 f"{restarted_at - stopped_at:.2f} s)" if fails else ""))
    assert served_at is not None and served_at - restarted_at < 2.0, "traffic did not come back within 2 s"
    assert _pids(addresses) == before  # the same processes: adopted, not rebooted
    ec2 = again.client("ec2")
    ids = [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    assert len(ids) == 2 and all(i["State"]["Name"] == "running"
                                 for r in ec2.describe_instances()["Reservations"] for i in r["Instances"])
    assert again.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"][0]["Instances"][0][
        "HealthStatus"] == "Healthy"


def _one_web_instance(k) -> tuple[str, str]:
    ec2 = k.client("ec2")
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                            UserData=WEB)["Instances"][0]["InstanceId"]
    address = wait_state(ec2, [iid], "running")[0]["PublicIpAddress"]
    deadline = time.monotonic() + 15
    while not _serves(address):
        assert time.monotonic() < deadline, "the instance never served"
        time.sleep(0.1)
    return iid, address


def _serves(address: str) -> bool:
    try:
        return _get(address, 8080, "/pid", timeout=1)[0] == 200
    except OSError:
        return False


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("KUMO_URL", "AWS_ENDPOINT_URL")}
    return subprocess.run([sys.executable, "-m", "kumo.cli", *args], capture_output=True, text=True, timeout=60,
                          env=env)


def test_kumo_stop_all_stops_the_instances_a_stopped_kumo_left_running(kumo_process):
    from tests.conftest import free_port

    k = kumo_process().start()
    iid, address = _one_web_instance(k)
    out = _cli("stop", "--port", str(k.port))  # kumo stops; its instance runs on
    assert out.returncode == 0 and "keep running" in out.stdout
    assert k.proc.wait(10) == 0 and _serves(address)
    out = _cli("stop", "--all", "--port", str(free_port()), "--data-dir", str(k.data_dir))
    assert out.returncode == 0 and "stopped 1 instance it left running" in out.stdout, out
    assert not _serves(address)
    # Its record still says running: the next kumo boots it again (first-boot user data does not run twice).
    again = kumo_process(like=k).start()
    assert wait_state(again.client("ec2"), [iid], "running")


def test_kumo_stop_all_stops_a_running_kumo_and_its_instances(kumo_process):
    k = kumo_process().start()
    _, address = _one_web_instance(k)
    out = _cli("stop", "--all", "--port", str(k.port))
    assert out.returncode == 0 and "its instances stopped too" in out.stdout
    assert k.proc.wait(10) == 0 and not _serves(address)
    assert "keep running" not in k.proc.stderr.read()


@pytest.mark.parametrize("flags", [("--stop-instances-on-exit",), ("--ephemeral",)])
def test_instances_stop_with_kumo_when_asked_or_ephemeral(kumo_process, flags):
    k = kumo_process(*flags).start()
    _, address = _one_web_instance(k)
    assert k.terminate(signal.SIGTERM) == 0
    assert not _serves(address)
    assert "keep running" not in k.proc.stderr.read()
