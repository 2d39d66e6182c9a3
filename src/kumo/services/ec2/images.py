"""AMIs: kumo's built-in images, images captured from instances, snapshots and root volumes.

An image is a layer of files.  The built-in images are empty layers over the
host (user data runs with the host's shell and Python); CreateImage copies an
instance's disk into a new layer, and instances launched from it start with
those files under their own writes.
"""

from __future__ import annotations

import re
import shutil

from ...aws.errors import AwsError
from .model import apply_filters, bool_filter, find, new_id, page, table, tag_specs, well_formed
from .runtime import runtime

AMAZON, CANONICAL = "137112412989", "099720109477"
CREATION = "2026-01-15T00:00:00.000Z"


def _builtin(image_id: str, name: str, owner: str, alias: str, description: str) -> dict:
    return {
        "ImageId": image_id, "Name": name, "Description": description, "OwnerId": owner, "ImageOwnerAlias": alias,
        "State": "available", "Public": True, "Architecture": "x86_64", "ImageType": "machine",
        "Platform": None, "PlatformDetails": "Linux/UNIX", "UsageOperation": "RunInstances",
        "RootDeviceName": "/dev/xvda", "RootDeviceType": "ebs", "VirtualizationType": "hvm", "Hypervisor": "xen",
        "EnaSupport": True, "SriovNetSupport": "simple", "BootMode": "uefi-preferred", "ImdsSupport": "v2.0",
        "CreationDate": CREATION, "ImageLocation": f"{alias}/{name}", "ProductCodes": [], "Tags": [],
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {
            "DeleteOnTermination": True, "SnapshotId": "snap-0" + image_id[5:], "VolumeSize": 8,
            "VolumeType": "gp3", "Encrypted": False, "Iops": 3000, "Throughput": 125}}],
    }


# Stable ids: the same in every region, so examples and Terraform code can name them.
BUILTIN = {i["ImageId"]: i for i in [
    _builtin("ami-0a0000000000a2023", "al2023-ami-2023.6.kumo-x86_64", AMAZON, "amazon",
             "Amazon Linux 2023 for kumo: user data runs with this host's shell and Python"),
    _builtin("ami-0a0000000000a0002", "amzn2-ami-kernel-5.10-hvm-2.0.kumo-x86_64-gp2", AMAZON, "amazon",
             "Amazon Linux 2 for kumo: user data runs with this host's shell and Python"),
    _builtin("ami-0c0000000000c2404", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-kumo", CANONICAL,
             "canonical", "Ubuntu 24.04 for kumo: user data runs with this host's shell and Python"),
]}
DEFAULT_IMAGE = "ami-0a0000000000a2023"


def find_image(ctx, image_id: str) -> dict:
    if not well_formed(image_id, "ami"):
        raise AwsError("InvalidAMIID.Malformed", f'Invalid id: "{image_id}" (expecting "ami-...")')
    if image_id in BUILTIN:
        return BUILTIN[image_id]
    image = table(ctx, "ami").get(image_id)
    if image is None or image["State"] == "deregistered":
        raise AwsError("InvalidAMIID.NotFound", f"The image id '[{image_id}]' does not exist")
    return image


def find_image_in(kumo, scope: str, image_id: str) -> dict | None:
    return BUILTIN.get(image_id) or kumo.store.table(scope, "ec2.image").get(image_id)


def layers_in(kumo, scope: str, image: dict) -> list:
    """The image's file layers, top first (built-in images have none)."""
    out = []
    current = image
    images = kumo.store.table(scope, "ec2.image")
    while current is not None and current["ImageId"] not in BUILTIN:
        out.append(runtime(kumo).image_dir(current.get("_layer_of") or current["ImageId"]))
        parent = current.get("_parent")
        current = images.get(parent) if parent and parent not in BUILTIN else None
    return [layer for layer in out if layer.is_dir()]


IMAGE_FILTERS = {
    "image-id": lambda i: i["ImageId"], "name": lambda i: i.get("Name"), "owner-id": lambda i: i["OwnerId"],
    "owner-alias": lambda i: i.get("ImageOwnerAlias"), "state": lambda i: i["State"],
    "architecture": lambda i: i["Architecture"], "root-device-type": lambda i: i["RootDeviceType"],
    "root-device-name": lambda i: i["RootDeviceName"], "virtualization-type": lambda i: i["VirtualizationType"],
    "platform-details": lambda i: i.get("PlatformDetails"), "is-public": lambda i: bool_filter(i["Public"]),
    "image-type": lambda i: i["ImageType"], "description": lambda i: i.get("Description"),
    "hypervisor": lambda i: i["Hypervisor"], "ena-support": lambda i: bool_filter(i.get("EnaSupport")),
    "block-device-mapping.snapshot-id": lambda i: [b["Ebs"].get("SnapshotId") for b in i["BlockDeviceMappings"]],
}


def _owned_by(image: dict, owners: list[str], account: str) -> bool:
    for owner in owners:
        if owner == "self" and image["OwnerId"] == account:
            return True
        if owner in (image["OwnerId"], image.get("ImageOwnerAlias")):
            return True
    return False


def view(image: dict) -> dict:
    return {k: v for k, v in image.items() if not k.startswith("_") and v is not None}


def describe_images(ctx, p):
    if p.get("ImageIds"):
        images = [find_image(ctx, i) for i in p["ImageIds"]]
    else:
        images = list(BUILTIN.values()) + [i for i in table(ctx, "ami").values() if i["State"] != "deregistered"]
    if p.get("Owners"):
        images = [i for i in images if _owned_by(i, p["Owners"], ctx.account)]
    if p.get("ExecutableUsers"):
        images = [i for i in images if i["Public"] or i["OwnerId"] == ctx.account]
    images = apply_filters(images, p, IMAGE_FILTERS)
    return page([view(i) for i in images], p, lambda i: i["ImageId"], "Images", f"ami/{ctx.account}")


def create_image(ctx, p):
    instance = find(ctx, "i", p["InstanceId"])
    if instance["State"]["Name"] not in ("running", "stopped", "stopping"):
        raise AwsError("IncorrectInstanceState",
                       f"The instance '{instance['InstanceId']}' is not in a state from which it can be imaged.")
    name = p["Name"]
    if not re.match(r"^[a-zA-Z0-9()\[\] ./\-'@_]{3,128}$", name):
        raise AwsError("InvalidAMIName.Malformed", f"AMI names must be between 3 and 128 characters long, and may "
                                                   f"contain letters, numbers, '(', ')', '.', '-', '/' and '_'")
    if any(i.get("Name") == name and i["State"] != "deregistered" for i in table(ctx, "ami").values()):
        raise AwsError("InvalidAMIName.Duplicate", f"AMI name {name} is already in use by AMI another image")
    image_id = new_id("ami")
    snapshot_id = new_id("snap")
    source = find_image(ctx, instance["ImageId"])
    image = {
        **{k: v for k, v in source.items() if k not in ("Tags", "ImageOwnerAlias")},
        "ImageId": image_id, "Name": name, "Description": p.get("Description") or "", "OwnerId": ctx.account,
        "State": "pending", "Public": False, "CreationDate": ctx.now(), "ImageLocation": f"{ctx.account}/{name}",
        "SourceInstanceId": instance["InstanceId"], "Tags": tag_specs(p, "image"),
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {
            "DeleteOnTermination": True, "SnapshotId": snapshot_id, "VolumeSize": 8, "VolumeType": "gp3",
            "Encrypted": False}}],
        "_parent": instance["ImageId"], "_source_disk": str(runtime(ctx).disk(instance["InstanceId"])),
        "_reboot": not p.get("NoReboot"),
    }
    image.pop("StateReason", None)
    table(ctx, "ami").put(image_id, image)
    table(ctx, "snap").put(snapshot_id, {
        "SnapshotId": snapshot_id, "VolumeId": instance.get("_root_volume", ""), "State": "pending",
        "StartTime": ctx.now(), "Progress": "0%", "OwnerId": ctx.account, "VolumeSize": 8, "Encrypted": False,
        "Description": f"Created by CreateImage({instance['InstanceId']}) for {image_id}",
        "StorageTier": "standard", "Tags": tag_specs(p, "snapshot"), "_image_layer": image_id,
    })
    ctx.controllers.enqueue("ec2.images", (ctx.scope, image_id))
    return {"ImageId": image_id}


def register_image(ctx, p):
    name = p["Name"]
    if any(i.get("Name") == name and i["State"] != "deregistered" for i in table(ctx, "ami").values()):
        raise AwsError("InvalidAMIName.Duplicate", f"AMI name {name} is already in use by AMI another image")
    root = next((m for m in p.get("BlockDeviceMappings") or [] if (m.get("Ebs") or {}).get("SnapshotId")), None)
    if root is None:
        if p.get("ImageLocation"):
            raise AwsError("NotImplemented", "kumo registers images from EBS snapshots only, not from S3 manifests.",
                           status=501)
        raise AwsError("InvalidParameterValue", "The request must include a root device snapshot in "
                                                "BlockDeviceMappings.")
    snapshot = find(ctx, "snap", root["Ebs"]["SnapshotId"])
    layer_owner = table(ctx, "ami").get(snapshot.get("_image_layer") or "") or {}
    image_id = new_id("ami")
    base = find_image(ctx, DEFAULT_IMAGE)
    image = {
        **{k: v for k, v in base.items() if k not in ("Tags", "ImageOwnerAlias")},
        "ImageId": image_id, "Name": name, "Description": p.get("Description") or "", "OwnerId": ctx.account,
        "State": "available", "Public": False, "CreationDate": ctx.now(), "ImageLocation": f"{ctx.account}/{name}",
        "Architecture": p.get("Architecture") or "x86_64", "RootDeviceName": p.get("RootDeviceName") or "/dev/xvda",
        "VirtualizationType": p.get("VirtualizationType") or "hvm", "Tags": tag_specs(p, "image"),
        "BlockDeviceMappings": [{"DeviceName": root.get("DeviceName", "/dev/xvda"),
                                 "Ebs": {"SnapshotId": snapshot["SnapshotId"], "DeleteOnTermination": True,
                                         "VolumeSize": snapshot["VolumeSize"], "VolumeType": "gp3",
                                         "Encrypted": False}}],
        "_parent": layer_owner.get("_parent"), "_layer_of": snapshot.get("_image_layer"),
    }
    table(ctx, "ami").put(image_id, image)
    return {"ImageId": image_id}


def deregister_image(ctx, p):
    image_id = p["ImageId"]
    if image_id in BUILTIN:
        raise AwsError("AuthFailure", f"Not authorized for image:{image_id}", status=403)
    image = find_image(ctx, image_id)
    if image["OwnerId"] != ctx.account:
        raise AwsError("AuthFailure", f"Not authorized for image:{image_id}", status=403)
    # Like AWS, the image's snapshots stay; the image only disappears from Describe.
    image["State"] = "deregistered"
    table(ctx, "ami").put(image_id, image)
    return {"Return": True}


# -- snapshots and volumes ------------------------------------------------------------------


def describe_snapshots(ctx, p):
    snaps = [find(ctx, "snap", s) for s in p["SnapshotIds"]] if p.get("SnapshotIds") else table(ctx, "snap").values()
    if p.get("OwnerIds"):
        snaps = [s for s in snaps if s["OwnerId"] in p["OwnerIds"] or ("self" in p["OwnerIds"]
                                                                      and s["OwnerId"] == ctx.account)]
    snaps = apply_filters(snaps, p, {"snapshot-id": lambda s: s["SnapshotId"], "volume-id": lambda s: s["VolumeId"],
                                     "status": lambda s: s["State"], "owner-id": lambda s: s["OwnerId"],
                                     "description": lambda s: s["Description"]})
    return page([view(s) for s in snaps], p, lambda s: s["SnapshotId"], "Snapshots", f"snap/{ctx.account}")


def delete_snapshot(ctx, p):
    snap = find(ctx, "snap", p["SnapshotId"])
    for image in table(ctx, "ami").values():
        if image["State"] != "deregistered" and any(
                (m.get("Ebs") or {}).get("SnapshotId") == snap["SnapshotId"] for m in image["BlockDeviceMappings"]):
            raise AwsError("InvalidSnapshot.InUse",
                           f"The snapshot {snap['SnapshotId']} is currently in use by {image['ImageId']}")
    table(ctx, "snap").delete(snap["SnapshotId"])
    return {}


VOLUME_FILTERS = {
    "volume-id": lambda v: v["VolumeId"], "status": lambda v: v["State"],
    "availability-zone": lambda v: v["AvailabilityZone"], "volume-type": lambda v: v["VolumeType"],
    "attachment.instance-id": lambda v: [a["InstanceId"] for a in v["Attachments"]],
    "attachment.device": lambda v: [a["Device"] for a in v["Attachments"]],
    "attachment.status": lambda v: [a["State"] for a in v["Attachments"]],
    "attachment.delete-on-termination": lambda v: [bool_filter(a["DeleteOnTermination"]) for a in v["Attachments"]],
    "snapshot-id": lambda v: v.get("SnapshotId"), "size": lambda v: v["Size"], "encrypted": lambda v: bool_filter(v["Encrypted"]),
}


def describe_volumes(ctx, p):
    vols = [find(ctx, "vol", v) for v in p["VolumeIds"]] if p.get("VolumeIds") else table(ctx, "vol").values()
    vols = apply_filters(vols, p, VOLUME_FILTERS)
    return page([view(v) for v in vols], p, lambda v: v["VolumeId"], "Volumes", f"vol/{ctx.account}")


def create_root_volume(ctx, instance: dict, image: dict, size: int, volume_type: str, delete_on_termination: bool) -> dict:
    volume_id = new_id("vol")
    volume = {
        "VolumeId": volume_id, "Size": size, "SnapshotId": image["BlockDeviceMappings"][0]["Ebs"].get("SnapshotId", ""),
        "AvailabilityZone": instance["Placement"]["AvailabilityZone"], "State": "in-use", "CreateTime": ctx.now(),
        "VolumeType": volume_type, "Encrypted": False, "MultiAttachEnabled": False, "Tags": [],
        "Iops": 3000 if volume_type == "gp3" else None, "Throughput": 125 if volume_type == "gp3" else None,
        "Attachments": [{"AttachTime": ctx.now(), "Device": "/dev/xvda", "InstanceId": instance["InstanceId"],
                         "State": "attached", "VolumeId": volume_id, "DeleteOnTermination": delete_on_termination}],
    }
    table(ctx, "vol").put(volume_id, volume)
    return volume


def copy_layer(source_disk: str, target) -> None:
    """An image layer from an instance disk: what the instance wrote over the host's directories."""
    import os
    from pathlib import Path

    target = Path(target)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    upper = Path(source_disk) / "upper"
    if upper.is_dir():
        shutil.copytree(upper, target, symlinks=True, dirs_exist_ok=True)
    else:
        # Without a mount namespace the instance writes inside its disk directly.
        for entry in os.scandir(source_disk):
            if entry.name in (".kumo", "tmp", "work", "console.log"):
                continue
            dest = target / entry.name
            if entry.is_dir(follow_symlinks=False):
                shutil.copytree(entry.path, dest, symlinks=True)
            else:
                shutil.copy2(entry.path, dest, follow_symlinks=False)
