"""What a terminated instance gives back: its interface, addresses and (by default) its root volume."""

from __future__ import annotations

from .addresses import LoopbackPlan


def release_resources(kumo, scope: str, inst: dict) -> None:
    enis = kumo.store.table(scope, "ec2.network-interface")
    eni = enis.get(inst.get("_eni"))
    if eni is not None:
        subnet = kumo.store.table(scope, "ec2.subnet").get(eni["SubnetId"])
        if subnet is not None and eni["PrivateIpAddress"] in subnet["_used"]:
            subnet["_used"].remove(eni["PrivateIpAddress"])
            subnet["AvailableIpAddressCount"] += 1
            kumo.store.table(scope, "ec2.subnet").put(subnet["SubnetId"], subnet)
        LoopbackPlan.release(kumo.store, eni.get("_loopback"))
        enis.delete(eni["NetworkInterfaceId"])
    volumes = kumo.store.table(scope, "ec2.volume")
    volume = volumes.get(inst.get("_root_volume"))
    if volume is not None:
        attachment = volume["Attachments"][0] if volume["Attachments"] else {}
        if attachment.get("DeleteOnTermination", True):
            volumes.delete(volume["VolumeId"])
        else:
            volume["Attachments"] = []
            volume["State"] = "available"
            volumes.put(volume["VolumeId"], volume)
    creds = inst.pop("_imds_credentials", None)
    if creds:
        from ...core import credentials

        credentials.forget(kumo.store, creds["AccessKeyId"])
    # A terminated instance keeps showing its private address for a while, but no public one.
    inst["PublicIpAddress"] = None
    inst["PublicDnsName"] = ""
