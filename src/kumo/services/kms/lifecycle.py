"""The controller that deletes keys whose waiting period ended and rotates keys whose period came, on kumo's clock."""

from __future__ import annotations

from ...core.controllers import Controller
from . import rotation
from .grants import GRANT
from .model import ALIAS, KEY


class KeyTimers(Controller):
    """One key per KMS key with a date ahead (deletion or rotation): ``<account>/<region>|<key id>``."""

    name = "kms-keys"
    resync_interval = 3600.0

    def __init__(self, kumo):
        self.kumo = kumo

    def keys(self):
        for scope, key_id, record in self.kumo.store.all(KEY):
            if record["KeyState"] == "PendingDeletion" or record["_rotation"]["enabled"]:
                yield f"{scope}|{key_id}"

    async def reconcile(self, key):
        scope, _, key_id = key.partition("|")
        store, now = self.kumo.store, self.kumo.clock.now()
        record = store.table(scope, KEY).get(key_id)
        if record is None:
            return None
        if record["KeyState"] == "PendingDeletion":
            if now < record["DeletionDate"]:
                return record["DeletionDate"] - now
            with store.transaction():
                aliases = store.table(scope, ALIAS)
                for name, alias in aliases.items():
                    if alias["TargetKeyId"] == key_id:
                        aliases.delete(name)
                grants = store.table(scope, GRANT)
                for grant_id, grant in grants.items():
                    if grant["KeyId"] == record["Arn"]:
                        grants.delete(grant_id)
                # The material goes with the record: ciphertexts under this key are unrecoverable from now on.
                store.table(scope, KEY).delete(key_id)
            return None
        due = rotation.next_rotation(record)
        if due is None:
            return None
        if record["KeyState"] != "Enabled":
            return None  # a disabled key does not rotate; EnableKey enqueues it again
        if now >= due:
            with store.transaction():
                rotation.rotate(record, due, "AUTOMATIC")
                store.table(scope, KEY).put(key_id, record)
            due = rotation.next_rotation(record)
        return max(due - now, 1.0)
