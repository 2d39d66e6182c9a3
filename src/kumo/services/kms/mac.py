"""HMAC keys: GenerateMac and VerifyMac (HMAC_SHA_224/256/384/512 over up to 4096 bytes)."""

from __future__ import annotations

from cryptography.hazmat.primitives import constant_time, hashes, hmac

from .model import KmsError, check_usable, check_usage, dry_run, finder

_HASHES = {"224": hashes.SHA224, "256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def _mac(ctx, p, operation: str) -> tuple[dict, bytes]:
    record = finder(ctx).key(p["KeyId"])
    check_usable(record)
    check_usage(record, "GENERATE_VERIFY_MAC", operation)
    if p["MacAlgorithm"] not in record.get("MacAlgorithms", []):
        raise KmsError("InvalidKeyUsageException",
                       f"Algorithm {p['MacAlgorithm']} is incompatible with key spec {record['KeySpec']}.")
    h = hmac.HMAC(record["_hmac"], _HASHES[p["MacAlgorithm"].rsplit("_", 1)[-1]]())
    h.update(p["Message"])
    return record, h.finalize()


def generate_mac(ctx, p):
    record, mac = _mac(ctx, p, "GenerateMac")
    dry_run(p)
    return {"Mac": mac, "MacAlgorithm": p["MacAlgorithm"], "KeyId": record["Arn"]}


def verify_mac(ctx, p):
    record, mac = _mac(ctx, p, "VerifyMac")
    if not constant_time.bytes_eq(mac, p["Mac"]):
        raise KmsError("KMSInvalidMacException", "")
    dry_run(p)
    return {"KeyId": record["Arn"], "MacValid": True, "MacAlgorithm": p["MacAlgorithm"]}
