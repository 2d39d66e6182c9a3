"""Outbound identity federation: IAM's issuer, STS GetWebIdentityToken, and the issuer's discovery documents."""

import base64
import json
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def code(e) -> str:
    return e.value.response["Error"]["Code"]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


def test_outbound_federation_issues_verifiable_tokens(aws, account, endpoint):
    iam, sts = aws("iam"), aws("sts")
    with pytest.raises(ClientError) as e:
        iam.get_outbound_web_identity_federation_info()
    assert code(e) == "FeatureDisabled"
    with pytest.raises(ClientError) as e:
        sts.get_web_identity_token(Audience=["https://api.example.com"], SigningAlgorithm="RS256")
    assert code(e) == "OutboundWebIdentityFederationDisabledException"
    issuer = iam.enable_outbound_web_identity_federation()["IssuerIdentifier"]
    with pytest.raises(ClientError) as e:
        iam.enable_outbound_web_identity_federation()
    assert code(e) == "FeatureEnabled"
    info = iam.get_outbound_web_identity_federation_info()
    assert info == {"IssuerIdentifier": issuer, "JwtVendingEnabled": True, "ResponseMetadata": info["ResponseMetadata"]}
    config = get_json(issuer + "/.well-known/openid-configuration")
    assert config["issuer"] == issuer
    keys = {k["kid"]: k for k in get_json(config["jwks_uri"])["keys"]}
    for algorithm in ("RS256", "ES384"):
        out = sts.get_web_identity_token(Audience=["https://api.example.com"], SigningAlgorithm=algorithm,
                                         DurationSeconds=120, Tags=[{"Key": "team", "Value": "a"}])
        header, payload, signature = out["WebIdentityToken"].split(".")
        head, claims = json.loads(b64(header)), json.loads(b64(payload))
        assert head["alg"] == algorithm
        assert claims["iss"] == issuer and claims["aud"] == "https://api.example.com"
        assert claims["sub"] == f"arn:aws:iam::{account}:root" and claims["exp"] - claims["iat"] == 120
        assert claims["https://sts.amazonaws.com/"]["request_tags"] == {"team": "a"}
        jwk, signed, sig = keys[head["kid"]], f"{header}.{payload}".encode(), b64(signature)
        if algorithm == "RS256":
            public = rsa.RSAPublicNumbers(int.from_bytes(b64(jwk["e"]), "big"),
                                          int.from_bytes(b64(jwk["n"]), "big")).public_key()
            public.verify(sig, signed, padding.PKCS1v15(), hashes.SHA256())
        else:
            public = ec.EllipticCurvePublicNumbers(int.from_bytes(b64(jwk["x"]), "big"),
                                                   int.from_bytes(b64(jwk["y"]), "big"), ec.SECP384R1()).public_key()
            public.verify(encode_dss_signature(int.from_bytes(sig[:48], "big"), int.from_bytes(sig[48:], "big")),
                          signed, ec.ECDSA(hashes.SHA384()))
    iam.disable_outbound_web_identity_federation()
    assert iam.get_outbound_web_identity_federation_info()["JwtVendingEnabled"] is False
    with pytest.raises(ClientError) as e:
        iam.disable_outbound_web_identity_federation()
    assert code(e) == "FeatureDisabled"


def test_a_kumo_token_assumes_a_role_in_another_account(aws, account, endpoint):
    """kumo's own issuer registered as an OIDC provider: AssumeRoleWithWebIdentity verifies its tokens."""
    from tests.conftest import Clients, new_account

    aws("iam").enable_outbound_web_identity_federation()
    iam_b = Clients(endpoint, new_account())("iam")
    issuer = aws("iam").get_outbound_web_identity_federation_info()["IssuerIdentifier"]
    provider = iam_b.create_open_id_connect_provider(Url=issuer, ClientIDList=["partner"])["OpenIDConnectProviderArn"]
    host = issuer.split("://", 1)[1]
    iam_b.create_role(RoleName="partner", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:sub": f"arn:aws:iam::{account}:root"}}}]}))
    token = aws("sts").get_web_identity_token(Audience=["partner"], SigningAlgorithm="ES384")["WebIdentityToken"]
    role_arn = provider.split(":oidc-provider/")[0].replace(":iam::", ":iam::") + ":role/partner"
    out = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x",
                       aws_secret_access_key="x").assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="partner", WebIdentityToken=token)
    assert out["AssumedRoleUser"]["Arn"].endswith(":assumed-role/partner/partner")
