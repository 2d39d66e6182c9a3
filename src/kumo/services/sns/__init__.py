"""SNS: topics and subscriptions with real deliveries to SQS, HTTP/S (signed, confirmed, retried) and Lambda."""

from __future__ import annotations

from .delivery import Deliveries
from .internal import alarm_action, is_topic_arn
from .signing import PATH_PREFIX, Signer


class Sns:
    """What the running service keeps beside its store: the message signer."""

    def __init__(self, kumo):
        self.kumo = kumo
        self.signer = Signer(kumo)


def setup(kumo):
    service = Sns(kumo)
    kumo.controllers.register(Deliveries(kumo, service))
    kumo.routes.append(("GET", PATH_PREFIX + "{name}", service.signer.serve))
    kumo.actions.register(is_topic_arn, alarm_action(kumo))
    kumo.on_reset(service.signer.forget)
    return service
