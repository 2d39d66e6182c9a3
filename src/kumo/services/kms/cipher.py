"""Symmetric Encrypt and Decrypt on key records, shared by the API and the facade."""

from __future__ import annotations

from . import envelope
from .model import KmsError, check_usable, check_usage

MAX_PLAINTEXT = 4096


def invalid_ciphertext() -> KmsError:
    return KmsError("InvalidCiphertextException", "")


def encrypt(record: dict, plaintext: bytes, context: dict | None) -> bytes:
    check_usable(record)
    check_usage(record, "ENCRYPT_DECRYPT", "Encrypt")
    if record["KeySpec"] != "SYMMETRIC_DEFAULT":
        raise KmsError("InvalidKeyUsageException", f"{record['Arn']} requires an EncryptionAlgorithm.")
    if len(plaintext) > MAX_PLAINTEXT:
        raise KmsError("ValidationException", "1 validation error detected: Value at 'plaintext' failed to "
                                              "satisfy constraint: Member must have length less than or equal "
                                              f"to {MAX_PLAINTEXT}")
    versions = record["_material"]
    return envelope.seal(versions[-1], record["Arn"], len(versions) - 1, plaintext, context)


def blob_key_arn(blob: bytes) -> str:
    """The ARN of the key a ciphertext names; InvalidCiphertextException if it is none of kumo's."""
    try:
        return envelope.header(blob).key_arn
    except envelope.BadBlob:
        raise invalid_ciphertext() from None


def decrypt(record: dict, blob: bytes, context: dict | None) -> bytes:
    """Open ``blob`` with the key it names (``record``): any change to it or its context is refused."""
    check_usable(record)
    try:
        head = envelope.header(blob)
    except envelope.BadBlob:
        raise invalid_ciphertext() from None
    versions = record.get("_material") or []
    if head.key_arn != record["Arn"] or head.version >= len(versions):
        raise invalid_ciphertext()
    try:
        return envelope.open_(versions[head.version], blob, context)
    except envelope.BadBlob:
        raise invalid_ciphertext() from None
