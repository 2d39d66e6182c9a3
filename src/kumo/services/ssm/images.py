"""aws:ec2:image parameters: the AMI is checked after PutParameter answers, as AWS does it.

PutParameter hands out the version number and records the version as pending; this controller then checks
the value is an AMI id the account can launch in the region (through EC2's facade).  On success the version
becomes the parameter's latest; on failure it is dropped (a new parameter is not created at all) and the
"Parameter Store Change" event carries the exception, which is how AWS reports it.
"""

from __future__ import annotations

from ...aws.errors import AwsError
from ...core.controllers import Controller
from ..ec2 import internal as ec2
from . import model, values

CONTROLLER = "ssm.images"
PENDING = "ssm.pending"


class ImageCheck(Controller):
    name = CONTROLLER
    resync_interval = 60.0

    def __init__(self, kumo):
        self.kumo = kumo

    def keys(self):
        return [(scope, name) for scope, name, _ in self.kumo.store.all(PENDING)]

    async def reconcile(self, key):
        from .parameters import commit

        scope, name = key
        kumo = self.kumo
        with kumo.store.transaction():
            pending_table = kumo.store.table(scope, PENDING)
            pending = pending_table.get(name)
            if pending is None:
                return None
            pending_table.delete(name)
            image_id = pending["version"]["Value"]
            ok = values.well_formed_ami(image_id)
            if ok:
                try:
                    ec2.check_image(kumo, scope, image_id)
                except AwsError:
                    ok = False
            operation = pending["_operation"]
            if ok:
                commit(kumo, scope, name, pending, operation)
                return None
            account, region = scope.split("/", 1)
            failed = {"Name": name, "Type": "String", "ARN": pending["arn"],
                      "Description": pending["version"].get("Description")}
            model.publish_change(kumo, account, region, failed, operation, dataType="aws:ec2:image",
                                 exception="Unable to Describe Resource")
        return None
