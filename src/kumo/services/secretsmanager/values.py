"""Secret values sealed with KMS, the way AWS does it: envelope encryption.

Each version gets a fresh data key from ``kms.internal.generate_data_key`` (encryption context: the
secret's ARN and the version id, as AWS uses); the value is encrypted with AES-256-GCM under it and only
the KMS blob of the data key is kept beside the ciphertext.  KMS caps Encrypt at 4 KB, secrets go to 64 KB.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ...aws.errors import AwsError
from ..kms import internal as kms


def _context(arn: str, vid: str) -> dict:
    return {"SecretARN": arn, "SecretVersionId": vid}


def _aad(arn: str, vid: str) -> bytes:
    return f"{arn}\n{vid}".encode()


def encryption_failure(exc: Exception) -> AwsError:
    return AwsError("EncryptionFailure", "Secrets Manager can't encrypt the protected secret text using the provided "
                                         f"KMS key. Check that the KMS key is available, enabled, and not in an "
                                         f"invalid state. ({exc})")


def decryption_failure(exc: Exception) -> AwsError:
    return AwsError("DecryptionFailure", "Secrets Manager can't decrypt the protected secret text using the provided "
                                         f"KMS key. ({exc})")


def key_arn(kumo, account: str, region: str, key_id: str) -> str:
    try:
        return kms.resolve_key(kumo, account, region, key_id)
    except kms.KmsError as exc:
        raise encryption_failure(exc) from None


def seal(kumo, account: str, region: str, key_id: str, arn: str, vid: str, value: str | bytes) -> dict:
    """The stored form of a version's value: which kind it is, the wrapped data key, the nonce and ciphertext."""
    binary = isinstance(value, (bytes, bytearray))
    data = bytes(value) if binary else value.encode("utf-8")
    try:
        plain_key, wrapped, _arn = kms.generate_data_key(kumo, account, region, key_id, _context(arn, vid))
    except kms.KmsError as exc:
        raise encryption_failure(exc) from None
    nonce = os.urandom(12)
    sealed = AESGCM(plain_key).encrypt(nonce, data, _aad(arn, vid))
    return {"binary": binary, "key": _b64(wrapped), "nonce": _b64(nonce), "data": _b64(sealed)}


def unseal(kumo, account: str, region: str, arn: str, vid: str, stored: dict) -> str | bytes:
    try:
        plain_key, _arn = kms.decrypt(kumo, account, region, base64.b64decode(stored["key"]), _context(arn, vid))
    except kms.KmsError as exc:
        raise decryption_failure(exc) from None
    try:
        data = AESGCM(plain_key).decrypt(base64.b64decode(stored["nonce"]), base64.b64decode(stored["data"]),
                                         _aad(arn, vid))
    except InvalidTag as exc:
        raise decryption_failure(exc) from None
    return data if stored["binary"] else data.decode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
