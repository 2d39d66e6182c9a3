"""Creating, describing, updating, deleting (with a recovery window on kumo's clock) and restoring secrets."""

from __future__ import annotations

import uuid

from ...aws.errors import AwsError
from ...core import tags as core_tags
from ...core.controllers import Controller
from . import values
from .model import (
    CURRENT, DEFAULT_KEY, PENDING, PREVIOUS, SECRET, check_name, describe, find, invalid_parameter, invalid_request,
    new_arn, save,
)
from .replication import add_regions
from .versions import new_value, value_of

DELETION = "secretsmanager-deletion"
DEFAULT_WINDOW = 30


def check_tags(new: list[dict] | None, existing: list[dict] | None = None) -> list[dict]:
    incoming = core_tags.to_dict(new)
    current = core_tags.to_dict(existing)
    try:
        core_tags.validate(incoming, current)
    except core_tags.TagError as exc:
        raise invalid_parameter(str(exc)) from None
    current.update(incoming)
    return core_tags.to_list(current)


def _the_value(p: dict):
    """SecretString or SecretBinary, never both; None when neither is given."""
    if p.get("SecretString") is not None and p.get("SecretBinary") is not None:
        raise invalid_parameter("You can't specify both a binary secret value and a string secret value in the "
                                "same secret.")
    return p["SecretString"] if p.get("SecretString") is not None else p.get("SecretBinary")


def create_secret(ctx, p):
    name = p["Name"]
    check_name(name)
    value = _the_value(p)
    token = p.get("ClientRequestToken") or str(uuid.uuid4())
    table = ctx.table("secret")
    existing = table.get(name)
    if existing is not None:
        if existing.get("DeletedDate") is not None:
            raise invalid_request("You can't create this secret because a secret with this name is already "
                                  "scheduled for deletion.")
        version = existing["_versions"].get(token)
        if version is not None and value is not None and version["value"] is not None \
                and value_of(ctx, existing, token) == value:
            # The same request retried with its ClientRequestToken: nothing new happens.
            return {"ARN": existing["ARN"], "Name": name, "VersionId": token}
        raise AwsError("ResourceExistsException", f"The operation failed because the secret {name} already exists.")
    now = ctx.now()
    key_id = p.get("KmsKeyId") or DEFAULT_KEY
    values.key_arn(ctx.kumo, ctx.account, ctx.region, key_id)  # an unknown key fails the create, value or not
    record = {
        "ARN": new_arn(ctx.account, ctx.region, name), "Name": name, "CreatedDate": now, "LastChangedDate": now,
        "RotationEnabled": False, "Tags": check_tags(p.get("Tags")), "_versions": {}, "_key": key_id,
    }
    for member in ("Description", "Type"):
        if p.get(member) is not None:
            record[member] = p[member]
    if p.get("KmsKeyId"):
        record["KmsKeyId"] = p["KmsKeyId"]
    out = {"ARN": record["ARN"], "Name": name}
    if value is not None:
        new_value(ctx, record, token, value, [CURRENT])
        out["VersionId"] = token
    if p.get("AddReplicaRegions"):
        add_regions(ctx, record, p["AddReplicaRegions"], bool(p.get("ForceOverwriteReplicaSecret")))
        out["ReplicationStatus"] = record["ReplicationStatus"]
    save(ctx, record)
    return out


def describe_secret(ctx, p):
    return describe(find(ctx, p["SecretId"], deleted_ok=True))


def update_secret(ctx, p):
    record = find(ctx, p["SecretId"])
    value = _the_value(p)
    now = ctx.now()
    for member in ("Description", "Type"):
        if p.get(member) is not None:
            record[member] = p[member]
    if p.get("KmsKeyId") is not None and p["KmsKeyId"] != record["_key"]:
        _rekey(ctx, record, p["KmsKeyId"] or DEFAULT_KEY)
    out = {"ARN": record["ARN"], "Name": record["Name"]}
    if value is not None:
        token = p.get("ClientRequestToken") or str(uuid.uuid4())
        new_value(ctx, record, token, value, [CURRENT])
        out["VersionId"] = token
    record["LastChangedDate"] = now
    save(ctx, record)
    return out


def _rekey(ctx, record: dict, key_id: str) -> None:
    """A new key re-encrypts the versions that carry AWS's labels; older versions keep their old key."""
    values.key_arn(ctx.kumo, ctx.account, ctx.region, key_id)
    for vid, version in record["_versions"].items():
        if version["value"] is not None and {CURRENT, PENDING, PREVIOUS} & set(version["stages"]):
            plain = value_of(ctx, record, vid)
            version["value"] = values.seal(ctx.kumo, ctx.account, ctx.region, key_id, record["ARN"], vid, plain)
    record["_key"] = key_id
    if key_id == DEFAULT_KEY:
        record.pop("KmsKeyId", None)
    else:
        record["KmsKeyId"] = key_id


def delete_secret(ctx, p):
    force = bool(p.get("ForceDeleteWithoutRecovery"))
    window = p.get("RecoveryWindowInDays")
    if force and window is not None:
        raise invalid_parameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
    if window is not None and not 7 <= window <= 30:
        raise invalid_parameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
    record = find(ctx, p["SecretId"], deleted_ok=True)
    if record.get("ReplicationStatus"):
        raise invalid_request("You can't delete a secret that is replicated to other Regions. Remove the replicas "
                              "first (RemoveRegionsFromReplication).")
    now = ctx.now()
    if force:
        ctx.table("secret").delete(record["Name"])
        return {"ARN": record["ARN"], "Name": record["Name"], "DeletionDate": now}
    if record.get("DeletedDate") is not None:
        raise invalid_request("You can't perform this operation on the secret because it was already scheduled "
                              "for deletion.")
    record["DeletedDate"] = now
    record["_deletion"] = now + (window or DEFAULT_WINDOW) * 86400.0
    save(ctx, record)
    ctx.controllers.enqueue(DELETION, (ctx.scope, record["Name"]), after=record["_deletion"] - now)
    return {"ARN": record["ARN"], "Name": record["Name"], "DeletionDate": record["_deletion"]}


def restore_secret(ctx, p):
    record = find(ctx, p["SecretId"], deleted_ok=True)
    record.pop("DeletedDate", None)
    record.pop("_deletion", None)
    save(ctx, record)
    return {"ARN": record["ARN"], "Name": record["Name"]}


class Deletion(Controller):
    """Deletes each secret whose recovery window has run out on kumo's clock."""

    name = DELETION
    resync_interval = 3600.0

    def __init__(self, kumo):
        self.kumo = kumo

    def keys(self):
        return [(scope, name) for scope, name, r in self.kumo.store.all(SECRET) if r.get("_deletion") is not None]

    async def reconcile(self, key):
        scope, name = key
        store = self.kumo.store
        with store.transaction():
            table = store.table(scope, SECRET)
            record = table.get(name)
            if record is None or record.get("_deletion") is None:
                return None
            left = record["_deletion"] - self.kumo.clock.now()
            if left > 0:
                return left
            table.delete(name)
            return None
