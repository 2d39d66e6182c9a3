"""Log groups: create, delete, describe, retention, KMS key and tags."""

from __future__ import annotations

from ...aws.errors import AwsError
from ...core import pagination
from ...core import tags as tagging
from ..kms import internal as kms
from .model import (RETENTION_DAYS, GROUP_NAME, group_arn, group_name, groups, invalid, need_group, new_group,
                    not_found, streams)
from . import metric_filters, subscriptions
from .runtime import service

GROUP_FIELDS = ("logGroupName", "creationTime", "retentionInDays", "metricFilterCount", "arn", "storedBytes",
                "kmsKeyId", "logGroupClass", "logGroupArn", "deletionProtectionEnabled", "dataProtectionStatus")


def _check_tags(tags: dict, existing: dict | None = None) -> None:
    try:
        tagging.validate(tags, existing)
    except tagging.TagError as exc:
        raise invalid(str(exc))


def create_log_group(ctx, p):
    name = p["logGroupName"]
    if not GROUP_NAME.match(name):
        raise invalid(f"1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy "
                      "constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+")
    table = groups(ctx)
    if name in table:
        raise AwsError("ResourceAlreadyExistsException", "The specified log group already exists")
    tags = p.get("tags") or {}
    _check_tags(tags)
    record = new_group(ctx.region, ctx.account, name, int(ctx.now() * 1000), kmsKeyId=p.get("kmsKeyId"),
                       logGroupClass=p.get("logGroupClass"),
                       deletionProtectionEnabled=p.get("deletionProtectionEnabled"))
    record["_tags"] = dict(tags)
    table.put(name, record)
    return {}


def delete_log_group(ctx, p):
    name = p["logGroupName"]
    group = need_group(ctx, name)
    if group.get("deletionProtectionEnabled"):
        raise AwsError("OperationAbortedException", "Log group deletion is protected; disable deletion "
                                                    "protection first.")
    table = streams(ctx)
    for key in [k for k in table.keys() if k.startswith(f"{name}:")]:
        table.delete(key)
    service(ctx).events.delete_group(ctx.scope, name)
    metric_filters.drop_group(ctx.store, ctx.scope, name)
    subscriptions.drop_group(ctx.store, ctx.scope, name)
    for kind in ("dataprotection", "indexpolicy"):
        ctx.table(kind).delete(name) if name in ctx.table(kind) else None
    groups(ctx).delete(name)
    return {}


def describe_log_groups(ctx, p):
    prefix, pattern = p.get("logGroupNamePrefix"), p.get("logGroupNamePattern")
    if prefix and pattern:
        raise invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
    names = p.get("logGroupIdentifiers")
    if names and (prefix or pattern):
        raise invalid("logGroupIdentifiers cannot be used with logGroupNamePrefix or logGroupNamePattern.")
    items = sorted(groups(ctx).values(), key=lambda g: g["logGroupName"])
    if prefix:
        items = [g for g in items if g["logGroupName"].startswith(prefix)]
    if pattern:
        items = [g for g in items if pattern.lower() in g["logGroupName"].lower()]
    if names:
        wanted = {group_name(ctx, {"logGroupIdentifier": n}) for n in names}
        items = [g for g in items if g["logGroupName"] in wanted]
    if p.get("logGroupClass"):
        items = [g for g in items if g.get("logGroupClass") == p["logGroupClass"]]
    context = repr((prefix, pattern, names, p.get("logGroupClass")))
    try:
        page, token = pagination.paginate(items, p.get("limit") or 50, p.get("nextToken"),
                                          key=lambda g: g["logGroupName"], context=context)
    except pagination.InvalidToken:
        raise invalid("The specified nextToken is invalid.")
    out = {"logGroups": [{k: g[k] for k in GROUP_FIELDS if k in g} for g in page]}
    if token:
        out["nextToken"] = token
    return out


def list_log_groups(ctx, p):
    result = describe_log_groups(ctx, {"logGroupNamePattern": p.get("logGroupNamePattern"),
                                       "logGroupClass": p.get("logGroupClass"), "limit": p.get("limit"),
                                       "nextToken": p.get("nextToken")})
    out = {"logGroups": [{"logGroupName": g["logGroupName"], "logGroupArn": g["logGroupArn"],
                          "logGroupClass": g.get("logGroupClass", "STANDARD")} for g in result["logGroups"]]}
    if "nextToken" in result:
        out["nextToken"] = result["nextToken"]
    return out


def put_retention_policy(ctx, p):
    days = p["retentionInDays"]
    if days not in RETENTION_DAYS:
        raise invalid(f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy "
                      f"constraint: Member must satisfy enum value set: [{', '.join(map(str, RETENTION_DAYS))}]")
    group = need_group(ctx, p["logGroupName"])
    group["retentionInDays"] = days
    groups(ctx).put(group["logGroupName"], group)
    return {}


def delete_retention_policy(ctx, p):
    group = need_group(ctx, p["logGroupName"])
    group.pop("retentionInDays", None)
    groups(ctx).put(group["logGroupName"], group)
    return {}


def _key_target(ctx, p) -> dict:
    """The log group an (Dis)AssociateKmsKey names, by logGroupName or resourceIdentifier (the group's ARN)."""
    name, ident = p.get("logGroupName"), p.get("resourceIdentifier")
    if bool(name) == bool(ident):
        raise invalid("Exactly one of logGroupName or resourceIdentifier must be specified.")
    if ident and ":query-result" in ident:
        raise AwsError("NotImplemented", "kumo does not encrypt Logs Insights query results with a KMS key.",
                       status=501)
    return need_group(ctx, name or group_name(ctx, {"logGroupIdentifier": ident}))


def associate_kms_key(ctx, p):
    group = _key_target(ctx, p)
    try:  # Logs encrypts with the key, so it must exist, be enabled and be a symmetric encryption key
        kms.generate_data_key(ctx.kumo, ctx.account, ctx.region, p["kmsKeyId"])
    except kms.KmsError:
        raise invalid(f"The specified KMS key does not exist or is not allowed to be used with Arn "
                      f"'{group['logGroupArn']}'") from None
    group["kmsKeyId"] = p["kmsKeyId"]
    groups(ctx).put(group["logGroupName"], group)
    return {}


def disassociate_kms_key(ctx, p):
    group = _key_target(ctx, p)
    group.pop("kmsKeyId", None)
    groups(ctx).put(group["logGroupName"], group)
    return {}


# -- tags --------------------------------------------------------------------------------------


def _by_arn(ctx, arn: str) -> dict:
    prefix = group_arn(ctx.region, ctx.account, "")
    name = arn[len(prefix):] if arn.startswith(prefix) else None
    if name and name.endswith(":*"):
        name = name[:-2]
    if not name:
        raise invalid(f"Invalid resource ARN {arn}.")
    group = groups(ctx).get(name)
    if group is None:
        raise not_found(f"The specified resource does not exist: {arn}")
    return group


def _tag(ctx, group: dict, tags: dict) -> dict:
    _check_tags(tags, group.get("_tags"))
    group["_tags"] = {**group.get("_tags", {}), **tags}
    groups(ctx).put(group["logGroupName"], group)
    return {}


def _untag(ctx, group: dict, keys: list[str]) -> dict:
    group["_tags"] = {k: v for k, v in group.get("_tags", {}).items() if k not in set(keys)}
    groups(ctx).put(group["logGroupName"], group)
    return {}


def tag_log_group(ctx, p):
    return _tag(ctx, need_group(ctx, p["logGroupName"]), p["tags"])


def untag_log_group(ctx, p):
    return _untag(ctx, need_group(ctx, p["logGroupName"]), p["tags"])


def list_tags_log_group(ctx, p):
    return {"tags": dict(need_group(ctx, p["logGroupName"]).get("_tags", {}))}


def tag_resource(ctx, p):
    return _tag(ctx, _by_arn(ctx, p["resourceArn"]), p["tags"])


def untag_resource(ctx, p):
    return _untag(ctx, _by_arn(ctx, p["resourceArn"]), p["tagKeys"])


def list_tags_for_resource(ctx, p):
    return {"tags": dict(_by_arn(ctx, p["resourceArn"]).get("_tags", {}))}
