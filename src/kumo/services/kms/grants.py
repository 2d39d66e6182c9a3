"""Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant.

Stored and listed, not enforced, like key policies.
"""

from __future__ import annotations

import secrets

from ...core import pagination
from .model import KmsError, dry_run, finder, scope, state_error

GRANT = "kms.grant"
_SYMMETRIC_OPS = {"Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom",
                  "ReEncryptTo", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext"}
_SIGNING_OPS = {"Sign", "Verify", "GetPublicKey"}
_COMMON_OPS = {"CreateGrant", "DescribeKey", "RetireGrant"}


def _table(ctx, account: str | None = None):
    return ctx.kumo.store.table(scope(account or ctx.account, ctx.region), GRANT)


def _check_operations(record: dict, operations: list[str]) -> None:
    allowed = _COMMON_OPS | (_SIGNING_OPS if record["KeyUsage"] == "SIGN_VERIFY" else _SYMMETRIC_OPS)
    if record["KeySpec"] != "SYMMETRIC_DEFAULT" and record["KeyUsage"] == "ENCRYPT_DECRYPT":
        allowed = _COMMON_OPS | {"Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GetPublicKey"}
    bad = [op for op in operations if op not in allowed]
    if bad:
        raise KmsError("ValidationException", f"Grant operations {', '.join(bad)} are not valid for a key of spec "
                                              f"{record['KeySpec']} and usage {record['KeyUsage']}.")


def _entry(grant: dict) -> dict:
    return {k: v for k, v in grant.items() if not k.startswith("_")}


def create_grant(ctx, p):
    record = finder(ctx).key(p["KeyId"], aliases=False)
    if record["KeyState"] == "PendingDeletion":
        raise state_error(record)
    _check_operations(record, p["Operations"])
    dry_run(p)
    table = _table(ctx, record["AWSAccountId"])
    wanted = {"KeyId": record["Arn"], "GranteePrincipal": p["GranteePrincipal"], "Operations": list(p["Operations"])}
    for optional in ("RetiringPrincipal", "Constraints", "Name"):
        if p.get(optional) is not None:
            wanted[optional] = p[optional]
    if p.get("Name"):
        # A repeated CreateGrant with the same name and grant answers the existing grant, as KMS does.
        for grant in table.values():
            if grant["KeyId"] == record["Arn"] and all(grant.get(k) == v for k, v in wanted.items()):
                return {"GrantId": grant["GrantId"], "GrantToken": grant["_token"]}
    grant_id = secrets.token_hex(32)
    grant = {**wanted, "GrantId": grant_id, "CreationDate": ctx.now(),
             "IssuingAccount": f"arn:aws:iam::{ctx.account}:root", "_token": secrets.token_urlsafe(96)}
    table.put(grant_id, grant)
    return {"GrantId": grant_id, "GrantToken": grant["_token"]}


def _page(items: list[dict], p, context: str) -> dict:
    items.sort(key=lambda g: (g["CreationDate"], g["GrantId"]))
    try:
        page, token = pagination.paginate(items, p.get("Limit"), p.get("Marker"),
                                          lambda g: f"{g['CreationDate']:020.6f}|{g['GrantId']}", context,
                                          default_limit=50)
    except pagination.InvalidToken:
        raise KmsError("InvalidMarkerException", "Invalid marker.") from None
    out = {"Grants": [_entry(g) for g in page], "Truncated": bool(token)}
    if token:
        out["NextMarker"] = token
    return out


def list_grants(ctx, p):
    record = finder(ctx).key(p["KeyId"], aliases=False)
    items = [g for g in _table(ctx, record["AWSAccountId"]).values() if g["KeyId"] == record["Arn"]]
    if p.get("GrantId"):
        items = [g for g in items if g["GrantId"] == p["GrantId"]]
    if p.get("GranteePrincipal"):
        items = [g for g in items if g["GranteePrincipal"] == p["GranteePrincipal"]]
    return _page(items, p, f"kms-grants|{record['Arn']}|{p.get('GrantId')}|{p.get('GranteePrincipal')}")


def list_retirable_grants(ctx, p):
    items = [g for g in _table(ctx).values() if g.get("RetiringPrincipal") == p["RetiringPrincipal"]]
    return _page(items, p, f"kms-retirable|{ctx.account}|{ctx.region}|{p['RetiringPrincipal']}")


def _find(ctx, key_id: str, grant_id: str) -> tuple[object, dict]:
    record = finder(ctx).key(key_id, aliases=False)
    table = _table(ctx, record["AWSAccountId"])
    grant = table.get(grant_id)
    if grant is None or grant["KeyId"] != record["Arn"]:
        raise KmsError("NotFoundException", f"Grant ID {grant_id} not found")
    return table, grant


def retire_grant(ctx, p):
    if p.get("GrantToken"):
        for grant in _table(ctx).values():
            if grant["_token"] == p["GrantToken"]:
                dry_run(p)
                _table(ctx).delete(grant["GrantId"])
                return {}
        raise KmsError("InvalidGrantTokenException", "Invalid grant token.")
    if not (p.get("KeyId") and p.get("GrantId")):
        raise KmsError("ValidationException", "Either GrantToken or both KeyId and GrantId must be specified.")
    table, grant = _find(ctx, p["KeyId"], p["GrantId"])
    dry_run(p)
    table.delete(grant["GrantId"])
    return {}


def revoke_grant(ctx, p):
    table, grant = _find(ctx, p["KeyId"], p["GrantId"])
    dry_run(p)
    table.delete(grant["GrantId"])
    return {}
