"""Encrypt, Decrypt, ReEncrypt and data keys under symmetric keys: real AES-256-GCM, keyed to one key."""

import base64

import pytest
from botocore.exceptions import ClientError

from .conftest import error_code


def test_encrypt_decrypt_round_trip_without_key_id(kms, key):
    out = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"secret bytes \x00\xff")
    assert out["KeyId"] == key["Arn"] and out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert b"secret bytes" not in out["CiphertextBlob"]
    back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"])
    assert back["Plaintext"] == b"secret bytes \x00\xff"
    assert back["KeyId"] == key["Arn"]


def test_same_plaintext_encrypts_differently_each_time(kms, key):
    a = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    b = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    assert a != b


def test_key_named_by_arn_alias_and_alias_arn(kms, key):
    kms.create_alias(AliasName="alias/named", TargetKeyId=key["KeyId"])
    alias_arn = key["Arn"].replace(f"key/{key['KeyId']}", "alias/named")
    for name in (key["Arn"], "alias/named", alias_arn):
        blob = kms.encrypt(KeyId=name, Plaintext=b"p")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob, KeyId=name)["Plaintext"] == b"p"


def test_ciphertext_of_one_key_refused_by_another(kms, key):
    other = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"p")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=blob, KeyId=other["KeyId"])
    assert error_code(exc) == "IncorrectKeyException"
    # The blob names its key: pointing it at the other key makes it a forgery.
    forged = blob.replace(key["KeyId"].encode(), other["KeyId"].encode())
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=forged)
    assert error_code(exc) == "InvalidCiphertextException"


def test_tampered_ciphertext_refused(kms, key):
    blob = bytearray(kms.encrypt(KeyId=key["KeyId"], Plaintext=b"payload")["CiphertextBlob"])
    for where in (len(blob) - 1, len(blob) - 20, 3):
        bad = bytearray(blob)
        bad[where] ^= 0x01
        with pytest.raises(ClientError) as exc:
            kms.decrypt(CiphertextBlob=bytes(bad))
        assert error_code(exc) == "InvalidCiphertextException"
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=b"not a ciphertext at all")
    assert error_code(exc) == "InvalidCiphertextException"


def test_encryption_context_is_bound(kms, key):
    ctx = {"purpose": "test", "tenant": "a"}
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"p", EncryptionContext=ctx)["CiphertextBlob"]
    # Order does not matter; every pair does.
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"tenant": "a", "purpose": "test"})["Plaintext"] == b"p"
    for wrong in ({}, {"purpose": "test"}, {"purpose": "test", "tenant": "b"}):
        with pytest.raises(ClientError) as exc:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=wrong)
        assert error_code(exc) == "InvalidCiphertextException"


def test_disabled_key_refuses_and_comes_back(kms, key):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"p")["CiphertextBlob"]
    kms.disable_key(KeyId=key["KeyId"])
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    for call in (lambda: kms.encrypt(KeyId=key["KeyId"], Plaintext=b"p"),
                 lambda: kms.decrypt(CiphertextBlob=blob),
                 lambda: kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "DisabledException"
    kms.enable_key(KeyId=key["KeyId"])
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"p"


def test_generate_data_key_sizes_and_decrypt(kms, key):
    for spec, size in (("AES_256", 32), ("AES_128", 16)):
        out = kms.generate_data_key(KeyId=key["KeyId"], KeySpec=spec, EncryptionContext={"k": "v"})
        assert len(out["Plaintext"]) == size
        back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"k": "v"})
        assert back["Plaintext"] == out["Plaintext"]
    out = kms.generate_data_key(KeyId=key["KeyId"], NumberOfBytes=7)
    assert len(out["Plaintext"]) == 7
    bare = kms.generate_data_key_without_plaintext(KeyId=key["KeyId"], KeySpec="AES_256")
    assert "Plaintext" not in bare
    assert len(kms.decrypt(CiphertextBlob=bare["CiphertextBlob"])["Plaintext"]) == 32
    with pytest.raises(ClientError) as exc:
        kms.generate_data_key(KeyId=key["KeyId"])
    assert error_code(exc) == "ValidationException"


def test_re_encrypt_moves_ciphertext_to_another_key(kms, key):
    other = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"p", EncryptionContext={"a": "1"})["CiphertextBlob"]
    out = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"a": "1"}, DestinationKeyId=other["KeyId"],
                         DestinationEncryptionContext={"b": "2"})
    assert out["SourceKeyId"] == key["Arn"] and out["KeyId"] == other["Arn"]
    back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"b": "2"})
    assert back == {**back, "Plaintext": b"p", "KeyId": other["Arn"]}
    with pytest.raises(ClientError) as exc:
        kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=other["KeyId"])  # context missing
    assert error_code(exc) == "InvalidCiphertextException"


def test_plaintext_limit_and_random(kms, key):
    kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x" * 4096)
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x" * 4097)
    assert error_code(exc) == "ValidationException"
    a, b = (kms.generate_random(NumberOfBytes=64)["Plaintext"] for _ in range(2))
    assert len(a) == 64 and a != b


def test_key_material_never_in_answers(kms, key, kumo_server):
    record = kumo_server.kumo.store.table(f"{key['AWSAccountId']}/us-east-1", "kms.key").get(key["KeyId"])
    material = record["_material"][0]
    answers = [kms.describe_key(KeyId=key["KeyId"]), kms.list_keys(), kms.get_key_policy(KeyId=key["KeyId"]),
               kms.encrypt(KeyId=key["KeyId"], Plaintext=b"p")]
    text = repr(answers).encode()
    assert material not in repr(answers).encode() and base64.b64encode(material) not in text
    assert "_material" not in kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
