"""Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases (alias/aws/ is AWS's own prefix)."""

from __future__ import annotations

import re

from ...aws.errors import AwsError
from ...core import pagination
from .model import KmsError, alias_arn, finder, invalid_state

_NAME = re.compile(r"[a-zA-Z0-9:/_-]+")


def _checked_name(name: str) -> str:
    if not name.startswith("alias/"):
        raise KmsError("ValidationException", 'Alias must start with the prefix "alias/". Please see '
                                              "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html")
    if not _NAME.fullmatch(name):
        raise KmsError("ValidationException", f"1 validation error detected: Value '{name}' at 'aliasName' failed "
                                              "to satisfy constraint: Member must satisfy regular expression "
                                              "pattern: ^[a-zA-Z0-9:/_-]+$")
    if name.startswith("alias/aws/"):
        raise AwsError("NotAuthorizedException", "", status=400)
    return name


def _target(ctx, key_id: str) -> dict:
    record = finder(ctx).key(key_id, aliases=False, other_accounts=False)
    if record["KeyManager"] == "AWS":
        raise AwsError("NotAuthorizedException", "", status=400)
    if record["KeyState"] == "PendingDeletion":
        raise invalid_state(f"{record['Arn']} is pending deletion.")
    return record


def create_alias(ctx, p):
    name = _checked_name(p["AliasName"])
    record = _target(ctx, p["TargetKeyId"])
    table = finder(ctx).aliases()
    if name in table:
        raise KmsError("AlreadyExistsException", f"An alias with the name {alias_arn(ctx.account, ctx.region, name)} "
                                                 "already exists")
    now = ctx.now()
    table.put(name, {"AliasName": name, "AliasArn": alias_arn(ctx.account, ctx.region, name),
                     "TargetKeyId": record["KeyId"], "CreationDate": now, "LastUpdatedDate": now})
    return {}


def _existing(ctx, name: str) -> dict:
    _checked_name(name)
    alias = finder(ctx).aliases().get(name)
    if alias is None:
        raise KmsError("NotFoundException", f"Alias {alias_arn(ctx.account, ctx.region, name)} is not found.")
    return alias


def update_alias(ctx, p):
    alias = _existing(ctx, p["AliasName"])
    record = _target(ctx, p["TargetKeyId"])
    current = finder(ctx).keys().get(alias["TargetKeyId"])
    # An alias moves only between keys of one kind (type and usage), as AWS requires.
    if current is not None and (current["KeySpec"], current["KeyUsage"]) != (record["KeySpec"], record["KeyUsage"]):
        raise KmsError("ValidationException", f"Alias {alias['AliasArn']} cannot be changed from a key of spec "
                                              f"{current['KeySpec']} and usage {current['KeyUsage']} to one of spec "
                                              f"{record['KeySpec']} and usage {record['KeyUsage']}.")
    alias.update(TargetKeyId=record["KeyId"], LastUpdatedDate=ctx.now())
    finder(ctx).aliases().put(alias["AliasName"], alias)
    return {}


def delete_alias(ctx, p):
    alias = _existing(ctx, p["AliasName"])
    finder(ctx).aliases().delete(alias["AliasName"])
    return {}


def list_aliases(ctx, p):
    items = finder(ctx).aliases().values()
    if p.get("KeyId"):
        record = finder(ctx).key(p["KeyId"], aliases=False, other_accounts=False)
        items = [a for a in items if a["TargetKeyId"] == record["KeyId"]]
    items.sort(key=lambda a: a["AliasName"])
    try:
        page, token = pagination.paginate(items, p.get("Limit"), p.get("Marker"), lambda a: a["AliasName"],
                                          f"kms-aliases|{ctx.account}|{ctx.region}|{p.get('KeyId')}",
                                          default_limit=50)
    except pagination.InvalidToken:
        raise AwsError("InvalidMarkerException", "Invalid marker.") from None
    out = {"Aliases": page, "Truncated": bool(token)}
    if token:
        out["NextMarker"] = token
    return out
