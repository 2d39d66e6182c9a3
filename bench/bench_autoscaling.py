"""Auto Scaling benchmark: how fast an alarm becomes a healthy new instance, and how fast 100 instances launch.

* alarm to healthy: a step policy on a custom metric, behind an ALB.  From the
  moment the alarm goes to ALARM until the new instance is InService and
  healthy in the target group, in simulated time and in wall time, with kumo's
  clock accelerated (``--time-scale``);
* 100 instances: CreateAutoScalingGroup with desired 100 over three zones
  until every instance is InService (real process trees), beside moto's
  server in the same run (moto records the group; it runs nothing).

    python bench/bench_autoscaling.py [--rounds 3] [--scale 60] [--no-record]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import kumo, moto, record  # noqa: E402

AMI = "ami-0a0000000000a2023"
WEB = """#!/bin/sh
cat > /opt/web.py <<'PY'
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
http.server.HTTPServer(("", 8080), H).serve_forever()
PY
nohup python3 /opt/web.py >/dev/null 2>&1 &
"""


def clock(server) -> float:
    return json.loads(urllib.request.urlopen(f"{server.endpoint}/_kumo/clock", timeout=5).read())["now"]


def alarm_to_healthy(server, index: int) -> tuple[float, float]:
    """(simulated s, wall s) from the alarm's breach to the new instance healthy in the target group."""
    ec2, elb, asg, cw = (server.client(s) for s in ("ec2", "elbv2", "autoscaling", "cloudwatch"))
    name = f"bench{index}"
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "default-for-az",
                                                                      "Values": ["true"]}])["Subnets"]][:3]
    vpc = ec2.describe_subnets(SubnetIds=subnets)["Subnets"][0]["VpcId"]
    if index == 0:
        ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={
            "ImageId": AMI, "InstanceType": "t3.micro", "UserData": base64.b64encode(WEB.encode()).decode()})
    tg = elb.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, HealthCheckIntervalSeconds=5,
                                 HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2)["TargetGroups"][0][
        "TargetGroupArn"]
    lb = elb.create_load_balancer(Name=name, Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=8000 + index,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=1, MaxSize=3, DesiredCapacity=1,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, VPCZoneIdentifier=",".join(subnets),
                                  TargetGroupARNs=[tg], HealthCheckType="ELB", HealthCheckGracePeriod=60,
                                  DefaultInstanceWarmup=30)
    policy = asg.put_scaling_policy(AutoScalingGroupName=name, PolicyName="out", PolicyType="StepScaling",
                                    AdjustmentType="ChangeInCapacity",
                                    StepAdjustments=[{"MetricIntervalLowerBound": 0,
                                                      "ScalingAdjustment": 1}])["PolicyARN"]
    cw.put_metric_alarm(AlarmName=name, Namespace="Bench", MetricName="Load", Statistic="Maximum", Period=60,
                        EvaluationPeriods=1, Threshold=10, ComparisonOperator="GreaterThanThreshold",
                        Dimensions=[{"Name": "Group", "Value": name}], AlarmActions=[policy])
    while [i["LifecycleState"] for i in asg.describe_auto_scaling_groups(
            AutoScalingGroupNames=[name])["AutoScalingGroups"][0]["Instances"]] != ["InService"]:
        time.sleep(0.02)
    first = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]["Instances"][0][
        "InstanceId"]
    warm = clock(server) + 31
    while clock(server) < warm:  # the first instance warms up: from then on it counts as capacity
        time.sleep(0.05)
    cw.put_metric_data(Namespace="Bench", MetricData=[{
        "MetricName": "Load", "Value": 99, "Dimensions": [{"Name": "Group", "Value": name}],
        "Timestamp": dt.datetime.fromtimestamp(clock(server), dt.timezone.utc)}])
    while cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"] != "ALARM":
        time.sleep(0.01)
    wall0 = time.perf_counter()
    breached = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateUpdatedTimestamp"].timestamp()
    while True:
        health = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        if any(h["Target"]["Id"] != first and h["TargetHealth"]["State"] == "healthy" for h in health):
            wall = time.perf_counter() - wall0
            sim = clock(server) - breached
            break
        if time.perf_counter() - wall0 > 120:
            raise RuntimeError("the new instance never became healthy")
        time.sleep(0.01)
    cw.delete_alarms(AlarmNames=[name])
    asg.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
    return sim, wall


def hundred(server) -> float:
    ec2, asg = server.client("ec2"), server.client("autoscaling")
    if not ec2.describe_launch_templates(Filters=[{"Name": "launch-template-name", "Values": ["plain"]}])[
            "LaunchTemplates"]:
        ec2.create_launch_template(LaunchTemplateName="plain", LaunchTemplateData={"ImageId": AMI,
                                                                                 "InstanceType": "t3.nano"})
    t0 = time.perf_counter()
    asg.create_auto_scaling_group(AutoScalingGroupName="hundred", MinSize=100, MaxSize=100,
                                  LaunchTemplate={"LaunchTemplateName": "plain"},
                                  AvailabilityZones=["us-east-1a", "us-east-1b", "us-east-1c"])
    while True:
        g = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["hundred"])["AutoScalingGroups"][0]
        if sum(1 for i in g["Instances"] if i["LifecycleState"] == "InService") == 100:
            elapsed = time.perf_counter() - t0
            break
        if time.perf_counter() - t0 > 300:
            raise RuntimeError("100 instances did not reach InService in 300 s")
        time.sleep(0.05)
    asg.delete_auto_scaling_group(AutoScalingGroupName="hundred", ForceDelete=True)
    deadline = time.perf_counter() + 120
    while asg.describe_auto_scaling_groups()["AutoScalingGroups"] and time.perf_counter() < deadline:
        time.sleep(0.2)
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scale", type=float, default=60.0)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    server = kumo("--time-scale", str(args.scale), "--loopback-base", "236").start()
    try:
        rounds = [alarm_to_healthy(server, i) for i in range(args.rounds)]
        kumo_hundred = [hundred(server) for _ in range(2)]
    finally:
        server.stop()
    peer = moto()
    moto_hundred = None
    try:
        peer.start()
        ec2, asg = peer.client("ec2"), peer.client("autoscaling")
        ec2.create_launch_template(LaunchTemplateName="plain", LaunchTemplateData={"ImageId": "ami-12c6146b",
                                                                                 "InstanceType": "t3.nano"})
        t0 = time.perf_counter()
        asg.create_auto_scaling_group(AutoScalingGroupName="hundred", MinSize=100, MaxSize=100,
                                      LaunchTemplate={"LaunchTemplateName": "plain"},
                                      AvailabilityZones=["us-east-1a", "us-east-1b", "us-east-1c"])
        while sum(1 for i in asg.describe_auto_scaling_groups(AutoScalingGroupNames=["hundred"])[
                "AutoScalingGroups"][0]["Instances"] if i["LifecycleState"] == "InService") < 100:
            time.sleep(0.05)
        moto_hundred = time.perf_counter() - t0
    except Exception as exc:  # moto is optional: the kumo figures stand on their own
        print(f"moto: {exc}")
    finally:
        peer.stop()
    sims = [s for s, _ in rounds]
    walls = [w for _, w in rounds]
    body = (f"| measure | kumo (clock x{args.scale:g}) | peer |\n|---|---|---|\n"
            f"| alarm ALARM -> new instance InService and healthy in its target group, simulated s "
            f"(median of {len(rounds)}; each: {', '.join(f'{s:.0f}' for s in sims)}) | {statistics.median(sims):.0f} | "
            f"AWS: launch plus health checks, typically minutes |\n"
            f"| same, wall s (each: {', '.join(f'{w:.2f}' for w in walls)}) | {statistics.median(walls):.2f} | |\n"
            f"| CreateAutoScalingGroup desired 100 -> 100 InService, wall s (each: "
            f"{', '.join(f'{t:.2f}' for t in kumo_hundred)}) | {min(kumo_hundred):.2f} | moto (records only, "
            f"nothing runs): {moto_hundred:.2f} |\n" if moto_hundred is not None else "")
    if moto_hundred is None:
        body += (f"| CreateAutoScalingGroup desired 100 -> 100 InService, wall s | {min(kumo_hundred):.2f} | "
                 f"moto not available |\n")
    body += ("\nThe alarm's breach counts from its state change (evaluated on kumo's clock); the path then runs "
             "the policy, launches a real instance, registers it and waits for two passing health checks 5 s "
             "apart.  Target groups were created with HealthCheckIntervalSeconds=5 and HealthyThresholdCount=2.")
    print(body)
    if not args.no_record:
        record("Auto Scaling", f"python bench/bench_autoscaling.py --rounds {args.rounds} --scale {args.scale:g}",
               body)


if __name__ == "__main__":
    main()
