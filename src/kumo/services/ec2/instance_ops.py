"""Start, stop, reboot, terminate and change instances; their status checks and console."""

from __future__ import annotations

import base64

from ...aws.errors import AwsError
from . import instance_types, status_checks
from .lifecycle import CONTROLLER, console_output, publish_state, set_state, user_time
from .model import apply_filters, find, invalid, page, table
from .runtime import runtime


def _change(inst: dict, before: dict) -> dict:
    return {"InstanceId": inst["InstanceId"], "PreviousState": before, "CurrentState": dict(inst["State"])}


def _wrong_state(inst: dict, action: str) -> AwsError:
    return AwsError("IncorrectInstanceState",
                    f"The instance '{inst['InstanceId']}' is not in a state from which it can be {action}.")


def _save_and_queue(ctx, inst: dict) -> None:
    table(ctx, "i").put(inst["InstanceId"], inst)
    ctx.controllers.enqueue(CONTROLLER, (ctx.scope, inst["InstanceId"]))


def start_instances(ctx, p):
    instances = [find(ctx, "i", i) for i in p["InstanceIds"]]
    for inst in instances:
        if inst["State"]["Name"] not in ("stopped", "running", "pending"):
            raise _wrong_state(inst, "started")
    changes = []
    for inst in instances:
        before = dict(inst["State"])
        if inst["State"]["Name"] == "stopped":
            inst["_desired"] = "running"
            set_state(inst, "pending", "", {"Code": "pending", "Message": "pending"})
            _save_and_queue(ctx, inst)
            publish_state(ctx.kumo, ctx.scope, inst)
        changes.append(_change(inst, before))
    return {"StartingInstances": changes}


def stop_instances(ctx, p):
    instances = [find(ctx, "i", i) for i in p["InstanceIds"]]
    for inst in instances:
        if inst["State"]["Name"] in ("shutting-down", "terminated"):
            raise _wrong_state(inst, "stopped")
        if inst.get("_no_stop") and not p.get("Force"):
            raise AwsError("OperationNotPermitted", f"The instance '{inst['InstanceId']}' may not be stopped. "
                                                    f"Modify its 'disableApiStop' instance attribute and try again.")
    changes = []
    for inst in instances:
        before = dict(inst["State"])
        if inst["State"]["Name"] in ("pending", "running"):
            stop_instance(ctx, inst, "User initiated",
                          {"Code": "Client.UserInitiatedShutdown", "Message": "Client.UserInitiatedShutdown: "
                                                                              "User initiated shutdown"})
        changes.append(_change(inst, before))
    return {"StoppingInstances": changes}


def stop_instance(ctx_or_kumo, inst: dict, why: str, reason: dict, scope: str | None = None) -> None:
    """Record the intent to stop; shared with alarm actions and instance-initiated shutdown."""
    kumo = getattr(ctx_or_kumo, "kumo", ctx_or_kumo)
    scope = scope or ctx_or_kumo.scope
    inst["_desired"] = "stopped"
    set_state(inst, "stopping", f"{why} ({user_time(kumo.clock.now())})", reason)
    kumo.store.table(scope, "ec2.instance").put(inst["InstanceId"], inst)
    kumo.controllers.enqueue(CONTROLLER, (scope, inst["InstanceId"]))
    publish_state(kumo, scope, inst)


def terminate_instance(ctx_or_kumo, inst: dict, why: str, reason: dict, scope: str | None = None) -> None:
    kumo = getattr(ctx_or_kumo, "kumo", ctx_or_kumo)
    scope = scope or ctx_or_kumo.scope
    inst["_desired"] = "terminated"
    set_state(inst, "shutting-down", f"{why} ({user_time(kumo.clock.now())})", reason)
    kumo.store.table(scope, "ec2.instance").put(inst["InstanceId"], inst)
    kumo.controllers.enqueue(CONTROLLER, (scope, inst["InstanceId"]))
    publish_state(kumo, scope, inst)


def reboot_instance(ctx_or_kumo, inst: dict, scope: str | None = None) -> None:
    kumo = getattr(ctx_or_kumo, "kumo", ctx_or_kumo)
    scope = scope or ctx_or_kumo.scope
    inst["_reboot"] = True
    kumo.store.table(scope, "ec2.instance").put(inst["InstanceId"], inst)
    kumo.controllers.enqueue(CONTROLLER, (scope, inst["InstanceId"]))


def terminate_instances(ctx, p):
    instances = [find(ctx, "i", i) for i in p["InstanceIds"]]
    for inst in instances:
        if inst.get("_no_terminate") and inst["State"]["Name"] != "terminated":
            raise AwsError("OperationNotPermitted",
                           f"The instance '{inst['InstanceId']}' may not be terminated. Modify its "
                           f"'disableApiTermination' instance attribute and try again.")
    changes = []
    for inst in instances:
        before = dict(inst["State"])
        if inst["State"]["Name"] not in ("shutting-down", "terminated"):
            terminate_instance(ctx, inst, "User initiated",
                               {"Code": "Client.UserInitiatedShutdown",
                                "Message": "Client.UserInitiatedShutdown: User initiated shutdown"})
        changes.append(_change(inst, before))
    return {"TerminatingInstances": changes}


def reboot_instances(ctx, p):
    instances = [find(ctx, "i", i) for i in p["InstanceIds"]]
    for inst in instances:
        if inst["State"]["Name"] not in ("running", "pending"):
            raise _wrong_state(inst, "rebooted")
    for inst in instances:
        reboot_instance(ctx, inst)
    return {}


# -- attributes --------------------------------------------------------------------------------

_STOPPED_ONLY = {"InstanceType": "instanceType", "UserData": "userData", "Kernel": "kernel", "Ramdisk": "ramdisk",
                 "EnaSupport": "enaSupport", "SriovNetSupport": "sriovNetSupport"}


def _value(p: dict, key: str):
    v = p.get(key)
    if isinstance(v, dict):
        return v.get("Value")
    return v


def modify_instance_attribute(ctx, p):
    inst = find(ctx, "i", p["InstanceId"])
    attr = p.get("Attribute")
    values = dict(p)
    if attr:  # the generic form: Attribute + Value
        key = {"instanceType": "InstanceType", "userData": "UserData", "disableApiTermination": "DisableApiTermination",
               "instanceInitiatedShutdownBehavior": "InstanceInitiatedShutdownBehavior", "ebsOptimized": "EbsOptimized",
               "sourceDestCheck": "SourceDestCheck", "disableApiStop": "DisableApiStop", "groupSet": "Groups",
               "kernel": "Kernel", "ramdisk": "Ramdisk"}.get(attr)
        if key is None:
            raise invalid(f"Value ({attr}) for parameter attribute is invalid.")
        values[key] = {"Value": p.get("Value")}
    for key in _STOPPED_ONLY:
        if values.get(key) is not None and inst["State"]["Name"] != "stopped":
            raise AwsError("IncorrectInstanceState",
                           f"The instance '{inst['InstanceId']}' is not in the 'stopped' state.")
    itype = _value(values, "InstanceType")
    if itype is not None:
        if not instance_types.exists(itype):
            raise invalid(f"Invalid value '{itype}' for InstanceType.")
        inst["InstanceType"] = itype
        info = instance_types.info(itype)
        inst["CpuOptions"] = {"CoreCount": info["VCpuInfo"]["DefaultCores"],
                              "ThreadsPerCore": info["VCpuInfo"]["DefaultThreadsPerCore"]}
    user_data = _value(values, "UserData")
    if user_data is not None:
        raw = user_data if isinstance(user_data, bytes) else str(user_data).encode()
        inst["_userdata"] = base64.b64encode(raw).decode()
    for key, field in (("DisableApiTermination", "_no_terminate"), ("DisableApiStop", "_no_stop"),
                       ("EbsOptimized", "EbsOptimized"), ("SourceDestCheck", "SourceDestCheck"),
                       ("InstanceInitiatedShutdownBehavior", "_shutdown_behavior")):
        v = _value(values, key)
        if v is not None:
            if key in ("DisableApiTermination", "DisableApiStop", "EbsOptimized", "SourceDestCheck"):
                v = v if isinstance(v, bool) else str(v).lower() == "true"
            inst[field] = v
    groups = values.get("Groups")
    if groups:
        if isinstance(groups, dict):
            groups = groups.get("Value") or []
        resolved = [find(ctx, "sg", g) for g in groups]
        inst["SecurityGroups"] = [{"GroupId": g["GroupId"], "GroupName": g["GroupName"]} for g in resolved]
        eni = table(ctx, "eni").get(inst["_eni"])
        if eni is not None:
            eni["Groups"] = list(inst["SecurityGroups"])
            table(ctx, "eni").put(eni["NetworkInterfaceId"], eni)
    table(ctx, "i").put(inst["InstanceId"], inst)
    return {}


def describe_instance_attribute(ctx, p):
    inst = find(ctx, "i", p["InstanceId"])
    attr = p["Attribute"]
    out = {"InstanceId": inst["InstanceId"]}
    simple = {
        "instanceType": ("InstanceType", inst["InstanceType"]),
        "disableApiTermination": ("DisableApiTermination", inst.get("_no_terminate", False)),
        "disableApiStop": ("DisableApiStop", inst.get("_no_stop", False)),
        "instanceInitiatedShutdownBehavior": ("InstanceInitiatedShutdownBehavior", inst.get("_shutdown_behavior")),
        "rootDeviceName": ("RootDeviceName", inst["RootDeviceName"]),
        "ebsOptimized": ("EbsOptimized", inst["EbsOptimized"]),
        "sourceDestCheck": ("SourceDestCheck", inst["SourceDestCheck"]),
        "enaSupport": ("EnaSupport", inst["EnaSupport"]),
        "userData": ("UserData", inst.get("_userdata")),
    }
    if attr in simple:
        key, value = simple[attr]
        if value is not None:
            out[key] = {"Value": value}
    elif attr == "groupSet":
        out["Groups"] = list(inst["SecurityGroups"])
    elif attr == "blockDeviceMapping":
        from .instance_view import view

        out["BlockDeviceMappings"] = view(ctx, inst)["BlockDeviceMappings"]
    elif attr in ("kernel", "ramdisk", "productCodes", "sriovNetSupport"):
        out["ProductCodes"] = [] if attr == "productCodes" else None
        out = {k: v for k, v in out.items() if v is not None}
    else:
        raise invalid(f"Value ({attr}) for parameter attribute is invalid.")
    return out


def modify_instance_metadata_options(ctx, p):
    inst = find(ctx, "i", p["InstanceId"])
    options = inst["MetadataOptions"]
    for key in ("HttpTokens", "HttpPutResponseHopLimit", "HttpEndpoint", "HttpProtocolIpv6", "InstanceMetadataTags"):
        if p.get(key) is not None:
            options[key] = p[key]
    table(ctx, "i").put(inst["InstanceId"], inst)
    ctx.controllers.enqueue(CONTROLLER, (ctx.scope, inst["InstanceId"]))  # opens or closes the endpoint
    return {"InstanceId": inst["InstanceId"], "InstanceMetadataOptions": options}


def get_console_output(ctx, p):
    inst = find(ctx, "i", p["InstanceId"])
    rt = runtime(ctx)
    # Timestamp is when the output was last written: the kernel stamps the console file with the host's wall
    # time, which kumo's clock places in its own time.
    try:
        updated = min(ctx.now(), ctx.kumo.clock.at_wall(rt.console(inst["InstanceId"]).stat().st_mtime))
    except OSError:
        updated = ctx.now()
    return {"InstanceId": inst["InstanceId"], "Timestamp": updated,
            "Output": console_output(rt, inst["InstanceId"], bool(p.get("Latest", True)))}


# -- status checks -------------------------------------------------------------------------------

def status_of(ctx, inst: dict) -> dict:
    """The instance's entry of DescribeInstanceStatus: its last status checks (``status_checks.py``)."""
    entry = {"InstanceId": inst["InstanceId"], "AvailabilityZone": inst["Placement"]["AvailabilityZone"],
             "InstanceState": dict(inst["State"]), "Events": []}
    if inst["State"]["Name"] != "running":
        na = {"Status": "not-applicable", "Details": []}
        return {**entry, "InstanceStatus": na, "SystemStatus": dict(na)}
    instance_status, system_status = status_checks.described(inst)
    return {**entry, "InstanceStatus": instance_status, "SystemStatus": system_status,
            "AttachedEbsStatus": {"Status": "ok", "Details": [{"Name": "reachability", "Status": "passed"}]}}


STATUS_FILTERS = {
    "availability-zone": lambda s: s["AvailabilityZone"],
    "instance-state-name": lambda s: s["InstanceState"]["Name"],
    "instance-state-code": lambda s: str(s["InstanceState"]["Code"]),
    "instance-status.status": lambda s: s["InstanceStatus"]["Status"],
    "instance-status.reachability": lambda s: [d["Status"] for d in s["InstanceStatus"]["Details"]],
    "system-status.status": lambda s: s["SystemStatus"]["Status"],
    "system-status.reachability": lambda s: [d["Status"] for d in s["SystemStatus"]["Details"]],
    "event.code": lambda s: [e.get("Code") for e in s["Events"]],
}


def describe_instance_status(ctx, p):
    if p.get("InstanceIds"):
        instances = [find(ctx, "i", i) for i in p["InstanceIds"]]
    else:
        instances = table(ctx, "i").values()
    if not p.get("IncludeAllInstances"):
        instances = [i for i in instances if i["State"]["Name"] == "running"]
    else:
        instances = [i for i in instances if i["State"]["Name"] != "terminated" or p.get("InstanceIds")]
    statuses = apply_filters([status_of(ctx, i) for i in instances], p, STATUS_FILTERS, tags=lambda s: {})
    return page(statuses, p, lambda s: s["InstanceId"], "InstanceStatuses", f"status/{ctx.account}")


# -- credit specifications ---------------------------------------------------------------------------


def describe_instance_credit_specifications(ctx, p):
    instances = [find(ctx, "i", i) for i in p["InstanceIds"]] if p.get("InstanceIds") else table(ctx, "i").values()
    out = [{"InstanceId": i["InstanceId"], "CpuCredits": i.get("_credit") or "standard"}
           for i in instances if i["InstanceType"].startswith("t") and i["State"]["Name"] != "terminated"]
    return page(out, p, lambda c: c["InstanceId"], "InstanceCreditSpecifications", f"credit/{ctx.account}")


def modify_instance_credit_specification(ctx, p):
    ok, failed = [], []
    for spec in p["InstanceCreditSpecifications"]:
        inst = table(ctx, "i").get(spec["InstanceId"])
        if inst is None or not inst["InstanceType"].startswith("t"):
            failed.append({"InstanceId": spec["InstanceId"], "Error": {
                "Code": "InvalidInstanceID.NotFound" if inst is None else "IncorrectInstanceState",
                "Message": "The instance does not support credit specifications."}})
            continue
        if spec.get("CpuCredits") not in ("standard", "unlimited"):
            failed.append({"InstanceId": spec["InstanceId"], "Error": {"Code": "InvalidParameterValue",
                                                                       "Message": "CpuCredits must be standard or unlimited"}})
            continue
        inst["_credit"] = spec["CpuCredits"]
        table(ctx, "i").put(inst["InstanceId"], inst)
        ok.append({"InstanceId": inst["InstanceId"]})
    return {"SuccessfulInstanceCreditSpecifications": ok, "UnsuccessfulInstanceCreditSpecifications": failed}
