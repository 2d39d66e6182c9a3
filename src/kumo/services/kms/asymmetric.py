"""Asymmetric keys: Sign, Verify, GetPublicKey, and RSA OAEP encryption (used by Encrypt and Decrypt)."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

from .model import KmsError, check_usable, check_usage, dry_run, finder

_HASHES = {"SHA_1": hashes.SHA1, "SHA_256": hashes.SHA256, "SHA_384": hashes.SHA384, "SHA_512": hashes.SHA512}


def _hash(algorithm: str) -> hashes.HashAlgorithm:
    return _HASHES["SHA_" + algorithm.rsplit("_", 1)[-1]]()


def private_key(record: dict):
    return serialization.load_der_private_key(record["_private"], password=None)


def _algorithm(record: dict, algorithm: str, kind: str) -> None:
    if algorithm not in record.get(kind, []):
        raise KmsError("InvalidKeyUsageException",
                       f"Algorithm {algorithm} is incompatible with key spec {record['KeySpec']}.")


def _signing_key(ctx, p, operation: str) -> dict:
    record = finder(ctx).key(p["KeyId"])
    check_usable(record)
    check_usage(record, "SIGN_VERIFY", operation)
    _algorithm(record, p["SigningAlgorithm"], "SigningAlgorithms")
    return record


def _digest(p, algorithm: hashes.HashAlgorithm) -> bytes:
    """The message's digest: computed for RAW, as given (of the hash's length) for DIGEST."""
    message = p["Message"]
    if (p.get("MessageType") or "RAW") == "RAW":
        h = hashes.Hash(algorithm)
        h.update(message)
        return h.finalize()
    if p.get("MessageType") == "EXTERNAL_MU":
        raise KmsError("ValidationException", "EXTERNAL_MU is only valid for ML_DSA keys.")
    if len(message) != algorithm.digest_size:
        raise KmsError("ValidationException",
                       f"Digest is invalid length for algorithm {p['SigningAlgorithm']}.")
    return message


def _padding(algorithm_name: str, algorithm: hashes.HashAlgorithm):
    if algorithm_name.startswith("RSASSA_PSS_"):
        # KMS signs PSS with a salt as long as the digest.
        return padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)
    return padding.PKCS1v15()


def sign(ctx, p):
    record = _signing_key(ctx, p, "Sign")
    algorithm = _hash(p["SigningAlgorithm"])
    digest = _digest(p, algorithm)
    key = private_key(record)
    if p["SigningAlgorithm"].startswith("ECDSA_"):
        signature = key.sign(digest, ec.ECDSA(utils.Prehashed(algorithm)))
    else:
        signature = key.sign(digest, _padding(p["SigningAlgorithm"], algorithm), utils.Prehashed(algorithm))
    dry_run(p)
    return {"KeyId": record["Arn"], "Signature": signature, "SigningAlgorithm": p["SigningAlgorithm"]}


def verify(ctx, p):
    record = _signing_key(ctx, p, "Verify")
    algorithm = _hash(p["SigningAlgorithm"])
    digest = _digest(p, algorithm)
    public = private_key(record).public_key()
    try:
        if p["SigningAlgorithm"].startswith("ECDSA_"):
            public.verify(p["Signature"], digest, ec.ECDSA(utils.Prehashed(algorithm)))
        else:
            public.verify(p["Signature"], digest, _padding(p["SigningAlgorithm"], algorithm),
                          utils.Prehashed(algorithm))
    except (InvalidSignature, ValueError):
        raise KmsError("KMSInvalidSignatureException", "") from None
    dry_run(p)
    return {"KeyId": record["Arn"], "SignatureValid": True, "SigningAlgorithm": p["SigningAlgorithm"]}


def get_public_key(ctx, p):
    record = finder(ctx).key(p["KeyId"])
    if "_private" not in record:
        raise KmsError("UnsupportedOperationException",
                       f"{record['Arn']} key usage is not supported for GetPublicKey: it is a symmetric key.")
    check_usable(record)
    public = private_key(record).public_key().public_bytes(serialization.Encoding.DER,
                                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    out = {"KeyId": record["Arn"], "PublicKey": public, "CustomerMasterKeySpec": record["KeySpec"],
           "KeySpec": record["KeySpec"], "KeyUsage": record["KeyUsage"]}
    for kind in ("EncryptionAlgorithms", "SigningAlgorithms"):
        if kind in record:
            out[kind] = list(record[kind])
    return out


# -- RSA encryption (ENCRYPT_DECRYPT RSA keys) ------------------------------------------------------


def _oaep(algorithm: str):
    h = _HASHES[algorithm[len("RSAES_OAEP_"):]]()
    return padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None)


def _rsa_algorithm(record: dict, algorithm: str | None) -> None:
    if not algorithm or algorithm == "SYMMETRIC_DEFAULT":
        names = " or ".join(record["EncryptionAlgorithms"])
        raise KmsError("InvalidKeyUsageException", f"{record['Arn']} requires an EncryptionAlgorithm of {names}.")
    _algorithm(record, algorithm, "EncryptionAlgorithms")


def rsa_encrypt(record: dict, plaintext: bytes, algorithm: str | None) -> bytes:
    _rsa_algorithm(record, algorithm)
    public = private_key(record).public_key()
    limit = public.key_size // 8 - 2 * _HASHES[algorithm[len("RSAES_OAEP_"):]].digest_size - 2
    if len(plaintext) > limit:
        raise KmsError("ValidationException", f"Plaintext length {len(plaintext)} exceeds the maximum of {limit} "
                                              f"bytes for {record['KeySpec']} with {algorithm}.")
    return public.encrypt(plaintext, _oaep(algorithm))


def rsa_decrypt(record: dict, blob: bytes, algorithm: str | None) -> bytes:
    _rsa_algorithm(record, algorithm)
    try:
        return private_key(record).decrypt(blob, _oaep(algorithm))
    except ValueError:
        raise KmsError("InvalidCiphertextException", "") from None
