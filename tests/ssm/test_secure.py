"""SecureString through KMS: round trips, the ciphertext answered without WithDecryption, keys, and what is stored."""

from __future__ import annotations

import base64
import sqlite3

import pytest
from botocore.exceptions import ClientError

from .test_parameters import code

SECRET = "p@ssw0rd-that-must-never-be-stored-9f3c1"


def test_round_trip_with_the_default_key(ssm, aws, account):
    assert ssm.put_parameter(Name="/s/db", Value=SECRET, Type="SecureString")["Version"] == 1
    plain = ssm.get_parameter(Name="/s/db", WithDecryption=True)["Parameter"]
    assert (plain["Value"], plain["Type"]) == (SECRET, "SecureString")
    hidden = ssm.get_parameter(Name="/s/db")["Parameter"]["Value"]
    assert hidden != SECRET and SECRET not in hidden
    # Without WithDecryption the answer is the KMS ciphertext (base64), which KMS itself decrypts under the
    # parameter's ARN as encryption context, as AWS's is.
    arn = f"arn:aws:ssm:us-east-1:{account}:parameter/s/db"
    kms = aws("kms")
    out = kms.decrypt(CiphertextBlob=base64.b64decode(hidden), EncryptionContext={"PARAMETER_ARN": arn})
    assert out["Plaintext"].decode() == SECRET
    assert out["KeyId"] == kms.describe_key(KeyId="alias/aws/ssm")["KeyMetadata"]["Arn"]
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["/s/db"]}])["Parameters"][0]
    assert meta["KeyId"] == "alias/aws/ssm" and meta["Type"] == "SecureString"
    many = ssm.get_parameters(Names=["/s/db"], WithDecryption=True)["Parameters"]
    assert many[0]["Value"] == SECRET
    by_path = ssm.get_parameters_by_path(Path="/s", WithDecryption=True)["Parameters"]
    assert by_path[0]["Value"] == SECRET
    history = ssm.get_parameter_history(Name="/s/db", WithDecryption=True)["Parameters"]
    assert history[0]["Value"] == SECRET and history[0]["KeyId"] == "alias/aws/ssm"


def test_customer_key_advanced_tier_and_key_errors(ssm, aws):
    kms = aws("kms")
    key = kms.create_key(Description="params")["KeyMetadata"]
    big = "z" * 8000  # past KMS's 4 KB Encrypt limit: advanced values are envelope-encrypted
    ssm.put_parameter(Name="/s/big", Value=big, Type="SecureString", KeyId=key["KeyId"], Tier="Advanced")
    assert ssm.get_parameter(Name="/s/big", WithDecryption=True)["Parameter"]["Value"] == big
    ssm.put_parameter(Name="/s/small", Value=SECRET, Type="SecureString", KeyId=key["Arn"])
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name="/s/small", WithDecryption=True)
    assert code(exc) == "InvalidKeyId" and "DisabledException" in str(exc.value)
    # The ciphertext still reads; new values under the disabled key are refused the same way.
    assert ssm.get_parameter(Name="/s/small")["Parameter"]["Value"] != SECRET
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="/s/small", Value="new", Overwrite=True)
    assert code(exc) == "InvalidKeyId"
    assert ssm.get_parameter(Name="/s/small")["Parameter"]["Version"] == 1
    kms.enable_key(KeyId=key["KeyId"])
    assert ssm.get_parameter(Name="/s/small", WithDecryption=True)["Parameter"]["Value"] == SECRET
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="/s/nokey", Value="v", Type="SecureString", KeyId="alias/does-not-exist")
    assert code(exc) == "InvalidKeyId" and "NotFoundException" in str(exc.value)


def test_stored_bytes_are_not_plaintext(kumo_process):
    kumo = kumo_process().start()
    ssm = kumo.client("ssm", account="210987654321")
    ssm.put_parameter(Name="/s/durable", Value=SECRET, Type="SecureString")
    ssm.put_parameter(Name="/s/durable", Value=SECRET + "-v2", Overwrite=True)
    ssm.put_parameter(Name="/s/durable-big", Value=SECRET * 100, Type="SecureString", Tier="Advanced")
    ssm.put_parameter(Name="/s/visible", Value="plain-control-value", Type="String")
    kumo.kill9()
    raw = b""
    for path in sorted(kumo.data_dir.glob("state.db*")):
        raw += path.read_bytes()
    # The String parameter is there in clear, so the search looks at the right bytes; the secret is not.
    assert b"plain-control-value" in raw
    assert SECRET.encode() not in raw
    with sqlite3.connect(kumo.data_dir / "state.db") as db:
        dump = "\n".join(db.iterdump())
    assert "plain-control-value" in dump and SECRET not in dump
    again = kumo_process(like=kumo).start()
    ssm = again.client("ssm", account="210987654321")
    assert ssm.get_parameter(Name="/s/durable", WithDecryption=True)["Parameter"]["Value"] == SECRET + "-v2"
    assert ssm.get_parameter(Name="/s/durable:1", WithDecryption=True)["Parameter"]["Value"] == SECRET
