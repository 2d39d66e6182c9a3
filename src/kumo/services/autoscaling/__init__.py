"""Auto Scaling: groups of real instances that heal, scale on alarms and schedules, run hooks and refresh.

``setup`` registers the group controller (woken by EC2 state changes), the
scheduler, the handler of alarm actions naming scaling policies, and the
publisher of group metrics.  See docs/autoscaling.md.
"""

from __future__ import annotations


def setup(kumo):
    from . import policies
    from .controller import GroupController
    from .group_metrics import GroupMetrics
    from .schedules import Scheduler

    controller = GroupController(kumo)
    kumo.controllers.register(controller)
    kumo.controllers.register(Scheduler(kumo))
    kumo.events.subscribe(controller.on_event)
    kumo.actions.register(lambda arn: arn.startswith("arn:aws:autoscaling:") and ":scalingPolicy:" in arn,
                          policies.alarm_action(kumo))
    metrics = GroupMetrics(kumo)
    kumo.on_start(metrics.start)
    kumo.on_stop(metrics.stop)
    return controller
