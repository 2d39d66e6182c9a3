"""Identity providers: OpenID Connect (for AssumeRoleWithWebIdentity) and SAML (for AssumeRoleWithSAML).

A SAML provider's metadata document is parsed when it is stored: the IdP's
entityID, its signing certificates and validUntil, which STS uses to verify
assertions (sts/saml.py).
"""

from __future__ import annotations

import base64
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime

from ...aws.errors import AwsError
from .model import check_name, page, sort_by, table, tags_in, untag

OIDC, SAML = "iam.oidc-provider", "iam.saml-provider"
MAX_CLIENT_IDS = 100
MAX_THUMBPRINTS = 5
_THUMBPRINT = re.compile(r"^[0-9a-fA-F]{40}$")
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"


def invalid_input(message: str) -> AwsError:
    return AwsError("InvalidInput", message)


# -- OpenID Connect -----------------------------------------------------------------------------------------


def _oidc(ctx):
    return table(ctx.store, ctx.account, OIDC)


def _check_thumbprints(values) -> list[str]:
    values = list(values or [])
    if len(values) > MAX_THUMBPRINTS:
        raise AwsError("LimitExceeded", f"Thumbprint list must contain fewer than {MAX_THUMBPRINTS + 1} entries.")
    for t in values:
        if not _THUMBPRINT.match(t):
            raise invalid_input(f"Thumbprint {t} is not a valid SHA-1 hex string of 40 characters.")
    return [t.lower() for t in values]


def _check_client_ids(values) -> list[str]:
    values = list(dict.fromkeys(values or []))
    if len(values) > MAX_CLIENT_IDS:
        raise AwsError("LimitExceeded", f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}")
    for c in values:
        if not 1 <= len(c) <= 255:
            raise invalid_input("Client ID must be between 1 and 255 characters.")
    return values


def create_open_id_connect_provider(ctx, p):
    url = p["Url"]
    m = re.match(r"^(https?)://([^/?#]+)([^?#]*)$", url)
    if not m or (m.group(1) == "http" and not _loopback(m.group(2))):
        # kumo also takes http:// for loopback issuers, which tests serve locally (docs/iam.md).
        raise invalid_input("Invalid Open ID Connect Provider URL")
    host_path = (m.group(2) + m.group(3)).rstrip("/")
    arn = f"arn:aws:iam::{ctx.account}:oidc-provider/{host_path}"
    if arn in _oidc(ctx):
        raise AwsError("EntityAlreadyExists", f"Provider with url {url} already exists.")
    provider = {"Arn": arn, "Url": host_path, "_scheme": m.group(1),
                "ClientIDList": _check_client_ids(p.get("ClientIDList")),
                "ThumbprintList": _check_thumbprints(p.get("ThumbprintList")),
                "CreateDate": ctx.now(), "Tags": tags_in(p)}
    _oidc(ctx).put(arn, provider)
    out = {"OpenIDConnectProviderArn": arn}
    if provider["Tags"]:
        out["Tags"] = provider["Tags"]
    return out


def _loopback(host: str) -> bool:
    name = host.partition("]")[0][1:] if host.startswith("[") else host.rsplit(":", 1)[0]
    return name == "localhost" or name.startswith("127.") or name == "::1"


def find_oidc(ctx, arn: str) -> dict:
    provider = _oidc(ctx).get(arn)
    if provider is None:
        raise AwsError("NoSuchEntity", f"OpenIDConnect Provider not found for arn {arn}")
    return provider


def get_open_id_connect_provider(ctx, p):
    provider = find_oidc(ctx, p["OpenIDConnectProviderArn"])
    return {k: v for k, v in provider.items() if not k.startswith("_") and k != "Arn"}


def list_open_id_connect_providers(ctx, p):
    return {"OpenIDConnectProviderList": [{"Arn": a} for a in sorted(_oidc(ctx).keys())]}


def delete_open_id_connect_provider(ctx, p):
    _oidc(ctx).delete(p["OpenIDConnectProviderArn"])  # IAM answers success for a provider that is gone
    return {}


def _save_oidc(ctx, provider):
    _oidc(ctx).put(provider["Arn"], provider)
    return {}


def add_client_id_to_open_id_connect_provider(ctx, p):
    provider = find_oidc(ctx, p["OpenIDConnectProviderArn"])
    provider["ClientIDList"] = _check_client_ids(provider["ClientIDList"] + [p["ClientID"]])
    return _save_oidc(ctx, provider)


def remove_client_id_from_open_id_connect_provider(ctx, p):
    provider = find_oidc(ctx, p["OpenIDConnectProviderArn"])
    provider["ClientIDList"] = [c for c in provider["ClientIDList"] if c != p["ClientID"]]
    return _save_oidc(ctx, provider)


def update_open_id_connect_provider_thumbprint(ctx, p):
    provider = find_oidc(ctx, p["OpenIDConnectProviderArn"])
    provider["ThumbprintList"] = _check_thumbprints(p["ThumbprintList"])
    return _save_oidc(ctx, provider)


def tag_open_id_connect_provider(ctx, p):
    provider = find_oidc(ctx, p["OpenIDConnectProviderArn"])
    provider["Tags"] = tags_in(p, provider.get("Tags"))
    return _save_oidc(ctx, provider)


def untag_open_id_connect_provider(ctx, p):
    provider = find_oidc(ctx, p["OpenIDConnectProviderArn"])
    provider["Tags"] = untag(provider.get("Tags"), p["TagKeys"])
    return _save_oidc(ctx, provider)


def list_open_id_connect_provider_tags(ctx, p):
    provider = find_oidc(ctx, p["OpenIDConnectProviderArn"])
    return page(list(provider.get("Tags") or []), p, lambda t: t["Key"], "Tags", provider["Arn"])


# -- SAML --------------------------------------------------------------------------------------------------------


def _saml(ctx):
    return table(ctx.store, ctx.account, SAML)


def parse_metadata(document: str) -> dict:
    """entityID, signing certificates (DER, base64) and validUntil of an IdP's SAML metadata."""
    if "<!DOCTYPE" in document.upper():  # no entity expansion, as the edge refuses DTDs
        raise invalid_input("Could not parse metadata")
    try:
        root = ET.fromstring(document)
    except ET.ParseError:
        raise invalid_input("Could not parse metadata")
    if root.tag != f"{{{MD}}}EntityDescriptor" or not root.get("entityID"):
        raise invalid_input("Could not parse metadata")
    idp = root.find(f"{{{MD}}}IDPSSODescriptor")
    if idp is None:
        raise invalid_input("Could not parse metadata")
    certs = []
    for key in idp.findall(f"{{{MD}}}KeyDescriptor"):
        if key.get("use") not in (None, "signing"):
            continue
        for cert in key.iter(f"{{{DS}}}X509Certificate"):
            text = "".join((cert.text or "").split())
            try:
                base64.b64decode(text, validate=True)
            except ValueError:
                raise invalid_input("Could not parse metadata")
            certs.append(text)
    if not certs:
        raise invalid_input("Could not parse metadata")
    out = {"entity_id": root.get("entityID"), "certificates": certs}
    valid_until = root.get("validUntil")
    if valid_until:
        try:
            out["valid_until"] = datetime.fromisoformat(valid_until.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise invalid_input("Could not parse metadata")
    return out


def create_saml_provider(ctx, p):
    name = check_name(p["Name"], "name")
    arn = f"arn:aws:iam::{ctx.account}:saml-provider/{name}"
    if arn in _saml(ctx):
        raise AwsError("EntityAlreadyExists", f"SAMLProvider {name} already exists.")
    meta = parse_metadata(p["SAMLMetadataDocument"])
    provider = {"Arn": arn, "SAMLMetadataDocument": p["SAMLMetadataDocument"], "CreateDate": ctx.now(),
                "SAMLProviderUUID": f"p-{uuid.uuid4().hex[:24]}", "Tags": tags_in(p), "_meta": meta,
                "AssertionEncryptionMode": p.get("AssertionEncryptionMode") or "Allowed"}
    provider["ValidUntil"] = meta.get("valid_until", ctx.now() + 100 * 365 * 86400)
    _saml(ctx).put(arn, provider)
    out = {"SAMLProviderArn": arn}
    if provider["Tags"]:
        out["Tags"] = provider["Tags"]
    return out


def find_saml(ctx, arn: str) -> dict:
    provider = _saml(ctx).get(arn)
    if provider is None:
        raise AwsError("NoSuchEntity", f"Manifest not found for arn {arn}")
    return provider


def get_saml_provider(ctx, p):
    provider = find_saml(ctx, p["SAMLProviderArn"])
    return {k: v for k, v in provider.items() if not k.startswith("_") and k != "Arn" and (k != "Tags" or v)}


def list_saml_providers(ctx, p):
    items = sort_by(_saml(ctx).values(), "Arn")
    return {"SAMLProviderList": [{"Arn": i["Arn"], "ValidUntil": i["ValidUntil"], "CreateDate": i["CreateDate"]}
                                 for i in items]}


def update_saml_provider(ctx, p):
    provider = find_saml(ctx, p["SAMLProviderArn"])
    if p.get("SAMLMetadataDocument"):
        provider["_meta"] = parse_metadata(p["SAMLMetadataDocument"])
        provider["SAMLMetadataDocument"] = p["SAMLMetadataDocument"]
        provider["ValidUntil"] = provider["_meta"].get("valid_until", provider["ValidUntil"])
    if p.get("AssertionEncryptionMode"):
        provider["AssertionEncryptionMode"] = p["AssertionEncryptionMode"]
    _saml(ctx).put(provider["Arn"], provider)
    return {"SAMLProviderArn": provider["Arn"]}


def delete_saml_provider(ctx, p):
    find_saml(ctx, p["SAMLProviderArn"])
    _saml(ctx).delete(p["SAMLProviderArn"])
    return {}


def tag_saml_provider(ctx, p):
    provider = find_saml(ctx, p["SAMLProviderArn"])
    provider["Tags"] = tags_in(p, provider.get("Tags"))
    _saml(ctx).put(provider["Arn"], provider)
    return {}


def untag_saml_provider(ctx, p):
    provider = find_saml(ctx, p["SAMLProviderArn"])
    provider["Tags"] = untag(provider.get("Tags"), p["TagKeys"])
    _saml(ctx).put(provider["Arn"], provider)
    return {}


def list_saml_provider_tags(ctx, p):
    provider = find_saml(ctx, p["SAMLProviderArn"])
    return page(list(provider.get("Tags") or []), p, lambda t: t["Key"], "Tags", provider["Arn"])
