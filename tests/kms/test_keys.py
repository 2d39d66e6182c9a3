"""Key lifecycle, aliases, policies, tags and rotation, as KMS answers them."""

import json

import pytest
from botocore.exceptions import ClientError

from .conftest import error_code
from tests.own_kumo import endpoint, kumo_server  # noqa: F401  (days pass on this module's own kumo)

DAY = 86400


def test_create_describe_list(kms, account):
    meta = kms.create_key(Description="d", Tags=[{"TagKey": "team", "TagValue": "x"}])["KeyMetadata"]
    assert meta["Arn"] == f"arn:aws:kms:us-east-1:{account}:key/{meta['KeyId']}"
    shown = (meta["KeyState"], meta["Enabled"], meta["KeyUsage"], meta["KeySpec"], meta["KeyManager"], meta["Origin"])
    assert shown == ("Enabled", True, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", "CUSTOMER", "AWS_KMS")
    assert meta["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert kms.describe_key(KeyId=meta["Arn"])["KeyMetadata"] == meta
    listed = kms.list_keys()["Keys"]
    assert {"KeyId": meta["KeyId"], "KeyArn": meta["Arn"]} in listed
    assert kms.list_resource_tags(KeyId=meta["KeyId"])["Tags"] == [{"TagKey": "team", "TagValue": "x"}]


def test_list_keys_pages(kms):
    made = {kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(3)}
    seen, marker = [], None
    while True:
        page = kms.list_keys(Limit=2, **({"Marker": marker} if marker else {}))
        seen += [k["KeyId"] for k in page["Keys"]]
        if not page["Truncated"]:
            break
        marker = page["NextMarker"]
    assert made <= set(seen) and len(seen) == len(set(seen))
    with pytest.raises(ClientError) as exc:
        kms.list_keys(Marker="garbage")
    assert error_code(exc) == "InvalidMarkerException"


def test_unknown_and_malformed_key_ids(kms, account):
    for key_id in ("not-a-key", "11111111-2222-3333-4444-555555555555", "alias/missing",
                   f"arn:aws:kms:us-east-1:{account}:key/11111111-2222-3333-4444-555555555555"):
        with pytest.raises(ClientError) as exc:
            kms.describe_key(KeyId=key_id)
        assert error_code(exc) == "NotFoundException"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_create_key_refuses_wrong_usage_for_spec(kms):
    with pytest.raises(ClientError) as exc:
        kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="ENCRYPT_DECRYPT")
    assert error_code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="SIGN_VERIFY")
    assert error_code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        kms.create_key(KeySpec="NOT_A_SPEC")
    assert error_code(exc) == "ValidationException"


def test_description_and_default_policy(kms, key, account):
    kms.update_key_description(KeyId=key["KeyId"], Description="new words")
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Description"] == "new words"
    policy = kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]
    doc = json.loads(policy)
    assert doc["Id"] == "key-default-1"
    assert doc["Statement"] == [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                                 "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*",
                                 "Resource": "*"}]
    assert kms.list_key_policies(KeyId=key["KeyId"])["PolicyNames"] == ["default"]
    new = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                              "Action": "kms:Decrypt", "Resource": "*"}]})
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=new)
    assert kms.get_key_policy(KeyId=key["KeyId"])["Policy"] == new
    with pytest.raises(ClientError) as exc:
        kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy="{not json")
    assert error_code(exc) == "MalformedPolicyDocumentException"


def test_tags(kms, key):
    kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "a", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"}])
    kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "a", "TagValue": "3"}])
    kms.untag_resource(KeyId=key["KeyId"], TagKeys=["b"])
    assert kms.list_resource_tags(KeyId=key["KeyId"])["Tags"] == [{"TagKey": "a", "TagValue": "3"}]
    with pytest.raises(ClientError) as exc:
        kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "aws:reserved", "TagValue": "x"}])
    assert error_code(exc) == "TagException"


def test_aliases(kms, key):
    other = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/app", TargetKeyId=key["KeyId"])
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName="alias/app", TargetKeyId=other["KeyId"])
    assert error_code(exc) == "AlreadyExistsException"
    for name, code in (("app2", "ValidationException"), ("alias/aws/mine", "NotAuthorizedException")):
        with pytest.raises(ClientError) as exc:
            kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
        assert error_code(exc) == code
    kms.update_alias(AliasName="alias/app", TargetKeyId=other["KeyId"])
    assert kms.describe_key(KeyId="alias/app")["KeyMetadata"]["KeyId"] == other["KeyId"]
    listed = kms.list_aliases(KeyId=other["KeyId"])["Aliases"]
    assert [a["AliasName"] for a in listed] == ["alias/app"] and listed[0]["TargetKeyId"] == other["KeyId"]
    kms.delete_alias(AliasName="alias/app")
    with pytest.raises(ClientError) as exc:
        kms.describe_key(KeyId="alias/app")
    assert error_code(exc) == "NotFoundException"
    with pytest.raises(ClientError) as exc:
        kms.delete_alias(AliasName="alias/app")
    assert error_code(exc) == "NotFoundException"


def test_aws_managed_key_created_on_first_use(kms, account):
    assert "alias/aws/s3" not in [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    meta = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS"
    alias = next(a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/aws/s3")
    assert alias["TargetKeyId"] == meta["KeyId"]
    assert kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["KeyId"] == meta["KeyId"]  # one, not two
    assert kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"] is True
    with pytest.raises(ClientError) as exc:
        kms.disable_key(KeyId=meta["KeyId"])
    assert error_code(exc) == "UnsupportedOperationException"
    with pytest.raises(ClientError) as exc:
        kms.schedule_key_deletion(KeyId=meta["KeyId"])
    assert error_code(exc) == "UnsupportedOperationException"


def test_scheduled_deletion_on_the_clock(kms, key, kumo_server):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"p")["CiphertextBlob"]
    kms.create_alias(AliasName="alias/doomed", TargetKeyId=key["KeyId"])
    for days in (6, 31):
        with pytest.raises(ClientError) as exc:
            kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=days)
        assert error_code(exc) == "ValidationException"
    out = kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    assert out["KeyState"] == "PendingDeletion" and out["PendingWindowInDays"] == 7 and out["KeyId"] == key["Arn"]
    meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion" and meta["Enabled"] is False and "DeletionDate" in meta
    for call in (lambda: kms.encrypt(KeyId=key["KeyId"], Plaintext=b"p"), lambda: kms.decrypt(CiphertextBlob=blob),
                 lambda: kms.enable_key(KeyId=key["KeyId"])):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "KMSInvalidStateException"
    kumo_server.advance(6 * DAY)
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    kumo_server.advance(1 * DAY + 60)
    with pytest.raises(ClientError) as exc:
        kms.describe_key(KeyId=key["KeyId"])
    assert error_code(exc) == "NotFoundException"
    assert "alias/doomed" not in [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=blob)
    assert error_code(exc) == "InvalidCiphertextException"


def test_cancel_deletion_leaves_key_disabled(kms, key, kumo_server):
    kms.schedule_key_deletion(KeyId=key["KeyId"])  # 30 days by default
    with pytest.raises(ClientError) as exc:
        kms.schedule_key_deletion(KeyId=key["KeyId"])
    assert error_code(exc) == "KMSInvalidStateException"
    kms.cancel_key_deletion(KeyId=key["KeyId"])
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    kumo_server.advance(31 * DAY)
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    with pytest.raises(ClientError) as exc:
        kms.cancel_key_deletion(KeyId=key["KeyId"])
    assert error_code(exc) == "KMSInvalidStateException"


def test_rotation_keeps_old_ciphertexts_readable(kms, key, kumo_server):
    before = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"old")["CiphertextBlob"]
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is False
    kms.enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=90)
    status = kms.get_key_rotation_status(KeyId=key["KeyId"])
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 90
    kumo_server.advance(91 * DAY)
    rotations = kms.list_key_rotations(KeyId=key["KeyId"])["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["AUTOMATIC"]
    kms.rotate_key_on_demand(KeyId=key["KeyId"])
    after = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"new")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=before)["Plaintext"] == b"old"
    assert kms.decrypt(CiphertextBlob=after)["Plaintext"] == b"new"
    assert [r["RotationType"] for r in kms.list_key_rotations(KeyId=key["KeyId"])["Rotations"]] == \
        ["AUTOMATIC", "ON_DEMAND"]
    kms.disable_key_rotation(KeyId=key["KeyId"])
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is False
