"""Service-linked roles, certificates and SSH keys, the account alias, credential report and summary."""

import csv
import io
import json

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.sts.idp import self_signed


def code(e) -> str:
    return e.value.response["Error"]["Code"]


def test_service_linked_roles(aws, account):
    iam = aws("iam")
    role = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")["Role"]
    assert role["RoleName"] == "AWSServiceRoleForAutoScaling"
    assert role["Path"] == "/aws-service-role/autoscaling.amazonaws.com/"
    assert role["Arn"] == (f"arn:aws:iam::{account}:role/aws-service-role/autoscaling.amazonaws.com/"
                           "AWSServiceRoleForAutoScaling")
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": ["autoscaling.amazonaws.com"]} and trust["Action"] == "sts:AssumeRole"
    attached = iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == ["arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy"]
    with pytest.raises(ClientError) as e:
        iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")
    assert code(e) == "InvalidInput" and "has been taken in this account" in e.value.response["Error"]["Message"]
    custom = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="web")["Role"]
    assert custom["RoleName"] == "AWSServiceRoleForAutoScaling_web"
    with pytest.raises(ClientError) as e:
        iam.create_service_linked_role(AWSServiceName="elasticloadbalancing.amazonaws.com", CustomSuffix="x")
    assert code(e) == "InvalidInput"
    elb = iam.create_service_linked_role(AWSServiceName="elasticloadbalancing.amazonaws.com")["Role"]
    assert elb["RoleName"] == "AWSServiceRoleForElasticLoadBalancing"
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName="AWSServiceRoleForAutoScaling")
    assert code(e) == "UnmodifiableEntity"
    with pytest.raises(ClientError) as e:
        iam.put_role_policy(RoleName="AWSServiceRoleForAutoScaling", PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    assert code(e) == "UnmodifiableEntity"
    task = iam.delete_service_linked_role(RoleName="AWSServiceRoleForAutoScaling")["DeletionTaskId"]
    assert task.startswith("task/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling/")
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"
    with pytest.raises(ClientError) as e:
        iam.get_role(RoleName="AWSServiceRoleForAutoScaling")
    assert code(e) == "NoSuchEntity"


def test_server_certificates(aws, account):
    iam = aws("iam")
    key, cert = self_signed("www.example.com")
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    meta = iam.upload_server_certificate(ServerCertificateName="www", CertificateBody=cert, PrivateKey=key_pem,
                                         Path="/cloudfront/")["ServerCertificateMetadata"]
    assert meta["Arn"] == f"arn:aws:iam::{account}:server-certificate/cloudfront/www"
    assert meta["ServerCertificateId"].startswith("ASCA") and meta["Expiration"]
    other_key, _ = self_signed("x")
    with pytest.raises(ClientError) as e:
        iam.upload_server_certificate(ServerCertificateName="bad", CertificateBody=cert, PrivateKey=other_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())
    assert code(e) == "KeyPairMismatch"
    with pytest.raises(ClientError) as e:
        iam.upload_server_certificate(ServerCertificateName="bad", CertificateBody="not a certificate",
                                      PrivateKey=key_pem)
    assert code(e) == "MalformedCertificate"
    got = iam.get_server_certificate(ServerCertificateName="www")["ServerCertificate"]
    assert got["CertificateBody"] == cert
    assert [c["ServerCertificateName"] for c in iam.list_server_certificates()["ServerCertificateMetadataList"]] == ["www"]
    iam.update_server_certificate(ServerCertificateName="www", NewServerCertificateName="web", NewPath="/")
    assert iam.get_server_certificate(ServerCertificateName="web")["ServerCertificate"][
        "ServerCertificateMetadata"]["Arn"] == f"arn:aws:iam::{account}:server-certificate/web"
    iam.tag_server_certificate(ServerCertificateName="web", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.untag_server_certificate(ServerCertificateName="web", TagKeys=["a"])
    assert iam.list_server_certificate_tags(ServerCertificateName="web")["Tags"] == [{"Key": "b", "Value": "2"}]
    iam.delete_server_certificate(ServerCertificateName="web")
    with pytest.raises(ClientError) as e:
        iam.get_server_certificate(ServerCertificateName="web")
    assert code(e) == "NoSuchEntity"


def test_signing_certificates_and_ssh_keys(aws):
    iam = aws("iam")
    iam.create_user(UserName="dev")
    _, cert = self_signed("dev")
    uploaded = iam.upload_signing_certificate(UserName="dev", CertificateBody=cert)["Certificate"]
    assert uploaded["Status"] == "Active" and len(uploaded["CertificateId"]) == 32
    with pytest.raises(ClientError) as e:
        iam.upload_signing_certificate(UserName="dev", CertificateBody=cert)
    assert code(e) == "DuplicateCertificate"
    with pytest.raises(ClientError) as e:
        iam.upload_signing_certificate(UserName="dev", CertificateBody="garbage")
    assert code(e) == "MalformedCertificate"
    iam.update_signing_certificate(UserName="dev", CertificateId=uploaded["CertificateId"], Status="Inactive")
    assert [c["Status"] for c in iam.list_signing_certificates(UserName="dev")["Certificates"]] == ["Inactive"]

    public = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode() + " dev@laptop"
    key = iam.upload_ssh_public_key(UserName="dev", SSHPublicKeyBody=public)["SSHPublicKey"]
    assert key["SSHPublicKeyId"].startswith("APKA") and key["Fingerprint"].count(":") == 15
    with pytest.raises(ClientError) as e:
        iam.upload_ssh_public_key(UserName="dev", SSHPublicKeyBody=public)
    assert code(e) == "DuplicateSSHPublicKey"
    with pytest.raises(ClientError) as e:
        iam.upload_ssh_public_key(UserName="dev", SSHPublicKeyBody="ssh-rsa notakey")
    assert code(e) == "InvalidPublicKey"
    got = iam.get_ssh_public_key(UserName="dev", SSHPublicKeyId=key["SSHPublicKeyId"], Encoding="SSH")
    assert got["SSHPublicKey"]["SSHPublicKeyBody"] == public
    pem = iam.get_ssh_public_key(UserName="dev", SSHPublicKeyId=key["SSHPublicKeyId"], Encoding="PEM")
    assert pem["SSHPublicKey"]["SSHPublicKeyBody"].startswith("-----BEGIN PUBLIC KEY-----")
    iam.update_ssh_public_key(UserName="dev", SSHPublicKeyId=key["SSHPublicKeyId"], Status="Inactive")
    assert [k["Status"] for k in iam.list_ssh_public_keys(UserName="dev")["SSHPublicKeys"]] == ["Inactive"]
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="dev")
    assert code(e) == "DeleteConflict"
    iam.delete_ssh_public_key(UserName="dev", SSHPublicKeyId=key["SSHPublicKeyId"])
    iam.delete_signing_certificate(UserName="dev", CertificateId=uploaded["CertificateId"])
    assert iam.list_ssh_public_keys(UserName="dev")["SSHPublicKeys"] == []
    iam.delete_user(UserName="dev")


def test_account_alias_one_per_account(aws, account):
    from tests.conftest import new_account

    iam = aws("iam")
    iam.create_account_alias(AccountAlias=f"team-{account}")
    iam.create_account_alias(AccountAlias=f"corp-{account}")  # replaces the first
    assert iam.list_account_aliases()["AccountAliases"] == [f"corp-{account}"]
    other = aws.__class__(aws.endpoint, new_account())("iam")
    with pytest.raises(ClientError) as e:
        other.create_account_alias(AccountAlias=f"corp-{account}")
    assert code(e) == "EntityAlreadyExists"
    with pytest.raises(ClientError) as e:
        iam.delete_account_alias(AccountAlias=f"team-{account}")
    assert code(e) == "NoSuchEntity"
    iam.delete_account_alias(AccountAlias=f"corp-{account}")
    assert iam.list_account_aliases()["AccountAliases"] == []


def test_credential_report(aws, account):
    iam = aws("iam")
    with pytest.raises(ClientError) as e:
        iam.get_credential_report()
    assert code(e) == "ReportNotPresent"
    iam.create_user(UserName="ann")
    iam.create_login_profile(UserName="ann", Password="a-long-password-1")
    iam.create_access_key(UserName="ann")
    assert iam.generate_credential_report()["State"] == "STARTED"
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    report = iam.get_credential_report()
    assert report["ReportFormat"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(report["Content"].decode())))
    assert rows[0]["user"] == "<root_account>" and rows[0]["arn"] == f"arn:aws:iam::{account}:root"
    ann = rows[1]
    assert ann["user"] == "ann" and ann["password_enabled"] == "true" and ann["access_key_1_active"] == "true"
    assert ann["access_key_2_active"] == "false" and ann["mfa_active"] == "false"
    assert list(rows[0]) == ["user", "arn", "user_creation_time", "password_enabled", "password_last_used",
                             "password_last_changed", "password_next_rotation", "mfa_active", "access_key_1_active",
                             "access_key_1_last_rotated", "access_key_1_last_used_date",
                             "access_key_1_last_used_region", "access_key_1_last_used_service",
                             "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
                             "access_key_2_last_used_region", "access_key_2_last_used_service", "cert_1_active",
                             "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated"]


def test_account_summary_and_authorization_details(aws):
    iam = aws("iam")
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="u")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust)
    iam.attach_role_policy(RoleName="r", PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["Users"] == 1 and summary["Groups"] == 1 and summary["Roles"] == 1
    assert summary["UsersQuota"] == 5000 and summary["PolicySizeQuota"] == 6144
    details = iam.get_account_authorization_details()
    assert details["UserDetailList"][0]["GroupList"] == ["g"]
    assert details["GroupDetailList"][0]["GroupName"] == "g"
    role = details["RoleDetailList"][0]
    assert role["RoleName"] == "r" and role["AttachedManagedPolicies"][0]["PolicyName"] == "AmazonSSMManagedInstanceCore"
    aws_policies = iam.get_account_authorization_details(Filter=["AWSManagedPolicy"])["Policies"]
    assert [p["PolicyName"] for p in aws_policies] == ["AmazonSSMManagedInstanceCore"]
    assert aws_policies[0]["PolicyVersionList"][0]["Document"]["Version"] == "2012-10-17"
    only_roles = iam.get_account_authorization_details(Filter=["Role"])
    assert only_roles["UserDetailList"] == [] and len(only_roles["RoleDetailList"]) == 1
