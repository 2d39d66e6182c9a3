"""kumo.services.kms.internal, as SSM, Secrets Manager and S3 call it: on kumo's loop, inside a transaction,
interoperating with the API's ciphertexts both ways."""

import pytest

from tests.conftest import in_transaction

from kumo.services.kms import internal

REGION = "us-east-1"


@pytest.fixture
def seam(kumo_server):
    return in_transaction(kumo_server, internal)


def test_resolve_every_name_form(seam, kms, key, account):
    kms.create_alias(AliasName="alias/seam", TargetKeyId=key["KeyId"])
    for name in (key["KeyId"], key["Arn"], "alias/seam", f"arn:aws:kms:{REGION}:{account}:alias/seam"):
        assert seam("resolve_key", account, REGION, name) == key["Arn"]
    with pytest.raises(internal.KmsError) as exc:
        seam("resolve_key", account, REGION, "alias/none")
    assert exc.value.code == "NotFoundException"


def test_managed_alias_created_once_by_the_facade(seam, kms, account):
    arn = seam("resolve_key", account, REGION, "alias/aws/secretsmanager")
    assert seam("resolve_key", account, REGION, "alias/aws/secretsmanager") == arn
    assert kms.describe_key(KeyId="alias/aws/secretsmanager")["KeyMetadata"]["Arn"] == arn
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyManager"] == "AWS"


def test_facade_and_api_ciphertexts_interoperate(seam, kms, key, account):
    blob = seam("encrypt", account, REGION, key["KeyId"], b"from a service", {"PARAMETER_ARN": "p"})
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"PARAMETER_ARN": "p"})["Plaintext"] == b"from a service"
    api_blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"from a client",
                           EncryptionContext={"a": "b"})["CiphertextBlob"]
    assert seam("decrypt", account, REGION, api_blob, {"a": "b"}) == (b"from a client", key["Arn"])
    plain, wrapped, arn = seam("generate_data_key", account, REGION, "alias/aws/s3", {"bucket": "b"})
    assert len(plain) == 32 and arn.endswith(kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["KeyId"])
    assert kms.decrypt(CiphertextBlob=wrapped, EncryptionContext={"bucket": "b"})["Plaintext"] == plain


def test_facade_raises_kms_codes(seam, kms, key, account):
    blob = seam("encrypt", account, REGION, key["KeyId"], b"x")
    with pytest.raises(internal.KmsError) as exc:
        seam("decrypt", account, REGION, blob, {"unexpected": "context"})
    assert exc.value.code == "InvalidCiphertextException"
    kms.disable_key(KeyId=key["KeyId"])
    for call in (("encrypt", account, REGION, key["KeyId"], b"x"), ("decrypt", account, REGION, blob),
                 ("generate_data_key", account, REGION, key["KeyId"])):
        with pytest.raises(internal.KmsError) as exc:
            seam(*call)
        assert exc.value.code == "DisabledException"
    signer = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    with pytest.raises(internal.KmsError) as exc:
        seam("generate_data_key", account, REGION, signer["KeyId"])
    assert exc.value.code == "InvalidKeyUsageException"
