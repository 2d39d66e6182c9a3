"""EC2's alarm actions: arn:aws:automate:<region>:ec2:stop | terminate | reboot | recover.

CloudWatch fires them with the alarm's context; the instance is the one named by
the alarm metric's InstanceId dimension, as on AWS.
"""

from __future__ import annotations

import logging
import re

from .faults import find_instance
from .instance_ops import reboot_instance, stop_instance, terminate_instance
from .lifecycle import CONTROLLER, KIND

log = logging.getLogger("kumo.ec2.actions")
ARN = re.compile(r"^arn:aws:automate:([a-z0-9-]+):ec2:(stop|terminate|reboot|recover)$")


def matches(arn: str) -> bool:
    return bool(ARN.match(arn))


def _instance_id(context: dict) -> str | None:
    for source in (context.get("Trigger") or {}, context):
        for dim in source.get("Dimensions") or []:
            name = dim.get("name") or dim.get("Name")
            if name == "InstanceId":
                return dim.get("value") or dim.get("Value")
    return None


def handler(kumo):
    async def act(arn: str, context: dict) -> None:
        action = ARN.match(arn).group(2)
        instance_id = _instance_id(context)
        scope, inst = find_instance(kumo, instance_id) if instance_id else (None, None)
        if inst is None:
            raise LookupError(f"alarm action {arn}: no instance {instance_id!r} in the alarm's dimensions")
        why = f"Alarm '{context.get('AlarmName', '')}' triggered"
        with kumo.store.transaction():
            if action == "stop" and inst["State"]["Name"] in ("pending", "running"):
                stop_instance(kumo, inst, why, {"Code": "Client.UserInitiatedShutdown",
                                                "Message": "Client.UserInitiatedShutdown: User initiated shutdown"},
                              scope=scope)
            elif action == "terminate" and inst["State"]["Name"] not in ("shutting-down", "terminated"):
                terminate_instance(kumo, inst, why, {"Code": "Client.UserInitiatedShutdown",
                                                     "Message": "Client.UserInitiatedShutdown: User initiated "
                                                                "shutdown"}, scope=scope)
            elif action == "reboot" and inst["State"]["Name"] == "running":
                reboot_instance(kumo, inst, scope=scope)
            elif action == "recover" and inst["State"]["Name"] == "running":
                recover(kumo, scope, inst)

    return act


def recover(kumo, scope: str, inst: dict) -> None:
    """Move the instance to a new simulated host: same id, addresses, metadata and placement group; rebooted."""
    from .model import new_id

    inst["_host"] = new_id("h")
    inst.pop("_system_impaired", None)
    inst.pop("_frozen", None)
    inst["_reboot"] = True
    kumo.store.table(scope, KIND).put(inst["InstanceId"], inst)
    kumo.controllers.enqueue(CONTROLLER, (scope, inst["InstanceId"]))
