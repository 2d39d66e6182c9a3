"""Replica secrets in other regions: AddReplicaRegions, ReplicateSecretToRegions, RemoveRegionsFromReplication,
StopReplicationToReplica.

A replica is a record of its own in the other region's table, under the same name, with the primary's ARN
but for the region, ``PrimaryRegion`` and ``_replica_of``.  Its values are sealed again there, under the
replica's own KMS key in that region (``alias/aws/secretsmanager`` unless the replica names one), and only
for versions whose sealed value changed since the last copy.  Every committed change of the primary copies
itself to its replicas in the same transaction (``sync``), so a replica is never behind what the primary
answered.  Replicas are read-only: only the primary's region changes them.
"""

from __future__ import annotations

import copy
import re

from ...aws.errors import AwsError
from . import values
from .model import DEFAULT_KEY, SECRET, find, invalid_parameter, invalid_request, save, scope

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]")
# What a replica shows of its primary (besides versions, which are sealed again).
_COPIED = ("Description", "Type", "Tags", "RotationEnabled", "RotationLambdaARN", "RotationRules", "LastRotatedDate",
           "NextRotationDate", "LastChangedDate", "CreatedDate", "_policy")


def replica_arn(arn: str, region: str) -> str:
    parts = arn.split(":")
    parts[3] = region
    return ":".join(parts)


def _status(region: str, key_id: str | None, ok: bool, message: str) -> dict:
    return {"Region": region, "KmsKeyId": key_id or DEFAULT_KEY, "Status": "InSync" if ok else "Failed",
            "StatusMessage": message}


def _copy_to(kumo, account: str, primary: dict, region: str, key_id: str, force: bool) -> tuple[bool, str]:
    """Write the replica in ``region``; (done, status message)."""
    table = kumo.store.table(scope(account, region), SECRET)
    replica = table.get(primary["Name"])
    if replica is not None and replica.get("_replica_of") != primary["ARN"]:
        if not force:
            return False, "Replication failed: Secret name already exists in region."
        replica = None
    if replica is None:
        replica = {"ARN": replica_arn(primary["ARN"], region), "Name": primary["Name"], "_versions": {}}
    replica.update({"PrimaryRegion": primary["ARN"].split(":")[3], "_replica_of": primary["ARN"], "_key": key_id})
    for member in _COPIED:
        if primary.get(member) is not None:
            replica[member] = copy.deepcopy(primary[member])
        else:
            replica.pop(member, None)
    if key_id != DEFAULT_KEY:
        replica["KmsKeyId"] = key_id
    versions = {}
    for vid, version in primary["_versions"].items():
        old = replica["_versions"].get(vid)
        mine = {"created": version["created"], "stages": list(version["stages"]), "value": None, "_src": None}
        if version["value"] is not None:
            if old is not None and old.get("_src") == version["value"]["data"] and old.get("_key") == key_id:
                mine["value"] = old["value"]
            else:
                plain = values.unseal(kumo, account, primary["ARN"].split(":")[3], primary["ARN"], vid,
                                      version["value"])
                mine["value"] = values.seal(kumo, account, region, key_id, replica["ARN"], vid, plain)
            mine["_src"], mine["_key"] = version["value"]["data"], key_id
        versions[vid] = mine
    replica["_versions"] = versions
    table.put(primary["Name"], replica)
    return True, "Replication succeeded"


def sync(kumo, account: str, primary: dict, force: bool = False) -> None:
    """Copy the primary to each of its replicas (in the caller's transaction), recording each one's status."""
    statuses = []
    for status in primary.get("ReplicationStatus") or []:
        key_id = status.get("KmsKeyId") or DEFAULT_KEY
        try:
            ok, message = _copy_to(kumo, account, primary, status["Region"], key_id, force)
        except AwsError as exc:
            ok, message = False, f"Replication failed: {exc.message}"
        statuses.append(_status(status["Region"], key_id, ok, message))
    primary["ReplicationStatus"] = statuses


def add_regions(ctx, record: dict, wanted: list[dict], force: bool) -> None:
    here = {s["Region"] for s in record.get("ReplicationStatus") or []}
    statuses = list(record.get("ReplicationStatus") or [])
    for item in wanted:
        region = item.get("Region") or ""
        if not _REGION.fullmatch(region) or region == ctx.region:
            raise invalid_parameter(f"Invalid replica region: {region}.")
        if region not in here:
            here.add(region)
            statuses.append({"Region": region, "KmsKeyId": item.get("KmsKeyId") or DEFAULT_KEY})
    record["ReplicationStatus"] = statuses
    sync(ctx.kumo, ctx.account, record, force)


def drop_replica(kumo, account: str, primary: dict, region: str) -> None:
    table = kumo.store.table(scope(account, region), SECRET)
    replica = table.get(primary["Name"])
    if replica is not None and replica.get("_replica_of") == primary["ARN"]:
        table.delete(primary["Name"])


def _answer(record: dict) -> dict:
    return {"ARN": record["ARN"], "ReplicationStatus": list(record.get("ReplicationStatus") or [])}


def replicate_secret_to_regions(ctx, p):
    record = find(ctx, p["SecretId"])
    add_regions(ctx, record, p["AddReplicaRegions"], bool(p.get("ForceOverwriteReplicaSecret")))
    save(ctx, record)
    return _answer(record)


def remove_regions_from_replication(ctx, p):
    record = find(ctx, p["SecretId"])
    gone = set(p["RemoveReplicaRegions"])
    for region in gone:
        drop_replica(ctx.kumo, ctx.account, record, region)
    record["ReplicationStatus"] = [s for s in record.get("ReplicationStatus") or [] if s["Region"] not in gone]
    if not record["ReplicationStatus"]:
        record.pop("ReplicationStatus")
    save(ctx, record)
    return _answer(record)


def stop_replication_to_replica(ctx, p):
    """Called in the replica's region: the replica becomes a standalone secret; its primary forgets it."""
    replica = find(ctx, p["SecretId"])
    primary_arn = replica.get("_replica_of")
    if not primary_arn:
        raise invalid_request("The secret is not a replica secret.")
    primary_region = replica["PrimaryRegion"]
    table = ctx.kumo.store.table(scope(ctx.account, primary_region), SECRET)
    primary = table.get(replica["Name"])
    if primary is not None and primary["ARN"] == primary_arn:
        primary["ReplicationStatus"] = [s for s in primary.get("ReplicationStatus") or []
                                        if s["Region"] != ctx.region]
        if not primary["ReplicationStatus"]:
            primary.pop("ReplicationStatus")
        table.put(primary["Name"], primary)
    replica.pop("_replica_of")
    replica.pop("PrimaryRegion")
    for version in replica["_versions"].values():
        version.pop("_src", None)
        version.pop("_key", None)
    ctx.table("secret").put(replica["Name"], replica)
    return {"ARN": replica["ARN"]}
