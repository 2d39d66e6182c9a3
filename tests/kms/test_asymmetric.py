"""Sign and Verify with RSA and ECC keys; signatures also checked locally against GetPublicKey's key."""

import hashlib

import pytest
from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

from .conftest import error_code

_HASH = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def _local_verify(public_der: bytes, algorithm: str, message: bytes, signature: bytes) -> None:
    public = serialization.load_der_public_key(public_der)
    h = _HASH[algorithm[-3:]]()
    if algorithm.startswith("ECDSA"):
        public.verify(signature, message, ec.ECDSA(h))
    elif algorithm.startswith("RSASSA_PSS"):
        public.verify(signature, message, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    else:
        public.verify(signature, message, padding.PKCS1v15(), h)


@pytest.mark.parametrize("spec,algorithms", [
    ("RSA_2048", ["RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_256",
                  "RSASSA_PKCS1_V1_5_SHA_384"]),
    ("ECC_NIST_P256", ["ECDSA_SHA_256"]),
    ("ECC_NIST_P384", ["ECDSA_SHA_384"]),
    ("ECC_NIST_P521", ["ECDSA_SHA_512"]),
    ("ECC_SECG_P256K1", ["ECDSA_SHA_256"]),
])
def test_sign_verify_and_local_check(kms, spec, algorithms):
    meta = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert meta["KeySpec"] == spec and meta["KeyUsage"] == "SIGN_VERIFY" and "SigningAlgorithms" in meta
    public = kms.get_public_key(KeyId=meta["KeyId"])
    assert public["KeySpec"] == spec and public["KeyUsage"] == "SIGN_VERIFY"
    message = b"the message to sign"
    for algorithm in algorithms:
        signature = kms.sign(KeyId=meta["KeyId"], Message=message, SigningAlgorithm=algorithm)["Signature"]
        ok = kms.verify(KeyId=meta["KeyId"], Message=message, Signature=signature, SigningAlgorithm=algorithm)
        assert ok["SignatureValid"] is True and ok["KeyId"] == meta["Arn"]
        _local_verify(public["PublicKey"], algorithm, message, signature)
        with pytest.raises(ClientError) as exc:
            kms.verify(KeyId=meta["KeyId"], Message=b"another message", Signature=signature,
                       SigningAlgorithm=algorithm)
        assert error_code(exc) == "KMSInvalidSignatureException"
        with pytest.raises(InvalidSignature):
            _local_verify(public["PublicKey"], algorithm, b"another message", signature)


def test_digest_message_type(kms):
    meta = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    message = b"hashed elsewhere"
    digest = hashlib.sha256(message).digest()
    signature = kms.sign(KeyId=meta["KeyId"], Message=digest, MessageType="DIGEST",
                         SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    # A signature over the digest verifies as one over the raw message.
    assert kms.verify(KeyId=meta["KeyId"], Message=message, Signature=signature,
                      SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"] is True
    public = kms.get_public_key(KeyId=meta["KeyId"])["PublicKey"]
    serialization.load_der_public_key(public).verify(signature, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    with pytest.raises(ClientError) as exc:
        kms.sign(KeyId=meta["KeyId"], Message=b"short", MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")
    assert error_code(exc) == "ValidationException"


def test_wrong_algorithm_and_usage(kms, key):
    meta = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        kms.sign(KeyId=meta["KeyId"], Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")
    assert error_code(exc) == "InvalidKeyUsageException"
    with pytest.raises(ClientError) as exc:
        kms.sign(KeyId=key["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    assert error_code(exc) == "InvalidKeyUsageException"
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"m")
    assert error_code(exc) == "InvalidKeyUsageException"
    with pytest.raises(ClientError) as exc:
        kms.get_public_key(KeyId=key["KeyId"])
    assert error_code(exc) == "UnsupportedOperationException"
    kms.disable_key(KeyId=meta["KeyId"])
    with pytest.raises(ClientError) as exc:
        kms.sign(KeyId=meta["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    assert error_code(exc) == "DisabledException"


def test_rsa_encryption_key(kms):
    meta = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    assert meta["EncryptionAlgorithms"] == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=meta["KeyId"])["PublicKey"])
    # Encrypted locally with the public key, as clients of asymmetric KMS keys do.
    h = hashes.SHA256()
    blob = public.encrypt(b"for kms", padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None))
    out = kms.decrypt(CiphertextBlob=blob, KeyId=meta["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert out["Plaintext"] == b"for kms" and out["EncryptionAlgorithm"] == "RSAES_OAEP_SHA_256"
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_1")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, KeyId=meta["KeyId"],
                       EncryptionAlgorithm="RSAES_OAEP_SHA_1")["Plaintext"] == b"x"
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=blob, KeyId=meta["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert error_code(exc) == "InvalidCiphertextException"
