"""Instances as DescribeInstances shows them, and its filters."""

from __future__ import annotations

from .model import apply_filters, bool_filter, find, page, table


# Members of an interface record that the instance's view of it does not have.
_NOT_ON_INSTANCE_NIC = ("TagSet", "AvailabilityZone", "AvailabilityZoneId", "RequesterManaged")


def view(ctx, inst: dict, enis=None, volumes=None) -> dict:
    """The instance as DescribeInstances shows it (``enis``/``volumes``: the tables, when a caller has them).

    A shallow copy: the serializer writes only the model's members (internal ``_`` fields and None values
    are never written), so nothing needs filtering here, only the joined interface and volume added."""
    out = dict(inst)
    eni = (enis if enis is not None else table(ctx, "eni")).get(inst.get("_eni"))
    if eni is not None:
        nic = dict(eni)
        for key in _NOT_ON_INSTANCE_NIC:
            nic.pop(key, None)
        out["NetworkInterfaces"] = [nic]
    else:
        out["NetworkInterfaces"] = []
    volume = (volumes if volumes is not None else table(ctx, "vol")).get(inst.get("_root_volume"))
    if volume is not None and volume["Attachments"]:
        att = volume["Attachments"][0]
        out["BlockDeviceMappings"] = [{"DeviceName": att["Device"], "Ebs": {
            "AttachTime": att["AttachTime"], "DeleteOnTermination": att["DeleteOnTermination"],
            "Status": att["State"], "VolumeId": volume["VolumeId"]}}]
    else:
        out["BlockDeviceMappings"] = []
    return out


FILTERS = {
    "instance-id": lambda i: i["InstanceId"],
    "instance-state-name": lambda i: i["State"]["Name"],
    "instance-state-code": lambda i: str(i["State"]["Code"]),
    "instance-type": lambda i: i["InstanceType"],
    "image-id": lambda i: i["ImageId"],
    "subnet-id": lambda i: i.get("SubnetId"),
    "vpc-id": lambda i: i.get("VpcId"),
    "availability-zone": lambda i: i["Placement"]["AvailabilityZone"],
    "private-ip-address": lambda i: i.get("PrivateIpAddress"),
    "ip-address": lambda i: i.get("PublicIpAddress"),
    "network-interface.addresses.private-ip-address": lambda i: i.get("PrivateIpAddress"),
    "private-dns-name": lambda i: i.get("PrivateDnsName"),
    "dns-name": lambda i: i.get("PublicDnsName"),
    "iam-instance-profile.arn": lambda i: (i.get("IamInstanceProfile") or {}).get("Arn"),
    "iam-instance-profile.id": lambda i: (i.get("IamInstanceProfile") or {}).get("Id"),
    "key-name": lambda i: i.get("KeyName"),
    "launch-index": lambda i: str(i["AmiLaunchIndex"]),
    "reservation-id": lambda i: i["_reservation"],
    "instance.group-id": lambda i: [g["GroupId"] for g in i["SecurityGroups"]],
    "instance.group-name": lambda i: [g["GroupName"] for g in i["SecurityGroups"]],
    "group-id": lambda i: [g["GroupId"] for g in i["SecurityGroups"]],
    "group-name": lambda i: [g["GroupName"] for g in i["SecurityGroups"]],
    "network-interface.network-interface-id": lambda i: i.get("_eni"),
    "monitoring-state": lambda i: i["Monitoring"]["State"],
    "instance-lifecycle": lambda i: i.get("InstanceLifecycle"),
    "placement-group-name": lambda i: i["Placement"].get("GroupName"),
    "tenancy": lambda i: i["Placement"].get("Tenancy"),
    "architecture": lambda i: i["Architecture"],
    "root-device-type": lambda i: i["RootDeviceType"],
    "root-device-name": lambda i: i["RootDeviceName"],
    "hypervisor": lambda i: i["Hypervisor"],
    "virtualization-type": lambda i: i["VirtualizationType"],
    "platform-details": lambda i: i["PlatformDetails"],
    "client-token": lambda i: i.get("ClientToken"),
    "source-dest-check": lambda i: bool_filter(i["SourceDestCheck"]),
    "state-reason-code": lambda i: (i.get("StateReason") or {}).get("Code"),
    "metadata-options.http-tokens": lambda i: i["MetadataOptions"]["HttpTokens"],
    "metadata-options.http-endpoint": lambda i: i["MetadataOptions"]["HttpEndpoint"],
}


def describe_instances(ctx, p):
    from .defaults import ensure_defaults

    ensure_defaults(ctx)
    if p.get("InstanceIds") and p.get("MaxResults") is not None:
        from ...aws.errors import AwsError

        raise AwsError("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter "
                                                      "maxResults")
    instances = [find(ctx, "i", i) for i in p["InstanceIds"]] if p.get("InstanceIds") else table(ctx, "i").values()
    instances = apply_filters(instances, p, FILTERS)
    # Pages count instances; each page groups its instances by reservation, in launch order.
    chunk = page(instances, p, lambda i: f"{i['LaunchTime']:020.3f}/{i['InstanceId']}", "Instances",
                 f"i/{ctx.account}")
    reservations: dict[str, dict] = {}
    enis, volumes = table(ctx, "eni"), table(ctx, "vol")
    for inst in chunk["Instances"]:
        rid = inst["_reservation"]
        if rid not in reservations:
            reservations[rid] = {"ReservationId": rid, "OwnerId": ctx.account, "Groups": [], "Instances": []}
        reservations[rid]["Instances"].append(view(ctx, inst, enis, volumes))
    out = {"Reservations": list(reservations.values())}
    if "NextToken" in chunk:
        out["NextToken"] = chunk["NextToken"]
    return out


def reservation_view(ctx, reservation_id: str) -> dict:
    reservation = ctx.table("reservation", service="ec2").get(reservation_id)
    instances = [table(ctx, "i").get(i) for i in reservation["Instances"]]
    return {"ReservationId": reservation_id, "OwnerId": reservation["OwnerId"], "Groups": [],
            "Instances": [view(ctx, i) for i in instances if i is not None]}
