"""Versions and their staging labels: PutSecretValue, GetSecretValue, ListSecretVersionIds,
UpdateSecretVersionStage.

A ClientRequestToken is the new version's id: a retry with the same value is ignored, a different value
under an existing id is refused, and the empty version a rotation started (AWSPENDING, no value yet) takes
the value the rotation function puts.
"""

from __future__ import annotations

import json
import uuid

from ...aws.errors import AwsError
from ...core import pagination
from . import values
from .model import (
    CURRENT, attach, day, detach, find, holder, invalid_parameter, invalid_request, not_found, prune, save,
)


def value_of(ctx, record: dict, vid: str):
    stored = record["_versions"][vid]["value"]
    return values.unseal(ctx.kumo, ctx.account, ctx.region, record["ARN"], vid, stored)


def new_value(ctx, record: dict, token: str, value, stages: list[str]) -> bool:
    """Store ``value`` as version ``token`` with ``stages``; False when the same version was already there."""
    versions = record["_versions"]
    version = versions.get(token)
    if version is not None and version["value"] is not None:
        if value_of(ctx, record, token) == value:
            return False
        raise AwsError("ResourceExistsException", "You can't modify an existing version, you can only create a new "
                                                  "version.")
    sealed = values.seal(ctx.kumo, ctx.account, ctx.region, record["_key"], record["ARN"], token, value)
    now = ctx.now()
    if version is None:
        version = versions[token] = {"created": now, "stages": [], "value": None}
    version["value"] = sealed
    for label in dict.fromkeys(stages):
        attach(record, token, label)
    prune(record)
    record["LastChangedDate"] = now
    return True


def put_secret_value(ctx, p):
    if p.get("SecretString") is not None and p.get("SecretBinary") is not None:
        raise invalid_parameter("You can't specify both a binary secret value and a string secret value in the "
                                "same secret.")
    value = p["SecretString"] if p.get("SecretString") is not None else p.get("SecretBinary")
    if value is None:
        raise invalid_request("You must provide either SecretString or SecretBinary.")
    record = find(ctx, p["SecretId"])
    token = p.get("ClientRequestToken") or str(uuid.uuid4())
    stages = p.get("VersionStages") or [CURRENT]
    new_value(ctx, record, token, value, stages)
    save(ctx, record)
    return {"ARN": record["ARN"], "Name": record["Name"], "VersionId": token,
            "VersionStages": list(record["_versions"][token]["stages"])}


def pick_version(record: dict, version_id: str | None, stage: str | None) -> str:
    """The version GetSecretValue reads: by id, by label (AWSCURRENT by default), or both, which must agree."""
    versions = record["_versions"]
    if version_id is not None:
        version = versions.get(version_id)
        if version is None or version["value"] is None or (stage is not None and stage not in version["stages"]):
            what = f"VersionId: {version_id}" + ("" if stage is None else f" and staging label: {stage}")
            raise not_found(f"Secrets Manager can't find the specified secret value for {what}")
        return version_id
    stage = stage or CURRENT
    vid = holder(record, stage)
    if vid is None or versions[vid]["value"] is None:
        raise not_found(f"Secrets Manager can't find the specified secret value for staging label: {stage}")
    return vid


def read(ctx, record: dict, version_id: str | None, stage: str | None) -> dict:
    """GetSecretValue's answer for one secret; marks it accessed today."""
    vid = pick_version(record, version_id, stage)
    version = record["_versions"][vid]
    plain = value_of(ctx, record, vid)
    out = {"ARN": record["ARN"], "Name": record["Name"], "VersionId": vid, "VersionStages": list(version["stages"]),
           "CreatedDate": version["created"]}
    out["SecretBinary" if isinstance(plain, bytes) else "SecretString"] = plain
    today = day(ctx.now())
    if record.get("LastAccessedDate") != today or version.get("accessed") != today:
        record["LastAccessedDate"] = version["accessed"] = today
        save(ctx, record)
    return out


def get_secret_value(ctx, p):
    return read(ctx, find(ctx, p["SecretId"]), p.get("VersionId"), p.get("VersionStage"))


def list_secret_version_ids(ctx, p):
    record = find(ctx, p["SecretId"], deleted_ok=True)
    deprecated = bool(p.get("IncludeDeprecated"))
    items = []
    for vid, version in sorted(record["_versions"].items(), key=lambda kv: (-kv[1]["created"], kv[0])):
        if not version["stages"] and not deprecated:
            continue
        item = {"VersionId": vid, "CreatedDate": version["created"]}
        if version["stages"]:
            item["VersionStages"] = list(version["stages"])
        if version.get("accessed"):
            item["LastAccessedDate"] = version["accessed"]
        items.append(item)
    context = json.dumps([ctx.account, ctx.region, record["ARN"], deprecated])
    try:
        page, token = pagination.paginate(items, p.get("MaxResults"), p.get("NextToken"),
                                          lambda i: f"{1e11 - i['CreatedDate']:020.6f}|{i['VersionId']}", context)
    except pagination.InvalidToken as exc:
        raise AwsError("InvalidNextTokenException", str(exc)) from None
    out = {"Versions": page, "ARN": record["ARN"], "Name": record["Name"]}
    if token:
        out["NextToken"] = token
    return out


def update_secret_version_stage(ctx, p):
    record = find(ctx, p["SecretId"])
    label, remove_from, move_to = p["VersionStage"], p.get("RemoveFromVersionId"), p.get("MoveToVersionId")
    versions = record["_versions"]
    for vid in (remove_from, move_to):
        if vid is not None and vid not in versions:
            raise invalid_parameter(f"The version {vid} doesn't exist for the specified secret.")
    current = holder(record, label)
    if remove_from is not None and current != remove_from:
        raise invalid_parameter(f"The parameter RemoveFromVersionId doesn't match. Staging label {label} is "
                                f"currently attached to version {current}, not {remove_from}."
                                if current else f"Staging label {label} isn't attached to version {remove_from}.")
    if move_to is not None:
        if current is not None and current != move_to and remove_from is None:
            raise invalid_parameter(f"The parameter RemoveFromVersionId can't be empty. Staging label {label} is "
                                    f"currently attached to version {current}, so you must explicitly reference "
                                    "that version in RemoveFromVersionId.")
        attach(record, move_to, label)
    elif remove_from is not None:
        if label == CURRENT:
            raise invalid_parameter("You can only move staging label AWSCURRENT to a different secret version. It "
                                    "can't be completely removed.")
        detach(record, remove_from, label)
    prune(record)
    record["LastChangedDate"] = ctx.now()
    save(ctx, record)
    return {"ARN": record["ARN"], "Name": record["Name"]}
