"""Key rotation: each rotation adds AES material; blobs name their version, so older ones still decrypt."""

from __future__ import annotations

import os

from ...aws.errors import AwsError
from ...core import pagination
from .model import KmsError, check_customer_managed, check_usable, finder

DAY = 86400.0
DEFAULT_PERIOD_DAYS = 365


def _rotatable(ctx, key_id: str, operation: str, managed_ok: bool = False) -> dict:
    record = finder(ctx).key(key_id, aliases=False, other_accounts=operation == "GetKeyRotationStatus")
    if not managed_ok:
        check_customer_managed(record, operation)
    if record["KeySpec"] != "SYMMETRIC_DEFAULT":
        raise KmsError("UnsupportedOperationException",
                       f"{record['Arn']} key usage is not supported for {operation}: only symmetric encryption "
                       "keys rotate automatically.")
    return record


def next_rotation(record: dict) -> float | None:
    rotation = record["_rotation"]
    if not rotation["enabled"]:
        return None
    return rotation["since"] + rotation["period_days"] * DAY


def rotate(record: dict, now: float, kind: str) -> None:
    """New material for the key's new ciphertexts; the old versions stay for the ones made before."""
    record["_material"].append(os.urandom(32))
    record["_rotations"].append({"KeyId": record["Arn"], "RotationDate": now, "RotationType": kind})
    record["_rotation"]["since"] = now


def enable_key_rotation(ctx, p):
    record = _rotatable(ctx, p["KeyId"], "EnableKeyRotation")
    check_usable(record)
    period = p.get("RotationPeriodInDays") or record["_rotation"].get("period_days") or DEFAULT_PERIOD_DAYS
    if not record["_rotation"]["enabled"]:
        record["_rotation"]["since"] = ctx.now()
    record["_rotation"].update(enabled=True, period_days=period)
    finder(ctx).save(record)
    ctx.kumo.controllers.enqueue("kms-keys", f"{ctx.scope}|{record['KeyId']}")
    return {}


def disable_key_rotation(ctx, p):
    record = _rotatable(ctx, p["KeyId"], "DisableKeyRotation")
    check_usable(record)
    record["_rotation"]["enabled"] = False
    finder(ctx).save(record)
    return {}


def get_key_rotation_status(ctx, p):
    record = _rotatable(ctx, p["KeyId"], "GetKeyRotationStatus", managed_ok=True)
    if record["KeyState"] == "PendingDeletion":
        raise KmsError("KMSInvalidStateException", f"{record['Arn']} is pending deletion.")
    out = {"KeyRotationEnabled": record["_rotation"]["enabled"], "KeyId": record["Arn"]}
    if record["_rotation"]["enabled"]:
        out["RotationPeriodInDays"] = record["_rotation"]["period_days"]
        out["NextRotationDate"] = next_rotation(record)
    return out


def rotate_key_on_demand(ctx, p):
    record = _rotatable(ctx, p["KeyId"], "RotateKeyOnDemand")
    check_usable(record)
    rotate(record, ctx.now(), "ON_DEMAND")
    finder(ctx).save(record)
    return {"KeyId": record["Arn"]}


def list_key_rotations(ctx, p):
    record = _rotatable(ctx, p["KeyId"], "ListKeyRotations", managed_ok=True)
    items = list(record["_rotations"])
    try:
        page, token = pagination.paginate(items, p.get("Limit"), p.get("Marker"),
                                          lambda r: f"{r['RotationDate']:020.6f}", f"kms-rot|{record['Arn']}")
    except pagination.InvalidToken:
        raise AwsError("InvalidMarkerException", "Invalid marker.") from None
    out = {"Rotations": page, "Truncated": bool(token)}
    if token:
        out["NextMarker"] = token
    return out
