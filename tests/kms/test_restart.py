"""Key material is durable: ciphertexts and signatures made before kill -9 still open and verify after."""

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError


def test_keys_survive_kill9(kumo_process):
    k = kumo_process().start()
    kms = k.client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/durable", TargetKeyId=key["KeyId"])
    blob = kms.encrypt(KeyId="alias/durable", Plaintext=b"before the crash",
                       EncryptionContext={"a": "b"})["CiphertextBlob"]
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


def _advance(proc, seconds: float) -> None:
    req = urllib.request.Request(proc.endpoint + "/_kumo/clock", data=json.dumps({"advance": seconds}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(req, timeout=30).read()


def test_pending_deletion_carries_over_a_restart(kumo_process):
    k = kumo_process().start()
    kms = k.client("kms")
    doomed = kms.create_key()["KeyMetadata"]["KeyId"]
    kept = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)
    k.kill9()

    again = kumo_process(like=k).start()
    kms = again.client("kms")
    assert kms.describe_key(KeyId=doomed)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    _advance(again, 8 * 86400)
    assert kms.describe_key(KeyId=kept)["KeyMetadata"]["KeyState"] == "Enabled"
    with pytest.raises(ClientError) as exc:
        kms.describe_key(KeyId=doomed)
    assert exc.value.response["Error"]["Code"] == "NotFoundException"
