"""Outbound identity federation: the account's own OIDC issuer, whose JWTs STS GetWebIdentityToken signs.

Enabling makes an issuer for the account (an RSA key for RS256 and a P-384 key
for ES384) whose discovery documents kumo serves at
``<endpoint>/_kumo/sts/oidc/<id>/.well-known/openid-configuration`` and
``.../jwks.json`` (sts/__init__.py), so external services, or kumo's own
AssumeRoleWithWebIdentity, can verify the tokens.
"""

from __future__ import annotations

import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ...aws.errors import AwsError
from .logins import ACCOUNT
from .model import table

KEY = "outbound-federation"
PATH = "/_kumo/sts/oidc/"  # served by STS (sts/__init__.py)


def _pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def issuer_url(kumo, record: dict) -> str:
    return f"{kumo.endpoint}{PATH}{record['Id']}"


def enable_outbound_web_identity_federation(ctx, p):
    accounts = table(ctx.store, ctx.account, ACCOUNT)
    record = accounts.get(KEY)
    if record is not None and record["Enabled"]:
        raise AwsError("FeatureEnabled", "Outbound web identity federation is already enabled for this account.")
    if record is None:  # the issuer and its keys outlive a disable, as the issuer URL does on AWS
        record = {"Id": uuid.uuid4().hex, "Account": ctx.account,
                  "_rsa": _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
                  "_ec": _pem(ec.generate_private_key(ec.SECP384R1())),
                  "RsaKid": uuid.uuid4().hex, "EcKid": uuid.uuid4().hex}
    record["Enabled"] = True
    accounts.put(KEY, record)
    return {"IssuerIdentifier": issuer_url(ctx.kumo, record)}


def disable_outbound_web_identity_federation(ctx, p):
    accounts = table(ctx.store, ctx.account, ACCOUNT)
    record = accounts.get(KEY)
    if record is None or not record["Enabled"]:
        raise AwsError("FeatureDisabled", "Outbound web identity federation is not enabled for this account.")
    record["Enabled"] = False
    accounts.put(KEY, record)
    return {}


def get_outbound_web_identity_federation_info(ctx, p):
    record = table(ctx.store, ctx.account, ACCOUNT).get(KEY)
    if record is None:
        raise AwsError("FeatureDisabled", "Outbound web identity federation is not enabled for this account.")
    return {"IssuerIdentifier": issuer_url(ctx.kumo, record), "JwtVendingEnabled": record["Enabled"]}
