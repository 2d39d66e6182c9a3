"""Users' other credentials: virtual MFA devices, console passwords and the password policy."""

import base64
import hashlib
import hmac
import json
import struct
import urllib.request

import pytest
from botocore.exceptions import ClientError


def code(e) -> str:
    return e.value.response["Error"]["Code"]


def totp(seed: bytes, step: int) -> str:
    digest = hmac.new(base64.b32decode(seed), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def kumo_now(endpoint) -> float:
    with urllib.request.urlopen(endpoint + "/_kumo/clock") as resp:
        return json.loads(resp.read())["now"]


def test_virtual_mfa_device_enabled_with_two_consecutive_codes(aws, account, endpoint):
    iam = aws("iam")
    iam.create_user(UserName="ann")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="ann-phone",
                                           Tags=[{"Key": "k", "Value": "v"}])["VirtualMFADevice"]
    serial, seed = device["SerialNumber"], device["Base32StringSeed"]
    assert serial == f"arn:aws:iam::{account}:mfa/ann-phone" and len(seed) == 64
    assert device["QRCodePNG"].startswith(b"\x89PNG\r\n\x1a\n")
    step = int(kumo_now(endpoint)) // 30
    with pytest.raises(ClientError) as e:  # two codes that are not consecutive
        iam.enable_mfa_device(UserName="ann", SerialNumber=serial, AuthenticationCode1=totp(seed, step),
                              AuthenticationCode2=totp(seed, step + 2))
    assert code(e) == "InvalidAuthenticationCode"
    iam.enable_mfa_device(UserName="ann", SerialNumber=serial, AuthenticationCode1=totp(seed, step),
                          AuthenticationCode2=totp(seed, step + 1))
    listed = iam.list_mfa_devices(UserName="ann")["MFADevices"]
    assert [d["SerialNumber"] for d in listed] == [serial]
    assert iam.get_mfa_device(SerialNumber=serial)["UserName"] == "ann"
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert [d["User"]["UserName"] for d in assigned] == ["ann"]
    assert iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"] == []
    iam.resync_mfa_device(UserName="ann", SerialNumber=serial, AuthenticationCode1=totp(seed, step + 2),
                          AuthenticationCode2=totp(seed, step + 3))
    with pytest.raises(ClientError) as e:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert code(e) == "DeleteConflict"
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="ann")
    assert code(e) == "DeleteConflict"
    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "x", "Value": "1"}])
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["k"])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "x", "Value": "1"}]
    iam.deactivate_mfa_device(UserName="ann", SerialNumber=serial)
    assert iam.list_mfa_devices(UserName="ann")["MFADevices"] == []
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []


def test_login_profile_and_password_policy(aws, account):
    iam = aws("iam")
    iam.create_user(UserName="bob")
    with pytest.raises(ClientError) as e:
        iam.get_account_password_policy()
    assert code(e) == "NoSuchEntity"
    iam.update_account_password_policy(MinimumPasswordLength=12, RequireNumbers=True, RequireSymbols=True,
                                       MaxPasswordAge=90, PasswordReusePrevention=3)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 12 and policy["RequireNumbers"] and policy["ExpirePasswords"]
    with pytest.raises(ClientError) as e:
        iam.create_login_profile(UserName="bob", Password="short1!")
    assert code(e) == "PasswordPolicyViolation"
    assert e.value.response["Error"]["Message"] == "Password should have a minimum length of 12"
    with pytest.raises(ClientError) as e:
        iam.create_login_profile(UserName="bob", Password="longenoughbutnonumber!")
    assert e.value.response["Error"]["Message"] == "Password should have at least one number"
    profile = iam.create_login_profile(UserName="bob", Password="correct-horse-1!",
                                       PasswordResetRequired=True)["LoginProfile"]
    assert profile["UserName"] == "bob" and profile["PasswordResetRequired"] is True
    with pytest.raises(ClientError) as e:
        iam.create_login_profile(UserName="bob", Password="correct-horse-1!")
    assert code(e) == "EntityAlreadyExists"
    assert iam.get_login_profile(UserName="bob")["LoginProfile"]["PasswordResetRequired"] is True
    iam.update_login_profile(UserName="bob", Password="battery-staple-2!", PasswordResetRequired=False)
    with pytest.raises(ClientError) as e:  # reused within PasswordReusePrevention
        iam.update_login_profile(UserName="bob", Password="correct-horse-1!")
    assert code(e) == "PasswordPolicyViolation"
    assert iam.get_login_profile(UserName="bob")["LoginProfile"]["PasswordResetRequired"] is False
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="bob")
    assert code(e) == "DeleteConflict"
    iam.delete_login_profile(UserName="bob")
    with pytest.raises(ClientError) as e:
        iam.get_login_profile(UserName="bob")
    assert code(e) == "NoSuchEntity"
    iam.delete_account_password_policy()
    with pytest.raises(ClientError) as e:
        iam.delete_account_password_policy()
    assert code(e) == "NoSuchEntity"


def test_change_password_as_the_user(aws, endpoint, account):
    import boto3

    iam = aws("iam")
    iam.create_user(UserName="cat")
    iam.create_login_profile(UserName="cat", Password="first-password-1")
    key = iam.create_access_key(UserName="cat")["AccessKey"]
    as_cat = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        as_cat.change_password(OldPassword="wrong-password", NewPassword="second-password-2")
    assert code(e) == "InvalidUserType"
    as_cat.change_password(OldPassword="first-password-1", NewPassword="second-password-2")
    with pytest.raises(ClientError) as e:  # the old password no longer is the current one
        as_cat.change_password(OldPassword="first-password-1", NewPassword="third-password-3")
    assert code(e) == "InvalidUserType"
    with pytest.raises(ClientError) as e:
        iam.change_password(OldPassword="x", NewPassword="y" * 10)  # the root is no IAM user
    assert code(e) == "InvalidUserType"
