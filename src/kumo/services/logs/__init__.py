"""CloudWatch Logs: log groups and streams (store records), events (a table of their own), filter patterns.

Other services append to logs through ``kumo.services.logs.internal.put_events``
(EC2 console output, Lambda and API Gateway logs), which creates the group and
stream on demand.
"""

from __future__ import annotations


def setup(kumo):
    from .runtime import Logs

    from .exports import ExportController

    logs = Logs(kumo)
    kumo.controllers.register(ExportController(kumo))
    kumo.on_reset(logs.reset)
    logs.start()
    return logs
