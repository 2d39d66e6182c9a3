"""Auto Scaling test helpers: launch templates, waiting on groups under a stepped clock, cleaning up."""

from __future__ import annotations

import time

import pytest

from tests.ec2.conftest import AMI, terminate_instances_afterwards, wait_state  # noqa: F401  (fixture reused)
from tests.elbv2.conftest import WEB_APP, get  # noqa: F401

CRASHABLE_WEB_APP = WEB_APP.replace(
    '        if self.path.startswith("/slow"):',
    '        if self.path.startswith("/crash"):\n            os._exit(1)\n        if self.path.startswith("/slow"):')


def subnets(ec2, zones: int = 3) -> list[str]:
    found = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    return [s["SubnetId"] for s in sorted(found, key=lambda s: s["AvailabilityZone"])[:zones]]


def template(ec2, name: str = "web", user_data: str | None = None, **data) -> dict:
    import base64

    body = {"ImageId": AMI, "InstanceType": "t3.micro", **data}
    if user_data:
        body["UserData"] = base64.b64encode(user_data.encode()).decode()
    return ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData=body)["LaunchTemplate"]


def group(asg, name: str) -> dict:
    found = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    assert found, f"group {name} is gone"
    return found[0]


def states(g: dict) -> list[str]:
    return sorted(i["LifecycleState"] for i in g["Instances"])


def wait_group(kumo_server, asg, name: str, check, timeout: float = 20.0, step: float = 1.0) -> dict:
    """Advance the clock ``step`` seconds at a time until ``check(group)`` holds (bounded in real time)."""
    deadline = time.monotonic() + timeout
    while True:
        g = group(asg, name)
        if check(g):
            return g
        assert time.monotonic() < deadline, (states(g), g["DesiredCapacity"], [
            (a["StatusCode"], a["Description"]) for a in
            asg.describe_scaling_activities(AutoScalingGroupName=name)["Activities"][:5]])
        kumo_server.advance(step)
        time.sleep(0.05)


def in_service(n: int):
    def check(g):
        return g["DesiredCapacity"] == n and states(g) == ["InService"] * n
    return check


@pytest.fixture(autouse=True)
def delete_groups_afterwards(aws, kumo_server, terminate_instances_afterwards):
    """Every group a test creates is force-deleted, and its instances terminated, when the test ends."""
    yield
    asg = aws("autoscaling")
    names = [g["AutoScalingGroupName"] for g in asg.describe_auto_scaling_groups()["AutoScalingGroups"]]
    for name in names:
        asg.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
    deadline = time.monotonic() + 30
    while asg.describe_auto_scaling_groups()["AutoScalingGroups"]:
        assert time.monotonic() < deadline, "groups were not deleted"
        kumo_server.advance(30)  # past any draining
        time.sleep(0.05)
