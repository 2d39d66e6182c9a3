"""EC2 test helpers: waiting for real instances, fetching over HTTP, and cleaning up."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

AMI = "ami-0a0000000000a2023"  # kumo's Amazon Linux 2023 image
WEB_EVERY_BOOT = """#cloud-config
bootcmd:
  - [sh, -c, "cd /tmp && nohup python3 -m http.server 8080 >/dev/null 2>&1 &"]
"""
WEB_ONCE = "#!/bin/sh\ncd /tmp && nohup python3 -m http.server 8080 >/dev/null 2>&1 &\n"


def wait_state(ec2, instance_ids, state, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        found = [i for r in ec2.describe_instances(InstanceIds=list(instance_ids))["Reservations"]
                 for i in r["Instances"]]
        if all(i["State"]["Name"] == state for i in found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"instances did not reach {state}: {[(i['InstanceId'], i['State']) for i in found]}")
        time.sleep(0.1)


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def answers(url: str, within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if http_get(url)[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def refuses(url: str, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            http_get(url, timeout=1.0)
        except OSError:
            return True
        time.sleep(0.1)
    return False


def console(ec2, instance_id: str, contains: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        out = ec2.get_console_output(InstanceId=instance_id).get("Output", "")
        if contains in out:
            return out
        if time.monotonic() > deadline:
            raise AssertionError(f"console of {instance_id} never showed {contains!r}:\n{out}")
        time.sleep(0.2)


def next_status_check(kumo_server) -> None:
    """Advance kumo's clock just past its next minute, when EC2 runs its status checks; the next one is then
    most of a minute away (in real time too, on a clock at scale 1)."""
    now = kumo_server.kumo.clock.now()
    kumo_server.advance(60 - now % 60 + 1)


@pytest.fixture(autouse=True)
def terminate_instances_afterwards(aws):
    """Every instance a test starts is terminated when it ends (its processes stop with it)."""
    yield
    terminate_all(aws("ec2"))


def terminate_all(ec2) -> None:
    """Terminate every live instance of the client's account and wait until each has stopped."""
    ids = [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
           if i["State"]["Name"] not in ("terminated", "shutting-down")]
    if ids:
        ec2.terminate_instances(InstanceIds=ids)
        wait_state(ec2, ids, "terminated")
