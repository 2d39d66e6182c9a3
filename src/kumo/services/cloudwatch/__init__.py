"""CloudWatch: metrics, alarms that evaluate on kumo's clock and fire their actions, dashboards.

``setup`` registers the metric store as the backend of ``kumo.metrics`` (so
kumo's own AWS/* datapoints land beside PutMetricData's) and starts the alarm
evaluator on the clock.
"""

from __future__ import annotations


def setup(kumo):
    from .runtime import CloudWatch

    cw = CloudWatch(kumo)
    kumo.metrics.register(cw.sink)
    kumo.on_reset(cw.reset)
    cw.start()
    return cw
