"""Key lifecycle: CreateKey, DescribeKey, ListKeys, Enable/DisableKey, UpdateKeyDescription, deletion."""

from __future__ import annotations

import asyncio
import json

from ...aws.errors import AwsError
from ...core import pagination
from . import keyspecs
from .model import (
    KmsError, check_customer_managed, finder, invalid_state, metadata, new_key_id, state_error, validation,
)
from .tagging import checked_tags

DAY = 86400.0
_DEFAULT_PAGE = 100  # ListKeys' Limit when none is given, as KMS documents it
_UNSUPPORTED_ORIGINS = ("EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE")


def _spec_and_usage(p) -> tuple[str, str]:
    spec, legacy = p.get("KeySpec"), p.get("CustomerMasterKeySpec")
    if spec and legacy:
        raise validation("You cannot specify KeySpec and CustomerMasterKeySpec in the same request. "
                         "CustomerMasterKeySpec parameter is deprecated. Use KeySpec parameter instead.")
    spec = spec or legacy or "SYMMETRIC_DEFAULT"
    usage = p.get("KeyUsage") or "ENCRYPT_DECRYPT"
    if spec.startswith("HMAC_") and not p.get("KeyUsage"):
        raise validation("You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.")
    allowed = keyspecs.USAGES.get(spec)
    if allowed is None:
        raise KmsError("UnsupportedOperationException", f"kumo does not implement {spec} keys.")
    if usage not in allowed:
        raise validation(f"The operation failed because the KeyUsage value of the KMS key is not compatible "
                         f"with the KeySpec. KeySpec {spec} supports KeyUsage {', '.join(allowed)}.")
    return spec, usage


def check_policy(text: str) -> None:
    try:
        doc = json.loads(text)
    except ValueError:
        raise KmsError("MalformedPolicyDocumentException", "The new key policy will not allow you to update "
                                                            "the key policy in the future.") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("Statement"), (list, dict)):
        raise KmsError("MalformedPolicyDocumentException", "Policy contains a statement with no principal.")


def _new_record(ctx, p, key_id: str, private_der: bytes | None) -> dict:
    spec, usage = _spec_and_usage(p)
    return keyspecs.new_record(
        ctx.account, ctx.region, key_id, ctx.now(), spec=spec, usage=usage,
        description=p.get("Description") or "", multi_region=bool(p.get("MultiRegion")),
        private_der=private_der, policy=p.get("Policy"), tags=p.get("Tags"))


def create_key(ctx, p):
    spec, _usage = _spec_and_usage(p)
    origin = p.get("Origin") or "AWS_KMS"
    if origin in _UNSUPPORTED_ORIGINS or p.get("CustomKeyStoreId") or p.get("XksKeyId"):
        raise KmsError("UnsupportedOperationException",
                       f"kumo keeps all key material itself: Origin {origin} and custom key stores are not supported.")
    if p.get("Policy") is not None:
        check_policy(p["Policy"])
    checked_tags([], p.get("Tags"))
    key_id = ("mrk-" + new_key_id().replace("-", "")) if p.get("MultiRegion") else new_key_id()
    if spec not in keyspecs.RSA_BITS:  # AES and ECC material take well under a millisecond
        record = _new_record(ctx, p, key_id, None)
        finder(ctx).save(record)
        return {"KeyMetadata": metadata(record)}
    return _create_rsa(ctx, p, key_id, spec)


async def _create_rsa(ctx, p, key_id: str, spec: str):
    # RSA generation takes 0.2-1.5 s (measured): made in a thread, which leaves the loop free, then committed.
    private_der = await asyncio.to_thread(keyspecs.private_key_der, spec)
    with ctx.store.transaction():
        record = _new_record(ctx, p, key_id, private_der)
        finder(ctx).save(record)
    return {"KeyMetadata": metadata(record)}


def describe_key(ctx, p):
    return {"KeyMetadata": metadata(finder(ctx).key(p["KeyId"]))}


def list_keys(ctx, p):
    items = sorted(finder(ctx).keys().values(), key=lambda r: r["KeyId"])
    try:
        page, token = pagination.paginate(items, p.get("Limit"), p.get("Marker"), lambda r: r["KeyId"],
                                          f"kms-keys|{ctx.account}|{ctx.region}", default_limit=_DEFAULT_PAGE)
    except pagination.InvalidToken:
        raise AwsError("InvalidMarkerException", "Invalid marker.") from None
    out = {"Keys": [{"KeyId": r["KeyId"], "KeyArn": r["Arn"]} for r in page], "Truncated": bool(token)}
    if token:
        out["NextMarker"] = token
    return out


def _own_key(ctx, key_id: str) -> dict:
    """A key the caller manages: in its own account, by id or key ARN (aliases are not accepted)."""
    return finder(ctx).key(key_id, aliases=False, other_accounts=False)


def _set_enabled(ctx, p, enabled: bool, operation: str) -> dict:
    record = _own_key(ctx, p["KeyId"])
    check_customer_managed(record, operation)
    if record["KeyState"] not in ("Enabled", "Disabled"):
        raise state_error(record)
    record.update(KeyState="Enabled" if enabled else "Disabled", Enabled=enabled)
    finder(ctx).save(record)
    return {}


def enable_key(ctx, p):
    return _set_enabled(ctx, p, True, "EnableKey")


def disable_key(ctx, p):
    return _set_enabled(ctx, p, False, "DisableKey")


def update_key_description(ctx, p):
    record = _own_key(ctx, p["KeyId"])
    check_customer_managed(record, "UpdateKeyDescription")
    if record["KeyState"] == "PendingDeletion":
        raise invalid_state(f"{record['Arn']} is pending deletion.")
    record["Description"] = p["Description"]
    finder(ctx).save(record)
    return {}


def schedule_key_deletion(ctx, p):
    record = _own_key(ctx, p["KeyId"])
    check_customer_managed(record, "ScheduleKeyDeletion")
    days = p.get("PendingWindowInDays")
    days = 30 if days is None else days
    if not 7 <= days <= 30:
        raise validation(f"1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy "
                         "constraint: Member must have value less than or equal to 30" if days > 30 else
                         f"1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy "
                         "constraint: Member must have value greater than or equal to 7")
    if record["KeyState"] == "PendingDeletion":
        raise invalid_state(f"{record['Arn']} is pending deletion.")
    record.update(KeyState="PendingDeletion", Enabled=False, DeletionDate=ctx.now() + days * DAY)
    record["_pending_days"] = days
    finder(ctx).save(record)
    ctx.kumo.controllers.enqueue("kms-keys", f"{ctx.scope}|{record['KeyId']}")
    return {"KeyId": record["Arn"], "DeletionDate": record["DeletionDate"], "KeyState": "PendingDeletion",
            "PendingWindowInDays": days}


def cancel_key_deletion(ctx, p):
    record = _own_key(ctx, p["KeyId"])
    check_customer_managed(record, "CancelKeyDeletion")
    if record["KeyState"] != "PendingDeletion":
        raise invalid_state(f"{record['Arn']} is not pending deletion.")
    # A key whose deletion is cancelled comes back disabled, as on AWS.
    record.update(KeyState="Disabled", Enabled=False)
    record.pop("DeletionDate", None)
    record.pop("_pending_days", None)
    finder(ctx).save(record)
    return {"KeyId": record["Arn"]}
