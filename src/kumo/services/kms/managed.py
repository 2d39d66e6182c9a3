"""AWS managed keys (alias/aws/<service>): created the first time anyone names them, as AWS does."""

from __future__ import annotations

from . import keyspecs
from .model import ALIAS, alias_arn, new_key_id, scope


def create_managed_key(finder, name: str) -> dict:
    """Create the key behind ``alias/aws/<service>`` and its alias in the finder's account; the alias record.

    Writes the store: inside a transaction it joins it (a facade call from a handler), else it commits alone.
    """
    service = name[len("alias/aws/"):]
    kumo, account, region = finder.kumo, finder.account, finder.region
    now = kumo.clock.now()
    key_id = new_key_id()
    record = keyspecs.new_record(
        account, region, key_id, now, manager="AWS",
        description=f"Default key that protects my {service.upper()} resources when no other key is defined",
        policy=keyspecs.managed_policy(account, region, service))
    alias = {"AliasName": name, "AliasArn": alias_arn(account, region, name), "TargetKeyId": key_id,
             "CreationDate": now, "LastUpdatedDate": now}
    with kumo.store.transaction():
        finder.save(record)
        kumo.store.table(scope(account, region), ALIAS).put(name, alias)
    return alias
