"""No path from a request to the host's file system: every name that could climb out is confined or refused.

Each test names a host directory (``outside``) that no request may reach, sends names that climb to it
(``../`` runs, absolute paths, symlinks), and asserts that it stays empty, that what is allowed still works,
and that the request gets AWS's error where AWS refuses it.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from botocore.exceptions import ClientError

from ..ec2.conftest import AMI, console
from ..lambda_.conftest import TRUST, wait_active, wait_for, zip_of
from .conftest import climb

UNZIP_FAILED = "Could not unzip uploaded file. Please check your file, then try to upload again."
HANDLER = "def handler(event, context):\n    return 'code ran'\n"


def _empty(directory) -> bool:
    return [p.name for p in directory.iterdir()] == []


def _run(ec2, user_data: str) -> str:
    return ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1,
                             UserData=user_data)["Instances"][0]["InstanceId"]


# -- EC2 user data ----------------------------------------------------------------------------------------------


def _mime(parts: list[tuple[str, str, str]]) -> str:
    """A multi-part user data archive of (content subtype, filename, body)."""
    message = MIMEMultipart()
    for subtype, filename, body in parts:
        part = MIMEText(body, subtype)
        part.add_header("Content-Disposition", "attachment", filename=filename)
        message.attach(part)
    return message.as_string()


def test_mime_part_filenames_stay_in_the_instance_script_directory(cloud, outside):
    ec2 = cloud("ec2")
    user_data = _mime([
        ("x-shellscript", climb(outside / "climbed"), "#!/bin/sh\necho part-ran-climbed\n"),
        ("x-shellscript", str(outside / "absolute"), "#!/bin/sh\necho part-ran-absolute\n"),
        ("x-shellscript", "..", "#!/bin/sh\necho part-ran-dotdot\n"),
        ("x-shellscript", "runcmd", "#!/bin/sh\necho part-ran-runcmd\n"),  # the name of a file kumo writes too
        ("cloud-boothook", climb(outside / "hook"), "#cloud-boothook\necho part-ran-hook\n"),
    ])
    iid = _run(ec2, user_data)
    out = console(ec2, iid, "Up 1 boot(s)")
    for tag in ("climbed", "absolute", "dotdot", "runcmd", "hook"):
        assert f"part-ran-{tag}" in out  # every part still runs, under a name of its own
    assert _empty(outside)


def test_write_files_paths_stay_on_the_instance_disk(cloud, server, outside):
    ec2 = cloud("ec2")
    # R is "" where the instance has a mount namespace of its own, else its disk's host path.
    user_data = f"""#cloud-config
bootcmd:
  - [sh, -c, 'R=${{KUMO_DISK%/run/kumo-disk}}; mkdir -p "$R/etc" && ln -sfn {outside} "$R/etc/escape"']
write_files:
  - path: /etc/app/ok.txt
    content: written-inside
  - path: /{climb(outside / "climbed")}
    content: climbed
  - path: {climb(outside / "relative")}
    content: relative
  - path: /etc/escape/through-link
    content: through a symlink bootcmd made
runcmd:
  - [sh, -c, 'R=${{KUMO_DISK%/run/kumo-disk}}; echo "ok=$(cat $R/etc/app/ok.txt)"']
  - [sh, -c, 'echo "link=$(cat /etc/escape/through-link)"']
"""
    iid = _run(ec2, user_data)
    out = console(ec2, iid, "Up 1 boot(s)")
    assert _empty(outside)
    assert "ok=written-inside" in out
    if server.kumo.services["ec2"].backend.isolation == "full":
        # The instance's whole file system is its own (the host's /run is not there): the link leads to a
        # directory of the instance, and cloud-init writes through it, as on EC2.
        assert "link=through a symlink bootcmd made" in out
    else:
        assert "write_files: /etc/escape/through-link leads off the instance disk; not written" in out


def test_kumo_never_follows_a_symlink_the_instance_left_on_its_disk(cloud, outside):
    ec2 = cloud("ec2")
    user_data = f"""#!/bin/sh
rm -rf "$KUMO_DISK/.kumo/scripts" && ln -s {outside} "$KUMO_DISK/.kumo/scripts" && echo planted
"""
    iid = _run(ec2, user_data)
    console(ec2, iid, "Up 1 boot(s)")
    assert "planted" in console(ec2, iid, "planted")
    ec2.reboot_instances(InstanceIds=[iid])  # kumo writes the boot's scripts again
    console(ec2, iid, "Up 2 boot(s)")
    assert _empty(outside)
    assert oct(outside.stat().st_mode & 0o7777) == oct(0o755)


# -- Lambda deployment packages and layers ----------------------------------------------------------------------


def _zip(entries: list[tuple[str, str | bytes, bool]]) -> bytes:
    """A zip of (name, content, is a symlink) entries, written exactly as named."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content, link in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 if link else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content)
    return buf.getvalue()


def _bad_zips(outside) -> dict[str, bytes]:
    return {
        "climbing": _zip([("lambda_function.py", HANDLER, False), (climb(outside / "marker"), "x", False)]),
        "absolute": _zip([("lambda_function.py", HANDLER, False), (str(outside / "marker"), "x", False)]),
        "through-its-symlink": _zip([("lambda_function.py", HANDLER, False), ("escape", str(outside), True),
                                     ("escape/marker", "x", False)]),
    }


def _refused(call) -> ClientError:
    with pytest.raises(ClientError) as err:
        call()
    return err.value


@pytest.mark.parametrize("kind", ["climbing", "absolute", "through-its-symlink"])
@pytest.mark.parametrize("operation", ["CreateFunction", "UpdateFunctionCode", "PublishLayerVersion"])
def test_zip_entries_that_leave_the_code_directory_are_refused(lam, role, outside, operation, kind):
    data = _bad_zips(outside)[kind]
    if operation == "CreateFunction":
        call = lambda: lam.create_function(FunctionName="bad", Runtime="python3.12", Role=role,  # noqa: E731
                                           Handler="lambda_function.handler", Code={"ZipFile": data})
    elif operation == "UpdateFunctionCode":
        lam.create_function(FunctionName="good", Runtime="python3.12", Role=role, Handler="lambda_function.handler",
                            Code={"ZipFile": zip_of({"lambda_function.py": HANDLER})})
        wait_active(lam, "good")
        call = lambda: lam.update_function_code(FunctionName="good", ZipFile=data)  # noqa: E731
    else:
        call = lambda: lam.publish_layer_version(LayerName="bad", Content={"ZipFile": data})  # noqa: E731
    error = _refused(call).response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "InvalidParameterValueException"
    assert error["Error"]["Message"] == UNZIP_FAILED
    assert _empty(outside)
    if operation == "UpdateFunctionCode":  # the function keeps its code
        assert json.loads(lam.invoke(FunctionName="good")["Payload"].read()) == "code ran"


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_a_file_entry_replaces_a_symlink_entry_of_the_same_name(lam, role, outside):
    # The later entry wins, as when unzip overwrites; it is never written through the earlier link.
    data = _zip([("lambda_function.py", str(outside / "marker"), True), ("lambda_function.py", HANDLER, False)])
    lam.create_function(FunctionName="relinked", Runtime="python3.12", Role=role, Handler="lambda_function.handler",
                        Code={"ZipFile": data})
    wait_active(lam, "relinked")
    assert json.loads(lam.invoke(FunctionName="relinked")["Payload"].read()) == "code ran"
    assert _empty(outside)


def test_a_later_layer_directory_replaces_an_earlier_layers_symlink(cloud, outside):
    """Layers are laid over each other as overlays are: nothing of the later one goes through the earlier's link."""
    lam = cloud("lambda")
    role = cloud("iam").create_role(RoleName="lambda-exec", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    linking = lam.publish_layer_version(LayerName="linking", Content={"ZipFile": _zip([("data", str(outside), True)])})
    filling = lam.publish_layer_version(LayerName="filling", Content={"ZipFile": zip_of({
        "data/marker": "from the later layer",
        "python/where.py": "import os\nOPT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))\n"})})
    source = ("import os, where\ndef handler(event, context):\n"
              "    return open(os.path.join(where.OPT, 'data', 'marker')).read()\n")
    lam.create_function(FunctionName="layered", Runtime="python3.12", Role=role, Handler="lambda_function.handler",
                        Code={"ZipFile": zip_of({"lambda_function.py": source})},
                        Layers=[linking["LayerVersionArn"], filling["LayerVersionArn"]])
    wait_active(lam, "layered")
    assert json.loads(lam.invoke(FunctionName="layered")["Payload"].read()) == "from the later layer"
    assert _empty(outside)


def _declare_size(data: bytes, size: int) -> bytes:
    """The zip with its (single) entry's unpacked size rewritten, in the local header and central directory."""
    out = bytearray(data)
    struct.pack_into("<I", out, out.index(b"PK\x03\x04") + 22, size)
    struct.pack_into("<I", out, out.index(b"PK\x01\x02") + 24, size)
    return bytes(out)


def test_zip_bombs_cost_no_more_than_their_declared_size(lam, role):
    def create(name, data):
        return lam.create_function(FunctionName=name, Runtime="python3.12", Role=role,
                                   Handler="lambda_function.handler", Code={"ZipFile": data})

    declared = _declare_size(zip_of({"lambda_function.py": HANDLER}), 262144001)
    error = _refused(lambda: create("declared", declared)).response["Error"]
    assert (error["Code"], error["Message"]) == ("InvalidParameterValueException",
                                                 "Unzipped size must be smaller than 262144000 bytes")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_BZIP2) as zf:  # Lambda unzips stored and deflated entries
        zf.writestr("lambda_function.py", HANDLER)
    error = _refused(lambda: create("bzip2", buf.getvalue())).response["Error"]
    assert (error["Code"], error["Message"]) == ("InvalidParameterValueException", UNZIP_FAILED)
    # An entry that inflates to far more than it declares is cut at its declared size and fails its CRC.
    lying = _declare_size(zip_of({"lambda_function.py": b"#" * 20_000_000}), 10)
    create("lying", lying)
    config = wait_for(lambda: (c := lam.get_function_configuration(FunctionName="lying"))["State"] != "Pending"
                      and c)
    assert (config["State"], config["StateReasonCode"]) == ("Failed", "InvalidZipFileException")
