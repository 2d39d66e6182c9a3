"""SNS: topics and subscriptions with real deliveries to SQS, HTTP/S (signed, confirmed, retried) and Lambda;
platform applications and endpoints, SMS settings and sandbox, data protection policies (stored, nothing sent)."""

from __future__ import annotations

from ...core.controllers import Controller
from . import sms
from .delivery import Deliveries
from .publish import DEDUP
from .internal import alarm_action, is_topic_arn
from .signing import PATH_PREFIX, Signer


class Sns:
    """What the running service keeps beside its store: the message signer."""

    def __init__(self, kumo):
        self.kumo = kumo
        self.signer = Signer(kumo)


class DedupSweep(Controller):
    """Forgets FIFO deduplication ids once their five minutes are over."""

    name = "sns-dedup"
    resync_interval = 60.0

    def __init__(self, kumo):
        self.kumo = kumo

    def keys(self):
        return ["sweep"]

    async def reconcile(self, key):
        store, now = self.kumo.store, self.kumo.clock.now()
        with store.transaction():
            for scope, dedup_key, seen in store.all(DEDUP):
                if seen["expires"] <= now:
                    store.table(scope, DEDUP).delete(dedup_key)


def setup(kumo):
    service = Sns(kumo)
    kumo.controllers.register(Deliveries(kumo, service))
    kumo.controllers.register(DedupSweep(kumo))
    kumo.route("GET", PATH_PREFIX + "{name}", service.signer.serve)
    sms.routes(kumo)
    kumo.actions.register(is_topic_arn, alarm_action(kumo))
    kumo.on_reset(service.signer.forget)
    return service
