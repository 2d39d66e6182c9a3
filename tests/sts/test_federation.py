"""STS federation: AssumeRoleWithWebIdentity against a test OIDC issuer on loopback, GetFederationToken."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.sts.idp import OidcIssuer


@pytest.fixture
def issuer():
    idp = OidcIssuer()
    yield idp
    idp.close()


def code(e) -> str:
    return e.value.response["Error"]["Code"]


def unsigned_sts(endpoint):
    from botocore import UNSIGNED
    from botocore.config import Config

    return boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", config=Config(signature_version=UNSIGNED))


def setup_role(aws, account, issuer, condition=None):
    iam = aws("iam")
    host = issuer.url.split("://", 1)[1]
    provider = iam.create_open_id_connect_provider(Url=issuer.url, ClientIDList=["my-app"])["OpenIDConnectProviderArn"]
    statement = {"Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
                 "Condition": condition or {"StringEquals": {f"{host}:aud": "my-app"}}}
    iam.create_role(RoleName="web", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [statement]}))
    return f"arn:aws:iam::{account}:role/web", provider


def now(endpoint) -> float:
    import urllib.request

    with urllib.request.urlopen(endpoint + "/_kumo/clock") as resp:
        return json.loads(resp.read())["now"]


def test_web_identity_token_gives_working_credentials(aws, account, endpoint, issuer):
    role_arn, _ = setup_role(aws, account, issuer)
    token = issuer.token(sub="user-1", aud="my-app", exp=int(now(endpoint)) + 600)
    out = unsigned_sts(endpoint).assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="ci",
                                                                WebIdentityToken=token)
    assert out["SubjectFromWebIdentityToken"] == "user-1" and out["Audience"] == "my-app"
    assert out["Provider"] == issuer.url.split("://", 1)[1]
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/web/ci"
    creds = out["Credentials"]
    who = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    assert who.get_caller_identity()["Arn"] == f"arn:aws:sts::{account}:assumed-role/web/ci"


def test_wrong_audience_is_refused(aws, account, endpoint, issuer):
    role_arn, _ = setup_role(aws, account, issuer)
    token = issuer.token(sub="user-1", aud="someone-else", exp=int(now(endpoint)) + 600)
    with pytest.raises(ClientError) as e:
        unsigned_sts(endpoint).assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="ci",
                                                              WebIdentityToken=token)
    assert code(e) == "InvalidIdentityToken"
    assert e.value.response["Error"]["Message"] == "Incorrect token audience"


def test_bad_signature_expiry_unknown_issuer_and_trust(aws, account, endpoint, issuer):
    role_arn, provider = setup_role(aws, account, issuer, condition={"StringEquals": {
        f"{issuer.url.split('://', 1)[1]}:sub": "only-this-user"}})
    sts = unsigned_sts(endpoint)
    exp = int(now(endpoint)) + 600
    forged = issuer.token(key=rsa.generate_private_key(public_exponent=65537, key_size=2048), sub="only-this-user",
                          aud="my-app", exp=exp)
    with pytest.raises(ClientError) as e:
        sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="s1", WebIdentityToken=forged)
    assert code(e) == "InvalidIdentityToken"
    expired = issuer.token(sub="only-this-user", aud="my-app", exp=int(now(endpoint)) - 5)
    with pytest.raises(ClientError) as e:
        sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="s1", WebIdentityToken=expired)
    assert code(e) == "ExpiredTokenException"
    other_user = issuer.token(sub="someone", aud="my-app", exp=exp)
    with pytest.raises(ClientError) as e:  # the trust policy's condition on sub does not hold
        sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="s1", WebIdentityToken=other_user)
    assert code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="s1", WebIdentityToken="not.a.jwt")
    assert code(e) == "InvalidIdentityToken"
    aws("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=provider)
    good = issuer.token(sub="only-this-user", aud="my-app", exp=exp)
    with pytest.raises(ClientError) as e:
        sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="s1", WebIdentityToken=good)
    assert code(e) == "InvalidIdentityToken" and "No OpenIDConnect provider found" in e.value.response["Error"]["Message"]


def test_get_federation_token(aws, account, endpoint):
    iam = aws("iam")
    iam.create_user(UserName="broker")
    key = iam.create_access_key(UserName="broker")["AccessKey"]
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key["AccessKeyId"],
                       aws_secret_access_key=key["SecretAccessKey"])
    out = sts.get_federation_token(Name="alice", Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    assert out["FederatedUser"]["Arn"] == f"arn:aws:sts::{account}:federated-user/alice"
    creds = out["Credentials"]
    fed = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    assert fed.get_caller_identity()["Arn"] == f"arn:aws:sts::{account}:federated-user/alice"


def test_https_issuer_is_checked_against_the_thumbprint_list(aws, account, endpoint, tmp_path):
    idp = OidcIssuer(tls_dir=tmp_path)
    try:
        iam = aws("iam")
        host = idp.url.split("://", 1)[1]
        provider = iam.create_open_id_connect_provider(Url=idp.url, ClientIDList=["app"],
                                                       ThumbprintList=["0" * 40])["OpenIDConnectProviderArn"]
        iam.create_role(RoleName="tls", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{host}:aud": "app"}}}]}))
        role_arn = f"arn:aws:iam::{account}:role/tls"
        token = idp.token(sub="svc", aud="app", exp=int(now(endpoint)) + 600)
        sts = unsigned_sts(endpoint)
        with pytest.raises(ClientError) as e:
            sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="tls", WebIdentityToken=token)
        assert code(e) == "InvalidIdentityToken" and "thumbprint" in e.value.response["Error"]["Message"]
        iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=provider,
                                                       ThumbprintList=[idp.thumbprint])
        out = sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="tls", WebIdentityToken=token)
        assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/tls/tls"
    finally:
        idp.close()


def test_web_identity_under_enforcement_is_judged_by_the_trust_policy_alone(kumo_process, issuer):
    kumo = kumo_process("--enforce-iam", "--ephemeral").start()
    account = "111122223333"
    iam = kumo.client("iam", account=account)
    host = issuer.url.split("://", 1)[1]
    provider = iam.create_open_id_connect_provider(Url=issuer.url, ClientIDList=["app"])["OpenIDConnectProviderArn"]
    iam.create_role(RoleName="ci", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:aud": "app"}}}]}))
    iam.put_role_policy(RoleName="ci", PolicyName="sqs", PolicyDocument=json.dumps({"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}]}))  # noqa: E128
    token = issuer.token(sub="job", aud="app", exp=int(now(kumo.endpoint)) + 600)
    out = unsigned_sts(kumo.endpoint).assume_role_with_web_identity(
        RoleArn=f"arn:aws:iam::{account}:role/ci", RoleSessionName="job", WebIdentityToken=token)
    creds = out["Credentials"]
    session = dict(endpoint_url=kumo.endpoint, region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                   aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    boto3.client("sqs", **session).list_queues()  # the role's policy applies to the session
    with pytest.raises(ClientError) as e:
        boto3.client("sns", **session).list_topics()
    assert code(e) == "AuthorizationError"


def test_token_expiry_is_judged_on_kumos_clock(aws, account, endpoint, issuer, kumo_server):
    role_arn, _ = setup_role(aws, account, issuer)
    token = issuer.token(sub="user-1", aud="my-app", exp=int(now(endpoint)) + 600)
    sts = unsigned_sts(endpoint)
    sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="before", WebIdentityToken=token)
    kumo_server.advance(601)  # ten simulated minutes: the token's exp has passed on kumo's clock
    with pytest.raises(ClientError) as e:
        sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="after", WebIdentityToken=token)
    assert code(e) == "ExpiredTokenException"


def test_session_policies_follow_the_grammar(aws, account):
    iam, sts = aws("iam"), aws("sts")
    iam.create_role(RoleName="s", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": account}, "Action": "sts:AssumeRole"}]}))
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/s", RoleSessionName="s1", Policy=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                                                     "Principal": "*"}]}))
    assert code(e) == "MalformedPolicyDocument"
    assert e.value.response["Error"]["Message"] == "Policy document should not specify a principal."
