"""AssumeRoleWithSAML: a signed SAML Response from a registered provider gives working credentials."""

import base64
import datetime
import json
import urllib.request

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.sts.idp import saml_metadata, saml_response, self_signed, sign_element

ENTITY = "https://idp.example.com/saml"


def kumo_now(endpoint) -> float:
    with urllib.request.urlopen(endpoint + "/_kumo/clock") as resp:
        return json.loads(resp.read())["now"]


def iso(endpoint, delta_seconds: int) -> str:
    """A time ``delta_seconds`` from now on kumo's clock, which judges the assertion's window."""
    t = datetime.datetime.fromtimestamp(kumo_now(endpoint) + delta_seconds, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def federation(aws, account):
    iam = aws("iam")
    key, cert = self_signed("idp.example.com")
    provider = iam.create_saml_provider(Name="corp", SAMLMetadataDocument=saml_metadata(ENTITY, cert))[
        "SAMLProviderArn"]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithSAML",
        "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}}]}
    iam.create_role(RoleName="sso", AssumeRolePolicyDocument=json.dumps(trust))
    return key, provider, f"arn:aws:iam::{account}:role/sso"


def sts(endpoint):
    return boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", config=Config(signature_version=UNSIGNED))


def code(e) -> str:
    return e.value.response["Error"]["Code"]


@pytest.mark.parametrize("signed_id", ["_assert1", "_resp1"])
def test_signed_assertion_gives_working_credentials(federation, account, endpoint, signed_id):
    key, provider, role = federation
    doc = sign_element(saml_response(ENTITY, role, provider, "alice", iso(endpoint, 300)), signed_id, key)
    out = sts(endpoint).assume_role_with_saml(RoleArn=role, PrincipalArn=provider,
                                              SAMLAssertion=base64.b64encode(doc).decode())
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/sso/alice"
    assert out["Subject"] == "alice@example.com" and out["SubjectType"] == "persistent"
    assert out["Issuer"] == ENTITY and out["Audience"] == "https://signin.aws.amazon.com/saml"
    assert out["NameQualifier"]
    creds = out["Credentials"]
    who = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    assert who.get_caller_identity()["Arn"] == f"arn:aws:sts::{account}:assumed-role/sso/alice"


def test_tampered_unsigned_wrong_key_and_expired_assertions_are_refused(federation, endpoint):
    key, provider, role = federation
    client = sts(endpoint)

    def call(doc: bytes):
        with pytest.raises(ClientError) as e:
            client.assume_role_with_saml(RoleArn=role, PrincipalArn=provider,
                                         SAMLAssertion=base64.b64encode(doc).decode())
        return code(e)

    signed = sign_element(saml_response(ENTITY, role, provider, "alice", iso(endpoint, 300)), "_assert1", key)
    assert call(signed.replace(b"alice@example.com", b"mallory@example.com")) == "InvalidIdentityToken"
    assert call(saml_response(ENTITY, role, provider, "alice", iso(endpoint, 300))) == "InvalidIdentityToken"
    other_key, _ = self_signed("evil")
    assert call(sign_element(saml_response(ENTITY, role, provider, "alice", iso(endpoint, 300)), "_assert1", other_key)) \
        == "InvalidIdentityToken"
    assert call(sign_element(saml_response(ENTITY, role, provider, "alice", iso(endpoint, -60)), "_assert1", key)) \
        == "ExpiredTokenException"
    assert call(sign_element(saml_response("https://other-idp", role, provider, "alice", iso(endpoint, 300)), "_assert1", key)) \
        == "InvalidIdentityToken"
    wrong_role = role.replace("role/sso", "role/admin")
    assert call(sign_element(saml_response(ENTITY, wrong_role, provider, "alice", iso(endpoint, 300)), "_assert1", key)) \
        == "AccessDenied"


def test_assertion_window_is_judged_on_kumos_clock(federation, endpoint, kumo_server):
    key, provider, role = federation
    doc = sign_element(saml_response(ENTITY, role, provider, "alice", iso(endpoint, 300)), "_assert1", key)
    assertion = base64.b64encode(doc).decode()
    sts(endpoint).assume_role_with_saml(RoleArn=role, PrincipalArn=provider, SAMLAssertion=assertion)
    kumo_server.advance(301)
    with pytest.raises(ClientError) as e:
        sts(endpoint).assume_role_with_saml(RoleArn=role, PrincipalArn=provider, SAMLAssertion=assertion)
    assert code(e) == "ExpiredTokenException"


def test_a_comment_inside_the_signed_subject_does_not_cut_it(federation, account, endpoint):
    key, provider, role = federation
    signed = sign_element(saml_response(ENTITY, role, provider, "alice", iso(endpoint, 300),
                                        subject="alice@example.com.evil.org"), "_assert1", key)
    # Exclusive C14N ignores comments, so the signature still holds with one inserted.
    tampered = signed.replace(b"alice@example.com.evil.org", b"alice@example.com<!---->.evil.org")
    out = sts(endpoint).assume_role_with_saml(RoleArn=role, PrincipalArn=provider,
                                              SAMLAssertion=base64.b64encode(tampered).decode())
    assert out["Subject"] == "alice@example.com.evil.org"
