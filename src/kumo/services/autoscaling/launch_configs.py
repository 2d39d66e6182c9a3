"""Launch configurations: the older way to say what a group launches (Create, Describe, Delete)."""

from __future__ import annotations

import base64

from ...aws.errors import AwsError
from ..ec2 import internal as ec2
from .model import GROUP, LAUNCH_CONFIG, MAX_LAUNCH_CONFIGS, invalid, launch_config_arn, page, table

MAX_USER_DATA = 21847  # bytes of base64, as AWS documents for launch configurations


def source_instance(ctx, instance_id: str) -> ec2.Instance:
    """The instance a launch configuration or group is made from (InstanceId)."""
    inst = ec2.instance(ctx.kumo, ctx.scope, instance_id)
    if inst is None or inst.state == "terminated":
        raise invalid(f"Invalid instance id: The instance ID '{instance_id}' does not exist")
    return inst


def create_launch_configuration(ctx, p):
    name = p["LaunchConfigurationName"]
    configs = table(ctx, LAUNCH_CONFIG)
    if name in configs:
        raise AwsError("AlreadyExists", f"Launch Configuration by this name already exists - A launch configuration "
                                        f"already exists with the name {name}")
    if len(configs) >= MAX_LAUNCH_CONFIGS:
        raise AwsError("LimitExceeded", f"Launch configuration limit exceeded: the account allows "
                                        f"{MAX_LAUNCH_CONFIGS}.")
    source = {}
    if p.get("InstanceId"):
        inst = source_instance(ctx, p["InstanceId"])
        source = {"ImageId": inst.image_id, "InstanceType": inst.instance_type, "KeyName": inst.key_name,
                  "SecurityGroups": list(inst.security_group_ids)}
    image_id = p.get("ImageId") or source.get("ImageId")
    itype = p.get("InstanceType") or source.get("InstanceType")
    if not image_id:
        raise invalid("Valid requests must contain either the ImageId parameter or the InstanceId parameter.")
    if not itype:
        raise invalid("Valid requests must contain either the InstanceType parameter or the InstanceId parameter.")
    try:
        ec2.check_image(ctx.kumo, ctx.scope, image_id)
    except AwsError:
        raise invalid(f"AMI {image_id} is invalid: The image id '[{image_id}]' does not exist")
    if not ec2.instance_type_exists(itype):
        raise invalid(f"Invalid instance type: {itype}")
    user_data = p.get("UserData") or ""
    if len(user_data) > MAX_USER_DATA:
        raise invalid(f"Value for parameter userData is too long; it must be at most {MAX_USER_DATA} characters.")
    if user_data:
        try:
            base64.b64decode(user_data, validate=True)
        except Exception:
            user_data = base64.b64encode(user_data.encode()).decode()  # callers that skipped the encoding
    lc = {
        "LaunchConfigurationName": name,
        "LaunchConfigurationARN": launch_config_arn(ctx.region, ctx.account, name),
        "ImageId": image_id,
        "KeyName": p.get("KeyName") or source.get("KeyName") or "",
        "SecurityGroups": p.get("SecurityGroups") or source.get("SecurityGroups") or [],
        "ClassicLinkVPCSecurityGroups": [],
        "UserData": user_data,
        "InstanceType": itype,
        "KernelId": p.get("KernelId") or "",
        "RamdiskId": p.get("RamdiskId") or "",
        "BlockDeviceMappings": p.get("BlockDeviceMappings") or [],
        "InstanceMonitoring": p.get("InstanceMonitoring") or {"Enabled": True},
        "CreatedTime": ctx.now(),
        "EbsOptimized": bool(p.get("EbsOptimized")),
    }
    for key in ("SpotPrice", "IamInstanceProfile", "AssociatePublicIpAddress", "PlacementTenancy",
                "MetadataOptions"):
        if p.get(key) is not None:
            lc[key] = p[key]
    if p.get("KeyName"):
        ec2.check_key_pair(ctx.kumo, ctx.scope, p["KeyName"])
    configs.put(name, lc)
    return {}


def describe_launch_configurations(ctx, p):
    configs = table(ctx, LAUNCH_CONFIG)
    names = p.get("LaunchConfigurationNames")
    items = [configs.get(n) for n in names] if names else sorted(configs.values(),
                                                                 key=lambda c: c["LaunchConfigurationName"])
    items = [c for c in items if c is not None]
    return page(items, p, lambda c: c["LaunchConfigurationName"], "LaunchConfigurations",
                f"lc/{ctx.scope}/{names}")


def delete_launch_configuration(ctx, p):
    name = p["LaunchConfigurationName"]
    configs = table(ctx, LAUNCH_CONFIG)
    if name not in configs:
        raise invalid("Launch configuration name not found - Launch configuration " + name + " not found")
    for group in table(ctx, GROUP).values():
        if group.get("LaunchConfigurationName") == name:
            raise AwsError("ResourceInUse", f"Cannot delete launch configuration {name} because it is attached to "
                                            f"AutoScalingGroup {group['AutoScalingGroupName']}")
    configs.delete(name)
    return {}
