"""IAM's new state survives kill -9: groups, providers, MFA devices, login profiles, the alias, outbound issuer."""

import base64
import json

from tests.sts.idp import saml_metadata, self_signed


def test_acknowledged_iam_changes_survive_kill_9(kumo_process):
    first = kumo_process().start()
    iam = first.client("iam")
    iam.create_user(UserName="ann")
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="ann")
    iam.create_login_profile(UserName="ann", Password="a-long-password-1")
    oidc = iam.create_open_id_connect_provider(Url="https://issuer.example.com", ClientIDList=["a"])[
        "OpenIDConnectProviderArn"]
    _, cert = self_signed("idp")
    saml = iam.create_saml_provider(Name="corp", SAMLMetadataDocument=saml_metadata("https://idp", cert))[
        "SAMLProviderArn"]
    seed = iam.create_virtual_mfa_device(VirtualMFADeviceName="phone")["VirtualMFADevice"]["Base32StringSeed"]
    iam.create_account_alias(AccountAlias="durable-corp")
    issuer = iam.enable_outbound_web_identity_federation()["IssuerIdentifier"]
    iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")
    first.kill9()

    second = kumo_process(like=first).start()
    iam = second.client("iam")
    assert [u["UserName"] for u in iam.get_group(GroupName="devs")["Users"]] == ["ann"]
    assert iam.get_login_profile(UserName="ann")["LoginProfile"]["UserName"] == "ann"
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc)["ClientIDList"] == ["a"]
    assert iam.get_saml_provider(SAMLProviderArn=saml)["SAMLProviderUUID"]
    assert [d["SerialNumber"].rsplit("/", 1)[-1] for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]] \
        == ["phone"] and seed
    assert iam.list_account_aliases()["AccountAliases"] == ["durable-corp"]
    info = iam.get_outbound_web_identity_federation_info()
    assert info["JwtVendingEnabled"] and info["IssuerIdentifier"].rsplit("/", 1)[-1] == issuer.rsplit("/", 1)[-1]
    token = second.client("sts").get_web_identity_token(Audience=["x"], SigningAlgorithm="RS256")["WebIdentityToken"]
    payload = token.split(".")[1]
    assert json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["aud"] == "x"
    assert iam.get_role(RoleName="AWSServiceRoleForAutoScaling")["Role"]["Path"] == \
        "/aws-service-role/autoscaling.amazonaws.com/"
