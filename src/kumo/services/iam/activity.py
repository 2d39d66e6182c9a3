"""Who used what, when: access keys' last use, roles' last use, and services last accessed per entity.

The gateway notes each request signed with credentials kumo issued (never the
account root's) before the request is evaluated, as AWS records authenticated
attempts whether or not they are allowed.  To keep the request path cheap a
(credential, service) pair is written at most once a minute of kumo's clock;
AWS's own data lags by hours.
"""

from __future__ import annotations

from .model import ACCESS_KEY, ROLE, table

ACTIVITY = "iam.activity"  # entity ARN -> {namespace: {"t": epoch, "region": ..., "entity": ARN}}
NOTE_EVERY = 60.0  # seconds of kumo's clock between writes for one credential and service
_noted: dict[tuple, float] = {}


def note(kumo, identity, namespace: str, region: str) -> None:
    now = kumo.clock.now()
    cache_key = (id(kumo.store), identity.access_key, namespace)
    last = _noted.get(cache_key)
    if last is not None and 0 <= now - last < NOTE_EVERY:
        return
    _noted[cache_key] = now
    store = kumo.store
    account, resource = identity.account, identity.arn.split(":", 5)[-1]
    with store.transaction():
        entity = None
        if resource.startswith("user/"):
            entity = identity.arn
            key = table(store, account, ACCESS_KEY).get(identity.access_key)
            if key is not None:
                key["_last_used"] = {"LastUsedDate": now, "ServiceName": namespace, "Region": region}
                table(store, account, ACCESS_KEY).put(identity.access_key, key)
        elif resource.startswith("assumed-role/"):
            role = table(store, account, ROLE).get(resource.split("/")[1])
            if role is not None:
                entity = role["Arn"]
                role["RoleLastUsed"] = {"LastUsedDate": now, "Region": region}
                table(store, account, ROLE).put(role["RoleName"], role)
        if entity is None:
            return
        activity = table(store, account, ACTIVITY)
        record = activity.get(entity) or {}
        record[namespace] = {"t": now, "region": region, "entity": entity}
        activity.put(entity, record)


def last_used(store, account: str, entity_arn: str) -> dict:
    return table(store, account, ACTIVITY).get(entity_arn) or {}
