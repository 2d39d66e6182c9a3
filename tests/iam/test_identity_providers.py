"""OIDC and SAML identity providers."""

import pytest
from botocore.exceptions import ClientError

from tests.sts.idp import saml_metadata, self_signed

THUMB = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


def code(e) -> str:
    return e.value.response["Error"]["Code"]


def test_oidc_provider_lifecycle(aws, account):
    iam = aws("iam")
    arn = iam.create_open_id_connect_provider(Url="https://token.example.com/id", ClientIDList=["app"],
                                              ThumbprintList=[THUMB], Tags=[{"Key": "k", "Value": "v"}])[
        "OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{account}:oidc-provider/token.example.com/id"
    with pytest.raises(ClientError) as e:
        iam.create_open_id_connect_provider(Url="https://token.example.com/id", ClientIDList=["app"])
    assert code(e) == "EntityAlreadyExists"
    with pytest.raises(ClientError) as e:
        iam.create_open_id_connect_provider(Url="http://token.example.com", ClientIDList=["app"])
    assert code(e) == "InvalidInput"
    with pytest.raises(ClientError) as e:
        iam.create_open_id_connect_provider(Url="https://other.example.com", ThumbprintList=["z" * 40])
    assert code(e) == "InvalidInput"
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == "token.example.com/id" and got["ClientIDList"] == ["app"] and got["ThumbprintList"] == [THUMB]
    assert [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]] == [arn]
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="cli")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app")
    other = "a" * 40
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=[other])
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["ClientIDList"] == ["cli"] and got["ThumbprintList"] == [other]
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=[{"Key": "b", "Value": "2"}])
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["k"])
    assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    with pytest.raises(ClientError) as e:
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert code(e) == "NoSuchEntity"


def test_saml_provider_lifecycle(aws, account):
    iam = aws("iam")
    _, cert_pem = self_signed("idp.example.com")
    metadata = saml_metadata("https://idp.example.com/saml", cert_pem)
    arn = iam.create_saml_provider(Name="corp", SAMLMetadataDocument=metadata)["SAMLProviderArn"]
    assert arn == f"arn:aws:iam::{account}:saml-provider/corp"
    with pytest.raises(ClientError) as e:
        iam.create_saml_provider(Name="bad", SAMLMetadataDocument="<not-metadata>" + "x" * 1000 + "</not-metadata>")
    assert code(e) == "InvalidInput"
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["SAMLMetadataDocument"] == metadata and got["SAMLProviderUUID"]
    assert [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]] == [arn]
    assert iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=metadata)["SAMLProviderArn"] == arn
    iam.tag_saml_provider(SAMLProviderArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.untag_saml_provider(SAMLProviderArn=arn, TagKeys=["a"])
    assert iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    iam.delete_saml_provider(SAMLProviderArn=arn)
    with pytest.raises(ClientError) as e:
        iam.get_saml_provider(SAMLProviderArn=arn)
    assert code(e) == "NoSuchEntity"
