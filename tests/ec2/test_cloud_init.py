"""cloud-init's order and frequencies on real instances: boothooks and bootcmd first, then per-once, per-boot,
per-instance and the user's scripts, each as often as cloud-init runs it, across reboots, stop/start and images."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from .conftest import AMI, console, wait_state

BOOT_MARK = "Cloud-init v. kumo running 'init'"


@pytest.fixture(autouse=True)
def isolated_instances(kumo_server):
    # The user data below writes /var/lib/cloud: without a mount namespace that would be the host's.
    if not kumo_server.kumo.services["ec2"].backend.isolate:
        pytest.skip("instances run without isolation here; their /var would be the host's")


def boots(out: str) -> list[list[str]]:
    """The ORDER marks the instance printed, boot by boot."""
    return [re.findall(r"^ORDER (\S+)$", chunk, re.M) for chunk in out.split(BOOT_MARK)[1:]]


def multipart(*parts: tuple[str, str]) -> str:
    body = ["Content-Type: multipart/mixed; boundary=\"BOUNDARY\"", "MIME-Version: 1.0", ""]
    for ctype, text in parts:
        body += ["--BOUNDARY", f"Content-Type: {ctype}", "", text]
    return "\n".join(body + ["--BOUNDARY--", ""])


WRITES_A_PER_BOOT_SCRIPT = multipart(
    ("text/cloud-boothook", "#cloud-boothook\necho ORDER boothook\n"),
    ("text/cloud-config", "#cloud-config\nbootcmd:\n  - echo ORDER bootcmd\nruncmd:\n  - echo ORDER runcmd\n"),
    ("text/x-shellscript", "#!/bin/sh\n"
                           "echo ORDER user\n"
                           "printf '#!/bin/sh\\necho ORDER per-boot\\n' > /var/lib/cloud/scripts/per-boot/10-mark\n"
                           "chmod +x /var/lib/cloud/scripts/per-boot/10-mark\n"),
)


def test_a_per_boot_script_user_data_writes_runs_from_the_second_boot_on(aws):
    ec2 = aws("ec2")
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1,
                            UserData=WRITES_A_PER_BOOT_SCRIPT)["Instances"][0]["InstanceId"]
    out = console(ec2, iid, "Up 1 boot(s)")
    # The init stage (boothooks, bootcmd) comes first; scripts_per_boot ran before the user's script wrote one;
    # the user's scripts run in name order (part-003, then runcmd's script).
    assert boots(out) == [["boothook", "bootcmd", "user", "runcmd"]]
    ec2.reboot_instances(InstanceIds=[iid])
    out = console(ec2, iid, "Up 2 boot(s)")
    assert boots(out)[1] == ["boothook", "bootcmd", "per-boot"]
    ec2.stop_instances(InstanceIds=[iid])
    wait_state(ec2, [iid], "stopped")
    ec2.start_instances(InstanceIds=[iid])
    out = console(ec2, iid, "Up 3 boot(s)")
    assert boots(out)[2] == ["boothook", "bootcmd", "per-boot"]


def _script(path: str, mark: str) -> str:
    return f"  - path: {path}\n    permissions: '0755'\n    content: |\n      #!/bin/sh\n      echo ORDER {mark}\n"


# write_files runs in the init stage, so the scripts it delivers are in place when the final stage runs them.
DELIVERS_SCRIPTS = ("#cloud-config\nwrite_files:\n"
                    + _script("/var/lib/cloud/scripts/per-once/once", "per-once")
                    + _script("/var/lib/cloud/scripts/per-instance/instance", "per-instance")
                    + _script("/var/lib/cloud/scripts/per-boot/boot", "per-boot")
                    + "runcmd:\n  - echo ORDER runcmd\n")


def test_per_once_per_instance_and_per_boot_frequencies_across_reboots_and_images(aws):
    ec2 = aws("ec2")
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1,
                            UserData=DELIVERS_SCRIPTS)["Instances"][0]["InstanceId"]
    out = console(ec2, iid, "Up 1 boot(s)")
    assert boots(out) == [["per-once", "per-boot", "per-instance", "runcmd"]]
    ec2.reboot_instances(InstanceIds=[iid])
    out = console(ec2, iid, "Up 2 boot(s)")
    assert boots(out)[1] == ["per-boot"]
    # An image of the disk carries the scripts and the once-ever semaphore, not the instance's own state:
    # a new instance (a new instance id) runs per-instance scripts again, per-once scripts never.
    image_id = ec2.create_image(InstanceId=iid, Name="scripts", NoReboot=True)["ImageId"]
    deadline = time.monotonic() + 20
    while ec2.describe_images(ImageIds=[image_id])["Images"][0]["State"] != "available":
        assert time.monotonic() < deadline, "the image never became available"
        time.sleep(0.1)
    child = ec2.run_instances(ImageId=image_id, InstanceType="t3.nano", MinCount=1,
                              MaxCount=1)["Instances"][0]["InstanceId"]
    out = console(ec2, child, "Up 1 boot(s)")
    assert boots(out) == [["per-boot", "per-instance"]]
    ec2.reboot_instances(InstanceIds=[child])
    out = console(ec2, child, "Up 2 boot(s)")
    assert boots(out)[1] == ["per-boot"]
    ec2.deregister_image(ImageId=image_id)


def test_console_timestamps_follow_kumos_clock(aws, kumo_server):
    ec2 = aws("ec2")
    kumo_server.advance(2 * 3600)  # two hours ahead of the host
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1,
                            UserData="#!/bin/sh\ntrue\n")["Instances"][0]["InstanceId"]
    out = console(ec2, iid, "Up 1 boot(s)")
    reply = ec2.get_console_output(InstanceId=iid)
    now = kumo_server.kumo.clock.now()
    assert abs(reply["Timestamp"].timestamp() - now) < 60
    stamps = re.findall(r"(?:running 'init' at|finished at) (\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000)", out)
    assert len(stamps) == 2, out
    for stamp in stamps:
        when = dt.datetime.strptime(stamp, "%a, %d %b %Y %H:%M:%S %z").timestamp()
        assert abs(when - now) < 60, (stamp, now)
    # Time jumps while the instance runs: the output was last written an hour ago, and the next boot's lines
    # carry the new time.
    kumo_server.advance(3600)
    assert abs(ec2.get_console_output(InstanceId=iid)["Timestamp"].timestamp() - now) < 60
    ec2.reboot_instances(InstanceIds=[iid])
    out = console(ec2, iid, "Up 2 boot(s)")
    last = re.findall(r"finished at (\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000)", out)[-1]
    when = dt.datetime.strptime(last, "%a, %d %b %Y %H:%M:%S %z").timestamp()
    assert abs(when - kumo_server.kumo.clock.now()) < 60


# Waits (at most 30 s of real time) until the instance is tagged Go, then lets the boot finish.
WAITS_FOR_A_TAG = """#!/bin/sh
for i in $(seq 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' http://169.254.169.254/latest/meta-data/tags/instance/Go)" = 200 ] && break
  sleep 0.1
done
echo tagged
"""


def test_a_running_instance_follows_a_jump_of_kumos_clock(aws, kumo_server):
    ec2 = aws("ec2")
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1, UserData=WAITS_FOR_A_TAG,
                            MetadataOptions={"HttpTokens": "optional", "InstanceMetadataTags": "enabled"}
                            )["Instances"][0]["InstanceId"]
    console(ec2, iid, BOOT_MARK)
    kumo_server.advance(5 * 3600)  # while the boot waits
    ec2.create_tags(Resources=[iid], Tags=[{"Key": "Go", "Value": "1"}])
    out = console(ec2, iid, "Up 1 boot(s)", timeout=40)
    assert "tagged" in out
    stamp = re.findall(r"finished at (\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000)", out)[-1]
    when = dt.datetime.strptime(stamp, "%a, %d %b %Y %H:%M:%S %z").timestamp()
    assert abs(when - kumo_server.kumo.clock.now()) < 60, (stamp, kumo_server.kumo.clock.now())


def test_an_adopted_instance_reads_the_restarted_kumos_clock(kumo_process):
    import json
    import urllib.request

    # A fast clock, then kill -9: the instance keeps running on the fast view; the restarted kumo's clock is
    # frozen where the first one left it, and the adopted instance must read that clock, not run on.
    k = kumo_process("--time-scale", "1000").start()
    ec2 = k.client("ec2")
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1, UserData=WAITS_FOR_A_TAG,
                            MetadataOptions={"HttpTokens": "optional", "InstanceMetadataTags": "enabled"}
                            )["Instances"][0]["InstanceId"]
    console(ec2, iid, BOOT_MARK)
    k.kill9()
    k2 = kumo_process("--time-scale", "0", like=k).start()
    ec2 = k2.client("ec2")
    try:
        ec2.create_tags(Resources=[iid], Tags=[{"Key": "Go", "Value": "1"}])
        out = console(ec2, iid, "Up 1 boot(s)", timeout=40)
        assert "tagged" in out and out.count(BOOT_MARK) == 1  # adopted, not booted again
        now = json.loads(urllib.request.urlopen(f"{k2.endpoint}/_kumo/clock", timeout=10).read())["now"]
        stamp = re.findall(r"finished at (\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000)", out)[-1]
        when = dt.datetime.strptime(stamp, "%a, %d %b %Y %H:%M:%S %z").timestamp()
        assert abs(when - now) < 60, (stamp, now)
    finally:
        ec2.terminate_instances(InstanceIds=[iid])
        wait_state(ec2, [iid], "terminated")
