"""GenerateDataKeyPair(WithoutPlaintext): an RSA or ECC key pair, its private key encrypted under a symmetric key."""

from __future__ import annotations

import asyncio

from cryptography.hazmat.primitives import serialization

from . import cipher, keyspecs
from .model import KmsError, check_usable, check_usage, dry_run, finder
from .symmetric import unsupported_recipient


def _key(ctx, p) -> dict:
    spec = p["KeyPairSpec"]
    if spec not in keyspecs.RSA_BITS and spec not in keyspecs.CURVES:
        raise KmsError("UnsupportedOperationException", f"kumo does not make {spec} key pairs.")
    record = finder(ctx).key(p["KeyId"])
    check_usable(record)
    check_usage(record, "ENCRYPT_DECRYPT", "GenerateDataKeyPair")
    if record["KeySpec"] != "SYMMETRIC_DEFAULT":
        raise KmsError("InvalidKeyUsageException", f"{record['Arn']} key usage is not valid for GenerateDataKeyPair: "
                                                   "data key pairs are encrypted under symmetric keys only.")
    dry_run(p)
    return record


async def _pair(ctx, p, record: dict) -> dict:
    # RSA generation takes up to a second or two: in a thread, which leaves the loop free.
    private = await asyncio.to_thread(keyspecs.private_key_der, p["KeyPairSpec"])
    public = serialization.load_der_private_key(private, password=None).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    # Encrypted now, with the key as it is now (a rotation meanwhile would still decrypt it).
    record = finder(ctx).key(record["Arn"], aliases=False)
    return {"PrivateKeyCiphertextBlob": cipher.encrypt(record, private, p.get("EncryptionContext")),
            "PrivateKeyPlaintext": private, "PublicKey": public, "KeyId": record["Arn"],
            "KeyPairSpec": p["KeyPairSpec"]}


def generate_data_key_pair(ctx, p):
    unsupported_recipient(p)
    return _pair(ctx, p, _key(ctx, p))


def generate_data_key_pair_without_plaintext(ctx, p):
    record = _key(ctx, p)  # checked inside the request's transaction, as every handler's

    async def without_plaintext():
        out = await _pair(ctx, p, record)
        del out["PrivateKeyPlaintext"]
        return out

    return without_plaintext()
