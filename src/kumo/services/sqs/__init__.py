"""SQS: standard and FIFO queues whose messages are durable rows, delivered on kumo's clock."""

from __future__ import annotations

from ...core.controllers import Controller
from . import engine, queues, storage
from .longpoll import Waiters
from .redrive import MoveTasks


class Sqs:
    """What the running service keeps beside its store: the long polls waiting on each queue."""

    def __init__(self, kumo):
        self.kumo = kumo
        self.waiters = Waiters()


class Retention(Controller):
    """Deletes messages past their queue's retention period; forgets expired deduplication and attempt ids."""

    name = "sqs-retention"
    resync_interval = 60.0

    def __init__(self, kumo):
        self.kumo = kumo

    def keys(self):
        return ["sweep"]

    async def reconcile(self, key):
        store, now = self.kumo.store, self.kumo.clock.now()
        with store.transaction():
            for _scope, _name, queue in store.all(queues.KIND):
                storage.expire(store, queue["_id"], engine.retention_cutoff(queue, now))
            storage.dedup_expire(store, now)
            for scope, key, attempt in store.all(engine.ATTEMPTS):
                if attempt["expires"] <= now:
                    store.table(scope, engine.ATTEMPTS).delete(key)
            for scope, name, tomb in store.all(queues.DELETED):
                if now - tomb["at"] >= queues.REUSE_AFTER:
                    store.table(scope, queues.DELETED).delete(name)


def setup(kumo):
    storage.install(kumo.store)
    kumo.on_reset(lambda: storage.wipe(kumo.store))
    kumo.controllers.register(Retention(kumo))
    kumo.controllers.register(MoveTasks(kumo))
    return Sqs(kumo)
