"""Secrets Manager's records, names, ARNs, errors, staging labels and the views Describe and List return.

A secret is one record per name in the ``secretsmanager.secret`` table of its account and region, shaped
like DescribeSecret's answer.  Its versions live in ``_versions`` (version id -> created date, staging
labels, the sealed value or None for the empty version a rotation starts with), its KMS key in ``_key``,
its resource policy in ``_policy``, a rotation under way in ``_rotation``, and the moment a scheduled
deletion happens in ``_deletion``.  Values are sealed by ``values.py``: the store never holds plaintext.
"""

from __future__ import annotations

import re
import secrets
import string

from ...aws.errors import AwsError
from ...core.arns import parse_arn

SECRET = "secretsmanager.secret"
DEFAULT_KEY = "alias/aws/secretsmanager"
CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"
MAX_VERSIONS = 100  # versions without labels beyond this many are removed, oldest first, as AWS does
MAX_LABELS = 20  # staging labels on one version

_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]+")
_SUFFIX = string.ascii_letters + string.digits


def scope(account: str, region: str) -> str:
    return f"{account}/{region}"


# -- errors in Secrets Manager's words ------------------------------------------------------------------


def invalid_parameter(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


def invalid_request(message: str) -> AwsError:
    return AwsError("InvalidRequestException", message)


def not_found(message: str = "Secrets Manager can't find the specified secret.") -> AwsError:
    return AwsError("ResourceNotFoundException", message)


def marked_for_deletion() -> AwsError:
    return invalid_request("You can't perform this operation on the secret because it was marked for deletion.")


# -- names and ARNs ---------------------------------------------------------------------------------------


def check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise AwsError("ValidationException", "Invalid name. Must be a valid name containing alphanumeric "
                                              "characters, or any of the following: -/_+=.@!")


def new_arn(account: str, region: str, name: str) -> str:
    suffix = "".join(secrets.choice(_SUFFIX) for _ in range(6))
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-{suffix}"


def lookup(table, secret_id: str) -> dict | None:
    """The record a SecretId names: a name, a full ARN, or an ARN without its random suffix (a partial ARN)."""
    if not secret_id.startswith("arn:"):
        return table.get(secret_id)
    arn = parse_arn(secret_id)
    if arn is None or arn.service != "secretsmanager" or not arn.resource.startswith("secret:"):
        return None
    name = arn.resource[len("secret:"):]
    for candidate in (name, name[:-7] if len(name) > 7 and name[-7] == "-" else None):
        record = table.get(candidate) if candidate else None
        if record is not None and record["ARN"] in (secret_id, f"{secret_id}-{record['ARN'][-6:]}"):
            return record
    return None


def find(ctx, secret_id: str, deleted_ok: bool = False) -> dict:
    """The caller's secret behind SecretId; a secret scheduled for deletion only where ``deleted_ok``."""
    if secret_id.startswith("arn:"):
        arn = parse_arn(secret_id)
        if arn is not None and (arn.account, arn.region) != (ctx.account, ctx.region):
            raise not_found()
    record = lookup(ctx.table("secret"), secret_id)
    if record is None:
        raise not_found()
    if record.get("DeletedDate") is not None and not deleted_ok:
        raise marked_for_deletion()
    if record.get("_replica_of") and ctx.operation not in REPLICA_OPERATIONS:
        raise invalid_request("Operation not permitted on a replica secret. Call must be made in primary secret's "
                              "region.")
    return record


# What a replica (read-only) answers in its own region.
REPLICA_OPERATIONS = {"DescribeSecret", "GetSecretValue", "ListSecretVersionIds", "GetResourcePolicy",
                      "ValidateResourcePolicy", "BatchGetSecretValue", "StopReplicationToReplica"}


def save(ctx, record: dict) -> None:
    """Write the secret (and copy it to its replicas, in the same transaction)."""
    put(ctx.kumo, ctx.scope, record)


def put(kumo, where: str, record: dict) -> None:
    if record.get("ReplicationStatus"):
        from .replication import sync

        sync(kumo, where.split("/")[0], record)
    kumo.store.table(where, SECRET).put(record["Name"], record)


# -- staging labels ----------------------------------------------------------------------------------------


def holder(record: dict, label: str) -> str | None:
    """The version the label is attached to."""
    for vid, version in record["_versions"].items():
        if label in version["stages"]:
            return vid
    return None


def attach(record: dict, vid: str, label: str) -> None:
    """Move ``label`` to version ``vid``; moving AWSCURRENT leaves AWSPREVIOUS on the version it left."""
    versions = record["_versions"]
    old = holder(record, label)
    if old == vid:
        return
    if old is not None:
        versions[old]["stages"].remove(label)
    if len(versions[vid]["stages"]) >= MAX_LABELS:
        raise AwsError("LimitExceededException", f"A version can have at most {MAX_LABELS} staging labels.")
    versions[vid]["stages"].append(label)
    if label == CURRENT and old is not None:
        attach(record, old, PREVIOUS)


def detach(record: dict, vid: str, label: str) -> None:
    stages = record["_versions"][vid]["stages"]
    if label in stages:
        stages.remove(label)


def prune(record: dict) -> None:
    """Versions without labels past MAX_VERSIONS go, oldest first."""
    versions = record["_versions"]
    extra = len(versions) - MAX_VERSIONS
    if extra <= 0:
        return
    for vid in sorted((v for v, ver in versions.items() if not ver["stages"]), key=lambda v: versions[v]["created"]):
        if extra <= 0:
            break
        del versions[vid]
        extra -= 1


def stages_map(record: dict, deprecated: bool = False) -> dict[str, list[str]]:
    return {vid: list(v["stages"]) for vid, v in record["_versions"].items() if v["stages"] or deprecated}


# -- views ----------------------------------------------------------------------------------------------


_VIEW = ("ARN", "Name", "Type", "Description", "KmsKeyId", "RotationEnabled", "RotationLambdaARN", "RotationRules",
         "LastRotatedDate", "LastChangedDate", "LastAccessedDate", "DeletedDate", "NextRotationDate", "Tags",
         "CreatedDate", "PrimaryRegion", "ReplicationStatus")


def describe(record: dict) -> dict:
    out = {k: record[k] for k in _VIEW if record.get(k) is not None}
    out["RotationEnabled"] = bool(record.get("RotationEnabled"))
    if not out.get("Tags"):
        out.pop("Tags", None)
    versions = stages_map(record)
    if versions:
        out["VersionIdsToStages"] = versions
    return out


def list_entry(record: dict) -> dict:
    out = describe(record)
    out.pop("ReplicationStatus", None)
    versions = out.pop("VersionIdsToStages", None)
    if versions:
        out["SecretVersionsToStages"] = versions
    return out


def day(now: float) -> float:
    """LastAccessedDate is kept to the day, as AWS keeps it."""
    return float(int(now // 86400) * 86400)
