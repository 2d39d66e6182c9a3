"""EC2: VPC basics, AMIs, instance types, launch templates, and instances that really run.

``setup`` wires the run-time pieces: the instance and image controllers, the
metadata service, the monitor that measures instances, EC2's alarm actions and
the fault-injection endpoint.
"""

from __future__ import annotations


def setup(kumo):
    from . import actions, clock_view, faults
    from .image_builder import ImageBuilder
    from .lifecycle import InstanceController
    from .monitor import Monitor
    from .runtime import Ec2Runtime

    rt = Ec2Runtime(kumo)
    controller = InstanceController(kumo, rt)
    kumo.controllers.register(controller)
    kumo.controllers.register(ImageBuilder(kumo, rt))
    kumo.actions.register(actions.matches, actions.handler(kumo))
    kumo.route("POST", "/_kumo/faults/instances/{instance_id}", faults.route(kumo, rt))
    monitor = Monitor(kumo, rt)
    kumo.on_start(monitor.start)
    kumo.on_stop(monitor.stop)
    clock_view.follow(kumo, rt)
    rt.controller = controller
    rt.monitor = monitor
    return rt
