"""Captures images: CreateImage records a pending image; this controller copies the disk and makes it available."""

from __future__ import annotations

import asyncio

from ...core.controllers import Controller
from .images import copy_layer
from .lifecycle import CONTROLLER as INSTANCES

CONTROLLER = "ec2.images"


class ImageBuilder(Controller):
    name = CONTROLLER
    resync_interval = 60.0

    def __init__(self, kumo, rt):
        self.kumo = kumo
        self.rt = rt

    def keys(self):
        return [(scope, iid) for scope, iid, image in self.kumo.store.all("ec2.image") if image["State"] == "pending"]

    async def reconcile(self, key):
        scope, image_id = key
        images = self.kumo.store.table(scope, "ec2.image")
        image = images.get(image_id)
        if image is None or image["State"] != "pending":
            return None
        await asyncio.to_thread(copy_layer, image["_source_disk"], self.rt.image_dir(image_id))
        with self.kumo.store.transaction():
            image["State"] = "available"
            images.put(image_id, image)
            snapshots = self.kumo.store.table(scope, "ec2.snapshot")
            for mapping in image["BlockDeviceMappings"]:
                snap = snapshots.get((mapping.get("Ebs") or {}).get("SnapshotId"))
                if snap is not None:
                    snap["State"], snap["Progress"] = "completed", "100%"
                    snapshots.put(snap["SnapshotId"], snap)
            if image.pop("_reboot", False):
                # Without NoReboot, AWS reboots the instance to image a consistent disk.
                instance_id = image.get("SourceInstanceId")
                inst = self.kumo.store.table(scope, "ec2.instance").get(instance_id)
                if inst is not None and inst["State"]["Name"] == "running":
                    inst["_reboot"] = True
                    self.kumo.store.table(scope, "ec2.instance").put(instance_id, inst)
                    self.kumo.controllers.enqueue(INSTANCES, (scope, instance_id))
            images.put(image_id, image)
        return None
