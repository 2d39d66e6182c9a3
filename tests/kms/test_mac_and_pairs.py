"""HMAC keys (GenerateMac, VerifyMac) and data key pairs whose private key only the KMS key decrypts."""

import hashlib
import hmac

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .conftest import error_code


def test_hmac_generate_and_verify(kms, key):
    meta = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    assert meta["MacAlgorithms"] == ["HMAC_SHA_256"]
    mac = kms.generate_mac(KeyId=meta["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert len(mac) == 32
    assert kms.verify_mac(KeyId=meta["KeyId"], Message=b"m", Mac=mac, MacAlgorithm="HMAC_SHA_256")["MacValid"]
    with pytest.raises(ClientError) as exc:
        kms.verify_mac(KeyId=meta["KeyId"], Message=b"n", Mac=mac, MacAlgorithm="HMAC_SHA_256")
    assert error_code(exc) == "KMSInvalidMacException"
    with pytest.raises(ClientError) as exc:
        kms.generate_mac(KeyId=meta["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_512")
    assert error_code(exc) == "InvalidKeyUsageException"
    with pytest.raises(ClientError) as exc:
        kms.generate_mac(KeyId=key["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")
    assert error_code(exc) == "InvalidKeyUsageException"
    with pytest.raises(ClientError) as exc:
        kms.get_public_key(KeyId=meta["KeyId"])
    assert error_code(exc) == "UnsupportedOperationException"
    with pytest.raises(ClientError) as exc:
        kms.create_key(KeySpec="HMAC_384")  # an HMAC key needs its KeyUsage named
    assert error_code(exc) == "ValidationException"
    # Two keys, two MACs: the material is the key's own.
    other = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    assert kms.generate_mac(KeyId=other["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"] != mac
    assert not hmac.compare_digest(mac, hmac.new(b"\x00" * 32, b"m", hashlib.sha256).digest())


def test_data_key_pair(kms, key):
    out = kms.generate_data_key_pair(KeyId=key["KeyId"], KeyPairSpec="ECC_NIST_P256",
                                     EncryptionContext={"use": "pair"})
    private = serialization.load_der_private_key(out["PrivateKeyPlaintext"], password=None)
    assert private.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo) == out["PublicKey"]
    signature = private.sign(b"m", ec.ECDSA(hashes.SHA256()))
    serialization.load_der_public_key(out["PublicKey"]).verify(signature, b"m", ec.ECDSA(hashes.SHA256()))
    back = kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"], EncryptionContext={"use": "pair"})
    assert back["Plaintext"] == out["PrivateKeyPlaintext"]
    bare = kms.generate_data_key_pair_without_plaintext(KeyId=key["KeyId"], KeyPairSpec="RSA_2048")
    assert "PrivateKeyPlaintext" not in bare and bare["KeyPairSpec"] == "RSA_2048"
    der = kms.decrypt(CiphertextBlob=bare["PrivateKeyCiphertextBlob"])["Plaintext"]
    assert serialization.load_der_private_key(der, password=None).key_size == 2048
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as exc:
        kms.generate_data_key_pair(KeyId=key["KeyId"], KeyPairSpec="ECC_NIST_P256")
    assert error_code(exc) == "DisabledException"
