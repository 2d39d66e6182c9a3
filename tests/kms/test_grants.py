"""Grants are stored and listed as KMS lists them, retired by token or id, revoked, and go with their key."""

import pytest
from botocore.exceptions import ClientError

from .conftest import error_code
from tests.own_kumo import endpoint, kumo_server  # noqa: F401  (days pass on this module's own kumo)

DAY = 86400


def test_grant_lifecycle(kms, key, account):
    grantee = f"arn:aws:iam::{account}:role/app"
    retiree = f"arn:aws:iam::{account}:role/ops"
    made = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee, RetiringPrincipal=retiree,
                            Operations=["Encrypt", "Decrypt"], Name="app",
                            Constraints={"EncryptionContextSubset": {"tenant": "a"}})
    again = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee, RetiringPrincipal=retiree,
                             Operations=["Encrypt", "Decrypt"], Name="app",
                             Constraints={"EncryptionContextSubset": {"tenant": "a"}})
    assert again["GrantId"] == made["GrantId"]  # same name and grant: the same grant
    grants = kms.list_grants(KeyId=key["KeyId"])["Grants"]
    assert len(grants) == 1
    assert grants[0]["GrantId"] == made["GrantId"] and grants[0]["Operations"] == ["Encrypt", "Decrypt"]
    assert grants[0]["KeyId"] == key["Arn"] and grants[0]["IssuingAccount"] == f"arn:aws:iam::{account}:root"
    assert "GrantToken" not in grants[0]
    assert [g["GrantId"] for g in kms.list_retirable_grants(RetiringPrincipal=retiree)["Grants"]] == [made["GrantId"]]
    kms.retire_grant(GrantToken=made["GrantToken"])
    assert kms.list_grants(KeyId=key["KeyId"])["Grants"] == []
    with pytest.raises(ClientError) as exc:
        kms.retire_grant(GrantToken=made["GrantToken"])
    assert error_code(exc) == "InvalidGrantTokenException"

    other = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee, Operations=["GenerateDataKey"])
    kms.revoke_grant(KeyId=key["KeyId"], GrantId=other["GrantId"])
    with pytest.raises(ClientError) as exc:
        kms.revoke_grant(KeyId=key["KeyId"], GrantId=other["GrantId"])
    assert error_code(exc) == "NotFoundException"


def test_grant_operations_must_fit_the_key(kms, key, account):
    signer = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        kms.create_grant(KeyId=signer["KeyId"], GranteePrincipal=f"arn:aws:iam::{account}:root",
                         Operations=["Encrypt"])
    assert error_code(exc) == "ValidationException"
    kms.create_grant(KeyId=signer["KeyId"], GranteePrincipal=f"arn:aws:iam::{account}:root", Operations=["Sign"])


def test_grants_go_with_their_key(kms, key, account, kumo_server):
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=f"arn:aws:iam::{account}:root", Operations=["Decrypt"],
                     RetiringPrincipal=f"arn:aws:iam::{account}:role/ops")
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    kumo_server.advance(7 * DAY + 60)
    assert kms.list_retirable_grants(RetiringPrincipal=f"arn:aws:iam::{account}:role/ops")["Grants"] == []
