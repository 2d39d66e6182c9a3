"""KMS for the rest of kumo: SSM SecureString, Secrets Manager, S3 SSE-KMS, SQS and SNS encryption.

All calls are synchronous, on kumo's event loop, and take the caller's account and region (the
resource owner's, as AWS uses the key in the resource's account).  A key may be named by id, key ARN,
``alias/<name>`` or alias ARN; ``alias/aws/<service>`` is created on first use, as AWS creates its
managed keys.  Errors are raised as ``KmsError(code, message)`` carrying KMS's own code
(NotFoundException, DisabledException, KMSInvalidStateException, InvalidKeyUsageException,
InvalidCiphertextException, IncorrectKeyException ...), which the caller maps to its own service's error.
A call that creates an AWS managed key writes the store: inside the caller's transaction it joins it.
Keep these signatures stable: other packages depend on them.
"""

from __future__ import annotations

import os

from . import cipher
from .model import Finder, KmsError, check_usable, check_usage

__all__ = ["KmsError", "resolve_key", "encrypt", "decrypt", "generate_data_key"]


def resolve_key(kumo, account: str, region: str, key_id: str) -> str:
    """The ARN of the key ``key_id`` names (whatever its state); NotFoundException if none."""
    return Finder(kumo, account, region).key(key_id)["Arn"]


def encrypt(kumo, account: str, region: str, key_id: str, plaintext: bytes, context: dict | None = None) -> bytes:
    """A ciphertext blob of ``plaintext`` (at most 4096 bytes) under the symmetric key ``key_id``."""
    record = Finder(kumo, account, region).key(key_id)
    return cipher.encrypt(record, bytes(plaintext), context)


def decrypt(kumo, account: str, region: str, blob: bytes, context: dict | None = None) -> tuple[bytes, str]:
    """(plaintext, key ARN) of a blob made by ``encrypt``/``generate_data_key`` (or the API) with ``context``."""
    finder = Finder(kumo, account, region)
    arn = cipher.blob_key_arn(bytes(blob))
    try:
        record = finder.key(arn, aliases=False)
    except KmsError:
        raise cipher.invalid_ciphertext() from None
    return cipher.decrypt(record, bytes(blob), context), record["Arn"]


def generate_data_key(kumo, account: str, region: str, key_id: str,
                      context: dict | None = None) -> tuple[bytes, bytes, str]:
    """(a fresh 32-byte data key, that key encrypted under ``key_id``, the key's ARN)."""
    record = Finder(kumo, account, region).key(key_id)
    check_usable(record)
    check_usage(record, "ENCRYPT_DECRYPT", "GenerateDataKey")
    plain = os.urandom(32)
    return plain, cipher.encrypt(record, plain, context), record["Arn"]
