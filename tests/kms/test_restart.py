"""Key material is durable: ciphertexts and signatures made before kill -9 still open and verify after."""


def test_keys_survive_kill9(kumo_process):
    k = kumo_process().start()
    kms = k.client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/durable", TargetKeyId=key["KeyId"])
    blob = kms.encrypt(KeyId="alias/durable", Plaintext=b"before the crash", EncryptionContext={"a": "b"})["CiphertextBlob"]
    kms.rotate_key_on_demand(KeyId=key["KeyId"])
    rotated = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"after rotation")["CiphertextBlob"]
    managed = kms.encrypt(KeyId="alias/aws/ssm", Plaintext=b"managed")["CiphertextBlob"]
    signer = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    signature = kms.sign(KeyId=signer["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    public = kms.get_public_key(KeyId=signer["KeyId"])["PublicKey"]
    k.kill9()

    again = kumo_process(like=k).start()
    kms = again.client("kms")
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "b"})["Plaintext"] == b"before the crash"
    assert kms.decrypt(CiphertextBlob=rotated)["Plaintext"] == b"after rotation"
    assert kms.decrypt(CiphertextBlob=managed)["Plaintext"] == b"managed"
    assert kms.describe_key(KeyId="alias/durable")["KeyMetadata"]["KeyId"] == key["KeyId"]
    assert kms.get_public_key(KeyId=signer["KeyId"])["PublicKey"] == public
    assert kms.verify(KeyId=signer["KeyId"], Message=b"m", Signature=signature,
                      SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"] is True
