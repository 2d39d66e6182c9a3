"""Key specs, their algorithms, new key records and their material, and the default key policies."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .model import key_arn

_RSA_SIGNING = ["RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
                "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512"]
_RSA_ENCRYPTION = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
RSA_BITS = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
CURVES = {"ECC_NIST_P256": (ec.SECP256R1, "ECDSA_SHA_256"), "ECC_NIST_P384": (ec.SECP384R1, "ECDSA_SHA_384"),
          "ECC_NIST_P521": (ec.SECP521R1, "ECDSA_SHA_512"), "ECC_SECG_P256K1": (ec.SECP256K1, "ECDSA_SHA_256")}

HMAC_BYTES = {"HMAC_224": 28, "HMAC_256": 32, "HMAC_384": 48, "HMAC_512": 64}

# The usages kumo implements per key spec (AWS's others: SM2, ML-DSA, key agreement).
USAGES = {"SYMMETRIC_DEFAULT": ("ENCRYPT_DECRYPT",),
          **{spec: ("SIGN_VERIFY", "ENCRYPT_DECRYPT") for spec in RSA_BITS},
          **{spec: ("SIGN_VERIFY",) for spec in CURVES},
          **{spec: ("GENERATE_VERIFY_MAC",) for spec in HMAC_BYTES}}


def algorithms(spec: str, usage: str) -> dict:
    if spec == "SYMMETRIC_DEFAULT":
        return {"EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"]}
    if spec in HMAC_BYTES:
        return {"MacAlgorithms": ["HMAC_SHA_" + spec[len("HMAC_"):]]}
    if spec in RSA_BITS:
        return {"SigningAlgorithms": list(_RSA_SIGNING)} if usage == "SIGN_VERIFY" \
            else {"EncryptionAlgorithms": list(_RSA_ENCRYPTION)}
    return {"SigningAlgorithms": [CURVES[spec][1]]}


def private_key_der(spec: str) -> bytes:
    """New asymmetric key material as PKCS#8 DER (RSA generation takes a while: call off the loop)."""
    if spec in RSA_BITS:
        key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS[spec])
    else:
        key = ec.generate_private_key(CURVES[spec][0]())
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def new_record(account: str, region: str, key_id: str, now: float, *, spec: str = "SYMMETRIC_DEFAULT",
               usage: str = "ENCRYPT_DECRYPT", description: str = "", manager: str = "CUSTOMER",
               multi_region: bool = False, private_der: bytes | None = None, policy: str | None = None,
               tags: list | None = None) -> dict:
    arn = key_arn(account, region, key_id)
    record = {
        "AWSAccountId": account,
        "KeyId": key_id,
        "Arn": arn,
        "CreationDate": now,
        "Enabled": True,
        "Description": description,
        "KeyUsage": usage,
        "KeyState": "Enabled",
        "Origin": "AWS_KMS",
        "KeyManager": manager,
        "CustomerMasterKeySpec": spec,
        "KeySpec": spec,
        **algorithms(spec, usage),
        "MultiRegion": multi_region,
        "_policy": policy if policy is not None else default_policy(account),
        "_tags": list(tags or []),
        # AWS managed keys rotate every year, always.
        "_rotation": {"enabled": manager == "AWS", "period_days": 365, "since": now},
        "_rotations": [],
    }
    if multi_region:
        record["MultiRegionConfiguration"] = {"MultiRegionKeyType": "PRIMARY",
                                              "PrimaryKey": {"Arn": arn, "Region": region},
                                              "ReplicaKeys": []}
    if spec == "SYMMETRIC_DEFAULT":
        record["_material"] = [os.urandom(32)]
    elif spec in HMAC_BYTES:
        record["_hmac"] = os.urandom(HMAC_BYTES[spec])
    else:
        record["_private"] = private_der if private_der is not None else private_key_der(spec)
    return record


# -- policies as KMS writes them (Jackson's pretty printer: "key" : value, arrays on one line) ------------------


def pretty(value, indent: int = 0) -> str:
    pad = "  " * indent
    if isinstance(value, dict):
        inner = ",\n".join(f'{pad}  "{k}" : {pretty(v, indent + 1)}' for k, v in value.items())
        return "{\n" + inner + "\n" + pad + "}"
    if isinstance(value, list):
        return "[ " + ", ".join(pretty(v, indent) for v in value) + " ]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        import json
        return json.dumps(value)
    return str(value)


def default_policy(account: str) -> str:
    return pretty({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }],
    })


def managed_policy(account: str, region: str, service: str) -> str:
    return pretty({
        "Version": "2012-10-17",
        "Id": f"auto-{service}-2",
        "Statement": [{
            "Sid": f"Allow access through {service.upper()} for all principals in the account that are "
                   f"authorized to use {service.upper()}",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:CallerAccount": account,
                                           "kms:ViaService": f"{service}.{region}.amazonaws.com"}},
        }, {
            "Sid": "Allow direct access to key metadata to the account",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
            "Resource": "*",
        }],
    })
