"""AWS's public parameters (``/aws/service/...``), answered from kumo's own images.

AWS publishes the latest AMI of each of its operating systems under well-known names; Terraform, CDK,
launch templates and ``resolve:ssm:`` look images up through them.  Each name here maps to the kumo image
of the same operating system (EC2's built-in images, the same ids in every region), so a lookup names an
image RunInstances can launch.  kumo has one image per operating system, built for the host it runs on, so
the arm64 names answer the same image as the x86_64 ones.  Names of operating systems kumo has no image
of (Ubuntu 22.04, Windows ...) do not exist here: looking them up finds nothing, as for any unknown name.
They are read-only, like AWS's: every write is refused (names.reserved_error).
"""

from __future__ import annotations

import calendar
import json
import time
from functools import lru_cache

from . import names

AL2023, AL2, UBUNTU_2404 = "al2023", "amzn2", "ubuntu-24.04"
# How each operating system's kumo image is recognised among EC2's built-in images, by its name.
_IMAGE_NAMES = {AL2023: "al2023-ami", AL2: "amzn2-ami", UBUNTU_2404: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04"}

_AL = "/aws/service/ami-amazon-linux-latest/"
_UBUNTU = "/aws/service/canonical/ubuntu/server/"
_ECS = "/aws/service/ecs/optimized-ami/"
# The ECS agent the optimized AMIs' "recommended" documents name (informational: kumo runs no ECS agent).
_ECS_AGENT = "1.89.0"


def _ami_names() -> dict[str, str]:
    out = {}
    for arch in ("x86_64", "arm64"):
        for kernel in ("kernel-default", "kernel-6.1", "kernel-6.12"):
            out[f"{_AL}al2023-ami-{kernel}-{arch}"] = AL2023
            out[f"{_AL}al2023-ami-minimal-{kernel}-{arch}"] = AL2023
        out[f"{_AL}amzn2-ami-hvm-{arch}-gp2"] = AL2
        out[f"{_AL}amzn2-ami-kernel-5.10-hvm-{arch}-gp2"] = AL2
        out[f"{_AL}amzn2-ami-minimal-hvm-{arch}-ebs"] = AL2
    out[f"{_AL}amzn2-ami-hvm-x86_64-ebs"] = AL2
    for release in ("24.04", "noble"):
        for arch in ("amd64", "arm64"):
            for volume in ("ebs-gp2", "ebs-gp3"):
                out[f"{_UBUNTU}{release}/stable/current/{arch}/hvm/{volume}/ami-id"] = UBUNTU_2404
    return out


def _ecs_names(images: dict[str, dict]) -> dict[str, str]:
    """The ECS-optimized AMI documents: ``.../recommended`` (JSON) and one parameter per member."""
    out = {}
    for flavour, os_key, os_name in (("amazon-linux-2023", AL2023, "Amazon Linux 2023"),
                                     ("amazon-linux-2023/arm64", AL2023, "Amazon Linux 2023"),
                                     ("amazon-linux-2", AL2, "Amazon Linux 2"),
                                     ("amazon-linux-2/arm64", AL2, "Amazon Linux 2")):
        image = images.get(os_key)
        if image is None:
            continue
        doc = {"ecs_agent_version": _ECS_AGENT, "ecs_runtime_version": "Docker version 25.0.8",
               "image_id": image["ImageId"], "image_name": image["Name"], "os": os_name, "schema_version": 1,
               "source_image_name": image["Name"]}
        base = f"{_ECS}{flavour}/recommended"
        out[base] = json.dumps(doc, separators=(",", ":"))
        for key, value in doc.items():
            out[f"{base}/{key}"] = str(value)
    return out


def _epoch(iso: str) -> float:
    return float(calendar.timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")))


@lru_cache(maxsize=None)
def _catalogue() -> dict[str, tuple[str, float]]:
    """Public name -> (value, last modified), from EC2's built-in images."""
    from ..ec2 import internal as ec2

    images: dict[str, dict] = {}
    for image in ec2.builtin_images():
        for os_key, prefix in _IMAGE_NAMES.items():
            if image["Name"].startswith(prefix) and os_key not in images:
                images[os_key] = image
    out = {}
    for name, os_key in _ami_names().items():
        if os_key in images:
            out[name] = (images[os_key]["ImageId"], _epoch(images[os_key]["CreationDate"]))
    stamp = min((_epoch(i["CreationDate"]) for i in images.values()), default=0.0)
    for name, value in _ecs_names(images).items():
        out[name] = (value, stamp)
    return out


def record(region: str, name: str) -> dict | None:
    """A public parameter shaped like a stored record (one version, no labels); None if AWS has no such name."""
    found = _catalogue().get(name)
    if found is None:
        return None
    value, modified = found
    version = {"Name": name, "Type": "String", "Value": value, "Version": 1, "LastModifiedDate": modified,
               "LastModifiedUser": "arn:aws:iam::aws:root", "Tier": "Standard", "DataType": "text", "Labels": [],
               "Policies": []}
    return {"Name": name, "Type": "String", "DataType": "text", "Tier": "Standard",
            "ARN": names.public_arn(region, name),
            "Version": 1, "_versions": [version], "_tags": [], "_policies": [], "_public": True}


def under(region: str, path: str, recursive: bool) -> list[dict]:
    return [record(region, name) for name in sorted(_catalogue()) if names.under(name, path, recursive)]
