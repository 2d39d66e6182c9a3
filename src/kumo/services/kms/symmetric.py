"""Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext) and GenerateRandom."""

from __future__ import annotations

import os

from . import asymmetric, cipher
from .model import KmsError, check_usable, check_usage, dry_run, finder


def unsupported_recipient(p) -> None:
    if p.get("Recipient"):
        raise KmsError("UnsupportedOperationException", "kumo does not run Nitro Enclaves: Recipient is not supported.")


def _blob(p, member: str) -> bytes:
    blob = p.get(member)
    if blob is None:
        wire = member[:1].lower() + member[1:]
        raise KmsError("ValidationException", f"1 validation error detected: Value null at '{wire}' failed to "
                                              "satisfy constraint: Member must not be null")
    return blob


def _encrypt(ctx, key_id: str, plaintext: bytes, context: dict | None,
             algorithm: str | None) -> tuple[bytes, dict, str]:
    record = finder(ctx).key(key_id)
    check_usable(record)
    check_usage(record, "ENCRYPT_DECRYPT", "Encrypt")
    if record["KeySpec"] != "SYMMETRIC_DEFAULT":
        return asymmetric.rsa_encrypt(record, plaintext, algorithm), record, algorithm
    if algorithm not in (None, "SYMMETRIC_DEFAULT"):
        raise KmsError("InvalidKeyUsageException",
                       f"Algorithm {algorithm} is incompatible with key spec {record['KeySpec']}.")
    return cipher.encrypt(record, plaintext, context), record, "SYMMETRIC_DEFAULT"


def _decrypt(ctx, blob: bytes, context: dict | None, key_id: str | None,
             algorithm: str | None) -> tuple[bytes, dict, str]:
    given = finder(ctx).key(key_id) if key_id else None
    if given is not None and given["KeySpec"] != "SYMMETRIC_DEFAULT":
        check_usable(given)
        check_usage(given, "ENCRYPT_DECRYPT", "Decrypt")
        return asymmetric.rsa_decrypt(given, blob, algorithm), given, algorithm
    if algorithm not in (None, "SYMMETRIC_DEFAULT"):
        raise KmsError("IncorrectKeyException" if given is not None else "InvalidCiphertextException",
                       f"Algorithm {algorithm} needs the asymmetric key that made the ciphertext.")
    arn = cipher.blob_key_arn(blob)
    if given is not None:
        if given["Arn"] != arn:
            raise KmsError("IncorrectKeyException", "The key ID in the request does not identify a KMS key that "
                                                    "can perform this operation.")
        record = given
    else:
        try:
            record = finder(ctx).key(arn, aliases=False)
        except KmsError:
            raise cipher.invalid_ciphertext() from None
    check_usage(record, "ENCRYPT_DECRYPT", "Decrypt")
    return cipher.decrypt(record, blob, context), record, "SYMMETRIC_DEFAULT"


def encrypt(ctx, p):
    blob, record, algorithm = _encrypt(ctx, p["KeyId"], p["Plaintext"], p.get("EncryptionContext"),
                                       p.get("EncryptionAlgorithm"))
    dry_run(p)
    return {"CiphertextBlob": blob, "KeyId": record["Arn"], "EncryptionAlgorithm": algorithm}


def decrypt(ctx, p):
    unsupported_recipient(p)
    plaintext, record, algorithm = _decrypt(ctx, _blob(p, "CiphertextBlob"), p.get("EncryptionContext"),
                                            p.get("KeyId"), p.get("EncryptionAlgorithm"))
    dry_run(p)
    return {"KeyId": record["Arn"], "Plaintext": plaintext, "EncryptionAlgorithm": algorithm}


def re_encrypt(ctx, p):
    plaintext, source, source_algorithm = _decrypt(ctx, _blob(p, "CiphertextBlob"), p.get("SourceEncryptionContext"),
                                                   p.get("SourceKeyId"), p.get("SourceEncryptionAlgorithm"))
    blob, dest, dest_algorithm = _encrypt(ctx, p["DestinationKeyId"], plaintext,
                                          p.get("DestinationEncryptionContext"),
                                          p.get("DestinationEncryptionAlgorithm"))
    dry_run(p)
    return {"CiphertextBlob": blob, "SourceKeyId": source["Arn"], "KeyId": dest["Arn"],
            "SourceEncryptionAlgorithm": source_algorithm, "DestinationEncryptionAlgorithm": dest_algorithm}


def _data_key(ctx, p) -> tuple[bytes, bytes, dict]:
    spec, size = p.get("KeySpec"), p.get("NumberOfBytes")
    if (spec is None) == (size is None):
        raise KmsError("ValidationException", "Please specify either number of bytes or key spec.")
    record = finder(ctx).key(p["KeyId"])
    check_usable(record)
    check_usage(record, "ENCRYPT_DECRYPT", "GenerateDataKey")
    if record["KeySpec"] != "SYMMETRIC_DEFAULT":
        raise KmsError("InvalidKeyUsageException", f"{record['Arn']} key usage is not valid for GenerateDataKey: "
                                                   "data keys are made under symmetric keys only.")
    plain = os.urandom(size if size is not None else {"AES_256": 32, "AES_128": 16}[spec])
    return plain, cipher.encrypt(record, plain, p.get("EncryptionContext")), record


def generate_data_key(ctx, p):
    unsupported_recipient(p)
    plain, blob, record = _data_key(ctx, p)
    dry_run(p)
    return {"CiphertextBlob": blob, "Plaintext": plain, "KeyId": record["Arn"]}


def generate_data_key_without_plaintext(ctx, p):
    _plain, blob, record = _data_key(ctx, p)
    dry_run(p)
    return {"CiphertextBlob": blob, "KeyId": record["Arn"]}


def generate_random(ctx, p):
    unsupported_recipient(p)
    if p.get("CustomKeyStoreId"):
        raise KmsError("CustomKeyStoreNotFoundException", f"Custom key store {p['CustomKeyStoreId']} does not exist.")
    size = p.get("NumberOfBytes")
    if size is None:
        raise KmsError("ValidationException", "Please specify number of bytes.")
    return {"Plaintext": os.urandom(size)}
