"""Instances that really run: web servers answer, stop and start, terminate, console, user data."""

import base64
import os
import signal
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from .conftest import (AMI, WEB_EVERY_BOOT, WEB_ONCE, answers, console, http_get, next_status_check, refuses,
                       wait_state)


def test_three_web_servers_stop_start_terminate(aws, kumo_server):
    ec2 = aws("ec2")
    r = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=3, MaxCount=3, UserData=WEB_EVERY_BOOT)
    ids = [i["InstanceId"] for i in r["Instances"]]
    assert all(i["State"]["Name"] == "pending" for i in r["Instances"])
    running = wait_state(ec2, ids, "running")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    assert all(i["VpcId"] == vpc["VpcId"] for i in running)
    addresses = {i["InstanceId"]: i["PublicIpAddress"] for i in running}
    assert len(set(addresses.values())) == 3  # three servers on port 8080 at once
    for ip in addresses.values():
        assert answers(f"http://{ip}:8080/")
    first = ids[0]
    disk = kumo_server.kumo.services["ec2"].disk(first)
    ec2.stop_instances(InstanceIds=[first])
    stopped = wait_state(ec2, [first], "stopped")[0]
    assert stopped["StateReason"]["Code"] == "Client.UserInitiatedShutdown"
    assert stopped["StateTransitionReason"].startswith("User initiated (")
    assert refuses(f"http://{addresses[first]}:8080/")
    assert disk.is_dir() and any(disk.iterdir())  # the disk remains
    assert answers(f"http://{addresses[ids[1]]}:8080/")  # the others are untouched
    ec2.start_instances(InstanceIds=[first])
    restarted = wait_state(ec2, [first], "running")[0]
    assert restarted["PublicIpAddress"] == addresses[first]
    assert answers(f"http://{addresses[first]}:8080/")
    ec2.terminate_instances(InstanceIds=[ids[1]])
    gone = wait_state(ec2, [ids[1]], "terminated")[0]
    assert "PublicIpAddress" not in gone
    rt = kumo_server.kumo.services["ec2"]
    assert rt.backend.pids(rt.workload(ids[1])) == []
    assert refuses(f"http://{addresses[ids[1]]}:8080/")


def test_user_data_script_runs_at_first_boot_only(aws):
    ec2 = aws("ec2")
    inst = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1,
                             UserData="#!/bin/sh\necho user-data-ran\n")["Instances"][0]
    iid = inst["InstanceId"]
    wait_state(ec2, [iid], "running")
    console(ec2, iid, "Up 1 boot(s)")
    ec2.reboot_instances(InstanceIds=[iid])
    out = console(ec2, iid, "Up 2 boot(s)")
    assert out.count("user-data-ran") == 1


def test_cloud_config_write_files_and_runcmd(aws):
    ec2 = aws("ec2")
    user_data = """#cloud-config
write_files:
  - path: /etc/app/config.txt
    content: hello from write_files
    permissions: '0600'
runcmd:
  - [sh, -c, "cat /etc/app/config.txt; echo; stat -c %a /etc/app/config.txt"]
packages: [nginx]
"""
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1,
                            UserData=user_data)["Instances"][0]["InstanceId"]
    out = console(ec2, iid, "Up 1 boot(s)")
    assert "hello from write_files" in out and "\n600\n" in out
    assert "module 'packages' is not supported" in out
    assert not os.path.exists("/etc/app/config.txt") or os.environ.get("KUMO_NO_ISOLATION")


def test_user_data_calls_aws_as_the_instance_role(aws, account):
    iam = aws("iam")
    iam.create_role(RoleName="app-role", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}')
    iam.create_instance_profile(InstanceProfileName="app-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="app-profile", RoleName="app-role")
    ec2 = aws("ec2")
    inst = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                             IamInstanceProfile={"Name": "app-profile"},
                             UserData="#!/bin/sh\naws sts get-caller-identity --output text --query Arn\n")["Instances"][0]
    assert inst["IamInstanceProfile"]["Arn"].endswith(":instance-profile/app-profile")
    out = console(ec2, inst["InstanceId"], "Up 1 boot(s)", timeout=30)
    assert f"arn:aws:sts::{account}:assumed-role/app-role/{inst['InstanceId']}" in out


def test_imdsv2_with_curl_and_v1_refused_when_tokens_required(aws):
    ec2 = aws("ec2")
    user_data = """#!/bin/sh
T=$(curl -s -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
echo "v2-id=$(curl -s -H "X-aws-ec2-metadata-token: $T" http://169.254.169.254/latest/meta-data/instance-id)"
echo "v2-az=$(curl -s -H "X-aws-ec2-metadata-token: $T" http://169.254.169.254/latest/meta-data/placement/availability-zone)"
echo "v1-code=$(curl -s -o /dev/null -w '%{http_code}' http://169.254.169.254/latest/meta-data/instance-id)"
echo "bad-token-code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-aws-ec2-metadata-token: nope' http://169.254.169.254/latest/meta-data/instance-id)"
"""
    required = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1, UserData=user_data,
                                 MetadataOptions={"HttpTokens": "required"})["Instances"][0]
    optional = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1, UserData=user_data,
                                 MetadataOptions={"HttpTokens": "optional"})["Instances"][0]
    out = console(ec2, required["InstanceId"], "Up 1 boot(s)")
    assert f"v2-id={required['InstanceId']}" in out
    assert f"v2-az={required['Placement']['AvailabilityZone']}" in out
    assert "v1-code=401" in out and "bad-token-code=401" in out
    out = console(ec2, optional["InstanceId"], "Up 1 boot(s)")
    assert "v1-code=200" in out


# Reads metadata entries from the instance's own metadata service at its documented address
# ($AWS_EC2_METADATA_SERVICE_ENDPOINT) with an IMDSv2 token: one console line each, in base64 so that values
# of several lines come out whole.
IMDS_READER = """#!/bin/sh
T=$(curl -s -X PUT "${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')
get() { echo "imds $1 $(curl -s -H "X-aws-ec2-metadata-token: $T" "${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/$1" | base64 -w0)"; }
MAC=$(curl -s -H "X-aws-ec2-metadata-token: $T" "${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/meta-data/mac")
for p in meta-data/instance-id meta-data/ami-id meta-data/instance-type meta-data/local-ipv4 meta-data/public-ipv4 \\
         meta-data/hostname meta-data/placement/region meta-data/mac meta-data/network/interfaces/macs/$MAC/subnet-id \\
         meta-data/security-groups meta-data/tags/instance/Name user-data meta-data/public-keys/0=k1/openssh-key \\
         meta-data/; do get "$p"; done
echo imds-done
"""


def imds_reads(console_text: str) -> dict[str, str]:
    out = {}
    for line in console_text.splitlines():
        parts = line.split(" ")
        if parts[0] == "imds" and len(parts) == 3:
            out[parts[1]] = base64.b64decode(parts[2]).decode()
    return out


def test_metadata_entries_from_inside_the_instance(aws):
    """An instance reads its own metadata service at its documented address with curl (the host may not: below)."""
    ec2 = aws("ec2")
    ec2.create_key_pair(KeyName="k1")
    inst = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1, KeyName="k1",
                             MetadataOptions={"InstanceMetadataTags": "enabled"},
                             TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name",
                                                                                       "Value": "meta"}]}],
                             UserData=IMDS_READER)["Instances"][0]
    reads = imds_reads(console(ec2, inst["InstanceId"], "imds-done"))

    def get(path):
        return reads[path]

    assert get("meta-data/instance-id") == inst["InstanceId"]
    assert get("meta-data/ami-id") == AMI
    assert get("meta-data/instance-type") == "t3.micro"
    assert get("meta-data/local-ipv4") == inst["PrivateIpAddress"]
    assert get("meta-data/public-ipv4") == inst["PublicIpAddress"]
    assert get("meta-data/hostname") == inst["PrivateDnsName"]
    assert get("meta-data/placement/region") == "us-east-1"
    mac = get("meta-data/mac")
    assert get(f"meta-data/network/interfaces/macs/{mac}/subnet-id") == inst["SubnetId"]
    assert get("meta-data/security-groups") == "default"
    assert get("meta-data/tags/instance/Name") == "meta"
    assert get("user-data") == IMDS_READER
    assert "ssh-rsa" in get("meta-data/public-keys/0=k1/openssh-key")
    listing = get("meta-data/").split("\n")
    assert "instance-id" in listing and "placement/" in listing


def test_metadata_service_refuses_the_host(aws, kumo_server):
    """The host is not the instance: its requests to the instance's metadata address get 403 and no data."""
    ec2 = aws("ec2")
    inst = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                             UserData="#!/bin/sh\necho hi\n")["Instances"][0]
    wait_state(ec2, [inst["InstanceId"]], "running")
    rt = kumo_server.kumo.services["ec2"]
    base = rt.metadata.endpoint(rt.loopback.imds_address(inst["PublicIpAddress"])) + "latest/"

    def curl(*args):
        out = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", *args], capture_output=True, text=True, timeout=10)
        body, _, code = out.stdout.rpartition("\n")
        return code, body

    assert curl("-X", "PUT", base + "api/token", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60") == ("403",
                                                                                                      "Forbidden")
    assert curl(base + "meta-data/instance-id") == ("403", "Forbidden")
    assert curl(base + "user-data") == ("403", "Forbidden")


def test_killed_processes_fail_the_instance_check(aws, kumo_server):
    ec2 = aws("ec2")
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                            UserData=WEB_ONCE)["Instances"][0]["InstanceId"]
    wait_state(ec2, [iid], "running")
    console(ec2, iid, "Up 1 boot(s)")
    status = ec2.describe_instance_status(InstanceIds=[iid])["InstanceStatuses"][0]
    # No check has run since the boot yet.
    assert status["InstanceStatus"]["Status"] == "initializing" and status["SystemStatus"]["Status"] == "initializing"
    next_status_check(kumo_server)
    status = ec2.describe_instance_status(InstanceIds=[iid])["InstanceStatuses"][0]
    assert status["InstanceStatus"]["Status"] == "ok" and status["SystemStatus"]["Status"] == "ok"
    out = subprocess.run([sys.executable, "-m", "kumo.cli", "fault", "instance", iid, "--kill",
                          "--port", str(kumo_server.kumo.port)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    # The instance is dead, but EC2 has not checked it yet: its checks run once a minute.
    status = ec2.describe_instance_status(InstanceIds=[iid])["InstanceStatuses"][0]
    assert status["InstanceStatus"]["Status"] == "ok"
    next_status_check(kumo_server)
    checked_at = kumo_server.kumo.clock.now() // 60 * 60
    status = ec2.describe_instance_status(InstanceIds=[iid])["InstanceStatuses"][0]
    assert status["InstanceState"]["Name"] == "running"
    assert status["InstanceStatus"]["Status"] == "impaired"
    assert status["InstanceStatus"]["Details"][0]["Status"] == "failed"
    assert status["InstanceStatus"]["Details"][0]["ImpairedSince"].timestamp() == checked_at
    assert status["SystemStatus"]["Status"] == "ok"
    impaired = ec2.describe_instance_status(Filters=[{"Name": "instance-status.status", "Values": ["impaired"]}])
    assert [s["InstanceId"] for s in impaired["InstanceStatuses"]] == [iid]


def test_system_check_fault_and_status_of_stopped_instances(aws, endpoint, kumo_server):
    import json
    import urllib.request

    ec2 = aws("ec2")
    a, b = [i["InstanceId"] for i in ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=2, MaxCount=2,
                                                       UserData="#!/bin/sh\ntrue\n")["Instances"]]
    wait_state(ec2, [a, b], "running")
    req = urllib.request.Request(f"{endpoint}/_kumo/faults/instances/{a}", method="POST",
                                 data=json.dumps({"action": "fail-system-check"}).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
    next_status_check(kumo_server)  # the system check sees the impaired host at its next run
    assert ec2.describe_instance_status(InstanceIds=[a])["InstanceStatuses"][0]["SystemStatus"]["Status"] == "impaired"
    ec2.stop_instances(InstanceIds=[b])
    wait_state(ec2, [b], "stopped")
    assert [s["InstanceId"] for s in ec2.describe_instance_status()["InstanceStatuses"]] == [a]
    every = ec2.describe_instance_status(IncludeAllInstances=True)["InstanceStatuses"]
    stopped = next(s for s in every if s["InstanceId"] == b)
    assert stopped["InstanceStatus"]["Status"] == "not-applicable"


def test_console_output(aws):
    ec2 = aws("ec2")
    iid = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, InstanceType="t2.micro",
                            UserData="#!/bin/sh\necho 'printed by the instance'\n")["Instances"][0]["InstanceId"]
    out = console(ec2, iid, "printed by the instance")
    assert "Cloud-init v. kumo" in out


def test_wrong_state_transitions(aws):
    ec2 = aws("ec2")
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    wait_state(ec2, [iid], "running")
    with pytest.raises(ClientError) as e:
        ec2.modify_instance_attribute(InstanceId=iid, InstanceType={"Value": "t3.large"})
    assert e.value.response["Error"]["Code"] == "IncorrectInstanceState"
    ec2.stop_instances(InstanceIds=[iid])
    wait_state(ec2, [iid], "stopped")
    with pytest.raises(ClientError) as e:
        ec2.reboot_instances(InstanceIds=[iid])
    assert e.value.response["Error"]["Code"] == "IncorrectInstanceState"
    ec2.modify_instance_attribute(InstanceId=iid, InstanceType={"Value": "t3.large"})
    assert ec2.describe_instance_attribute(InstanceId=iid, Attribute="instanceType")["InstanceType"]["Value"] == "t3.large"
    ec2.terminate_instances(InstanceIds=[iid])
    wait_state(ec2, [iid], "terminated")
    with pytest.raises(ClientError) as e:
        ec2.start_instances(InstanceIds=[iid])
    assert e.value.response["Error"]["Code"] == "IncorrectInstanceState"


def test_terminated_instances_stay_visible_for_an_hour(aws, kumo_server):
    ec2 = aws("ec2")
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    wait_state(ec2, [iid], "running")
    ec2.terminate_instances(InstanceIds=[iid])
    wait_state(ec2, [iid], "terminated")
    kumo_server.advance(3000)
    assert wait_state(ec2, [iid], "terminated")
    kumo_server.advance(700)
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(InstanceIds=[iid])
    assert e.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"


def test_instance_ids_and_addresses_survive_kill_9(kumo_process):
    k = kumo_process().start()
    ec2 = k.client("ec2")
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=2, MaxCount=2,
                                                      UserData=WEB_EVERY_BOOT)["Instances"]]
    before = {i["InstanceId"]: (i["PrivateIpAddress"], i["PublicIpAddress"]) for i in wait_state(ec2, ids, "running")}
    for private, public in before.values():
        assert answers(f"http://{public}:8080/")
    k.kill9()
    # kumo's death does not take the instances with it; the restarted kumo adopts or reboots them.
    k2 = kumo_process(like=k).start()
    ec2 = k2.client("ec2")
    after = {i["InstanceId"]: (i["PrivateIpAddress"], i["PublicIpAddress"]) for i in wait_state(ec2, ids, "running")}
    assert after == before
    for private, public in after.values():
        assert answers(f"http://{public}:8080/")
    ec2.terminate_instances(InstanceIds=ids)
    wait_state(ec2, ids, "terminated")
    k2.terminate(signal.SIGTERM)


def test_create_image_captures_the_disk(aws):
    ec2 = aws("ec2")
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                            UserData="#!/bin/sh\necho baked > /opt/marker\n")["Instances"][0]["InstanceId"]
    console(ec2, iid, "Up 1 boot(s)")
    image_id = ec2.create_image(InstanceId=iid, Name="baked-image", NoReboot=True)["ImageId"]
    import time

    deadline = time.monotonic() + 20
    while ec2.describe_images(ImageIds=[image_id])["Images"][0]["State"] != "available":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    image = ec2.describe_images(Owners=["self"])["Images"][0]
    assert image["ImageId"] == image_id and image["Name"] == "baked-image"
    child = ec2.run_instances(ImageId=image_id, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                              UserData="#!/bin/sh\necho \"marker: $(cat /opt/marker)\"\n")["Instances"][0]
    out = console(ec2, child["InstanceId"], "Up 1 boot(s)")
    assert "marker: baked" in out
    ec2.deregister_image(ImageId=image_id)
    with pytest.raises(ClientError) as e:
        ec2.describe_images(ImageIds=[image_id])
    assert e.value.response["Error"]["Code"] == "InvalidAMIID.NotFound"


def test_stopping_an_instance_puts_a_state_change_event_on_the_default_bus(aws, account):
    import json

    events, sqs, ec2 = aws("events"), aws("sqs"), aws("ec2")
    queue = sqs.create_queue(QueueName="ec2-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="stopped", EventPattern=json.dumps({
        "source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"],
        "detail": {"state": ["stopped"]}}))
    events.put_targets(Rule="stopped", Targets=[{"Id": "q", "Arn": queue_arn}])
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    wait_state(ec2, [iid], "running")
    ec2.stop_instances(InstanceIds=[iid])
    wait_state(ec2, [iid], "stopped")
    got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5).get("Messages", [])
    assert len(got) == 1
    event = json.loads(got[0]["Body"])
    assert event["source"] == "aws.ec2" and event["detail-type"] == "EC2 Instance State-change Notification"
    assert event["detail"] == {"instance-id": iid, "state": "stopped"}
    assert event["account"] == account and event["region"] == "us-east-1"
    assert event["resources"] == [f"arn:aws:ec2:us-east-1:{account}:instance/{iid}"]
