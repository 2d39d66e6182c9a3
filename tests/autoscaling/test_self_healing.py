"""Groups heal: ELB and EC2 health checks find failed instances, and the group replaces them."""

import json
import time
import urllib.request

from tests.elbv2.conftest import node, served_by, wait_active

from .conftest import CRASHABLE_WEB_APP, get, group, in_service, subnets, template, wait_group


def _addresses(ec2, ids):
    """Where each instance is reached from the host: its loopback address (reported as PublicIpAddress)."""
    out = {i["InstanceId"]: i["PublicIpAddress"] for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]
           for i in r["Instances"]}
    assert all(ip.startswith("127.") for ip in out.values()), out
    return out


def _settle(kumo_server, elb, tg_arn, timeout=20.0):
    """Every target healthy: a few health check intervals (10 s each) of clock."""
    deadline = time.monotonic() + timeout
    while True:
        health = elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
        if health and all(h["TargetHealth"]["State"] == "healthy" for h in health):
            return health
        assert time.monotonic() < deadline, health
        kumo_server.advance(5)
        time.sleep(0.05)


def _web_group_behind_alb(aws, kumo_server, name="web"):
    ec2, elb, asg = aws("ec2"), aws("elbv2"), aws("autoscaling")
    nets = subnets(ec2, 3)
    vpc = ec2.describe_subnets(SubnetIds=nets)["Subnets"][0]["VpcId"]
    template(ec2, user_data=CRASHABLE_WEB_APP)
    lb = elb.create_load_balancer(Name=name, Subnets=nets)["LoadBalancers"][0]
    tg = elb.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, HealthCheckIntervalSeconds=10,
                                 HealthyThresholdCount=2, UnhealthyThresholdCount=2)["TargetGroups"][0]
    elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "20"}])
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    lb = wait_active(elb, lb)
    asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=3, MaxSize=3, DesiredCapacity=3,
                                  LaunchTemplate={"LaunchTemplateName": "web", "Version": "$Latest"},
                                  VPCZoneIdentifier=",".join(nets), TargetGroupARNs=[tg["TargetGroupArn"]],
                                  HealthCheckType="ELB", HealthCheckGracePeriod=120)
    g = wait_group(kumo_server, asg, name, in_service(3))
    ids = [i["InstanceId"] for i in g["Instances"]]
    for ip in _addresses(ec2, ids).values():  # each app is up once it answers directly
        deadline = time.monotonic() + 15
        while True:
            try:
                get(ip, "/", port=8080)
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
    health = _settle(kumo_server, elb, tg["TargetGroupArn"])
    assert sorted(h["Target"]["Id"] for h in health) == sorted(ids)
    kumo_server.advance(120)  # past the grace period
    return ec2, elb, asg, lb, tg["TargetGroupArn"], ids


def test_a_dead_web_server_is_marked_unhealthy_by_the_alb_and_replaced(aws, kumo_server):
    ec2, elb, asg, lb, tg, ids = _web_group_behind_alb(aws, kumo_server)
    host = node(lb)
    assert {served_by(host) for _ in range(12)} == set(ids)
    victim = ids[0]
    try:
        get(_addresses(ec2, [victim])[victim], "/crash", port=8080, timeout=3)
    except OSError:
        pass  # the server dies mid-request
    # The instance itself still runs: only the ELB health check can tell.
    assert ec2.describe_instance_status(InstanceIds=[victim])["InstanceStatuses"][0]["InstanceStatus"]["Status"] \
        in ("ok", "initializing")

    def state_of(iid):
        return {h["Target"]["Id"]: h["TargetHealth"]["State"] for h in
                elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]}.get(iid)
    deadline = time.monotonic() + 20
    while state_of(victim) not in ("unhealthy", "draining", None):
        assert time.monotonic() < deadline
        kumo_server.advance(10)
    time.sleep(0.3)  # the data plane takes the new health in
    # From the moment it is unhealthy, traffic through the ALB never reaches it.
    for _ in range(24):
        status, _, body = get(host, "/")
        assert status == 200 and json.loads(body)["id"] != victim
    g = wait_group(kumo_server, asg, "web", lambda g: victim not in [i["InstanceId"] for i in g["Instances"]]
                   and in_service(3)(g), timeout=30, step=5)
    replacement = ({i["InstanceId"] for i in g["Instances"]} - set(ids)).pop()
    activities = asg.describe_scaling_activities(AutoScalingGroupName="web")["Activities"]
    gone = next(a for a in activities if a["Description"] == f"Terminating EC2 instance: {victim}")
    assert gone["StatusCode"] == "Successful"
    assert "an instance was taken out of service in response to an ELB system health check failure." in gone["Cause"]
    launched = next(a for a in activities if a["Description"] == f"Launching a new EC2 instance: {replacement}")
    assert launched["StatusCode"] == "Successful"
    assert "an instance was started in response to a difference between desired and actual capacity, increasing " \
           "the capacity from 2 to 3." in launched["Cause"]
    assert ec2.describe_instances(InstanceIds=[victim])["Reservations"][0]["Instances"][0]["State"]["Name"] == \
        "terminated"
    _settle(kumo_server, elb, tg)
    time.sleep(0.3)
    assert {served_by(host) for _ in range(18)} == set(ids[1:]) | {replacement}


def _fault(endpoint, iid, action):
    req = urllib.request.Request(f"{endpoint}/_kumo/faults/instances/{iid}", method="POST",
                                 data=json.dumps({"action": action}).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def test_a_crashed_instance_fails_its_status_check_and_is_replaced(aws, kumo_server, endpoint):
    ec2, asg = aws("ec2"), aws("autoscaling")
    template(ec2)
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=2, MaxSize=2,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    g = wait_group(kumo_server, asg, "g", in_service(2))
    victim = g["Instances"][0]["InstanceId"]
    kumo_server.advance(60 - kumo_server.kumo.clock.now() % 60 + 1)  # just past a minute's status checks
    _fault(endpoint, victim, "kill")
    kumo_server.advance(30)  # EC2 checks once a minute: the crash is not seen yet, so the group keeps it
    assert next(i for i in group(asg, "g")["Instances"] if i["InstanceId"] == victim)["HealthStatus"] == "Healthy"
    g = wait_group(kumo_server, asg, "g", lambda g: victim not in [i["InstanceId"] for i in g["Instances"]]
                   and in_service(2)(g), step=5)
    gone = next(a for a in asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"]
                if a["Description"] == f"Terminating EC2 instance: {victim}")
    assert "in response to an EC2 instance status checks failure." in gone["Cause"]


def test_a_stopped_instance_is_replaced(aws, kumo_server):
    ec2, asg = aws("ec2"), aws("autoscaling")
    template(ec2)
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=1, MaxSize=1,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1b"])
    victim = wait_group(kumo_server, asg, "g", in_service(1))["Instances"][0]["InstanceId"]
    ec2.stop_instances(InstanceIds=[victim])
    wait_group(kumo_server, asg, "g", lambda g: victim not in [i["InstanceId"] for i in g["Instances"]]
               and in_service(1)(g), step=5)
    gone = next(a for a in asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"]
                if a["Description"] == f"Terminating EC2 instance: {victim}")
    assert "an EC2 health check indicating it has been terminated or stopped." in gone["Cause"]


def test_with_replace_unhealthy_suspended_an_unhealthy_instance_stays_until_resume(aws, kumo_server):
    ec2, asg = aws("ec2"), aws("autoscaling")
    template(ec2)
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=2, MaxSize=2,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    g = wait_group(kumo_server, asg, "g", in_service(2))
    victim = g["Instances"][0]["InstanceId"]
    asg.suspend_processes(AutoScalingGroupName="g", ScalingProcesses=["ReplaceUnhealthy"])
    asg.set_instance_health(InstanceId=victim, HealthStatus="Unhealthy")
    for _ in range(6):
        kumo_server.advance(10)
    g = group(asg, "g")
    member = next(i for i in g["Instances"] if i["InstanceId"] == victim)
    assert member["HealthStatus"] == "Unhealthy" and member["LifecycleState"] == "InService"
    assert len(g["Instances"]) == 2
    assert ec2.describe_instances(InstanceIds=[victim])["Reservations"][0]["Instances"][0]["State"]["Name"] == \
        "running"
    asg.resume_processes(AutoScalingGroupName="g", ScalingProcesses=["ReplaceUnhealthy"])
    wait_group(kumo_server, asg, "g", lambda g: victim not in [i["InstanceId"] for i in g["Instances"]]
               and in_service(2)(g), step=5)
    gone = next(a for a in asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"]
                if a["Description"] == f"Terminating EC2 instance: {victim}")
    assert "in response to a user health-check." in gone["Cause"]


def test_the_grace_period_protects_a_new_instance_from_set_instance_health(aws, kumo_server):
    ec2, asg = aws("ec2"), aws("autoscaling")
    template(ec2)
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=1, MaxSize=1, HealthCheckGracePeriod=300,
                                  LaunchTemplate={"LaunchTemplateName": "web"}, AvailabilityZones=["us-east-1a"])
    iid = wait_group(kumo_server, asg, "g", in_service(1))["Instances"][0]["InstanceId"]
    asg.set_instance_health(InstanceId=iid, HealthStatus="Unhealthy")  # respects the grace period: ignored
    kumo_server.advance(10)
    assert group(asg, "g")["Instances"][0]["HealthStatus"] == "Healthy"
    asg.set_instance_health(InstanceId=iid, HealthStatus="Unhealthy", ShouldRespectGracePeriod=False)
    wait_group(kumo_server, asg, "g", lambda g: iid not in [i["InstanceId"] for i in g["Instances"]]
               and in_service(1)(g), step=5)
