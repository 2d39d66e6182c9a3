"""AssumeRoleWithSAML: a SAML 2.0 Response, verified against the SAML provider's metadata.

The signature (XML-DSig, enveloped, exclusive C14N 1.0, RSA with SHA-256 or
SHA-1) must verify under a signing certificate of the provider's metadata,
never one the message carries.  The signed element, the Response or the
Assertion, is the only one read afterwards, so a second unsigned Assertion
wrapped around it is never believed.  Canonicalization is lxml's (libxml2's
C14N), the one piece of XML-DSig not to write by hand.  Then the Issuer must be
the provider's entityID, the Conditions and SubjectConfirmationData windows
must hold on kumo's clock, the Role attribute must pair the role with the
provider, and the role's trust policy must allow sts:AssumeRoleWithSAML.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from ...aws.errors import AwsError

NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol", "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
      "ds": "http://www.w3.org/2000/09/xmldsig#", "ec": "http://www.w3.org/2001/10/xml-exc-c14n#"}
EXC_C14N = ("http://www.w3.org/2001/10/xml-exc-c14n#", "http://www.w3.org/2001/10/xml-exc-c14n#WithComments")
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
DIGESTS = {"http://www.w3.org/2001/04/xmlenc#sha256": "sha256", "http://www.w3.org/2000/09/xmldsig#sha1": "sha1"}
SIGNATURES = {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": hashes.SHA256,
              "http://www.w3.org/2000/09/xmldsig#rsa-sha1": hashes.SHA1}
ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
AWS_AUDIENCES = ("https://signin.aws.amazon.com/saml", "urn:amazon:webservices")


def invalid(message: str) -> AwsError:
    return AwsError("InvalidIdentityToken", message)


def _parse(assertion_b64: str):
    from lxml import etree

    try:
        raw = base64.b64decode(assertion_b64, validate=False)
    except ValueError:
        raise invalid("Invalid base64 SAML assertion")
    if b"<!DOCTYPE" in raw.upper():
        raise invalid("Invalid SAML response: a DTD is not allowed")
    # Comments are dropped while parsing: exclusive C14N ignores them, so a comment inside a signed NameID
    # ("alice@example.com<!---->.evil") would otherwise cut the text kumo reads without breaking the signature.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True,
                             huge_tree=False)
    try:
        return etree.fromstring(raw, parser)
    except etree.XMLSyntaxError:
        raise invalid("Invalid SAML response: the assertion is not well-formed XML")


def _c14n(element, transform) -> bytes:
    from lxml import etree

    prefixes = None
    inclusive = transform.find("ec:InclusiveNamespaces", NS) if transform is not None else None
    if inclusive is not None and inclusive.get("PrefixList"):
        prefixes = inclusive.get("PrefixList").split()
    with_comments = transform is not None and transform.get("Algorithm", "").endswith("WithComments")
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=with_comments,
                          inclusive_ns_prefixes=prefixes)


def _by_id(root, value: str):
    for element in root.iter():
        if element.get("ID") == value:
            return element
    return None


def verify_signature(root, certificates: list[str]):
    """The element whose signature verifies under one of the certificates (base64 DER), or InvalidIdentityToken."""
    for signature in root.iter(f"{{{NS['ds']}}}Signature"):
        signed = signature.getparent()
        info = signature.find("ds:SignedInfo", NS)
        if info is None:
            continue
        c14n = info.find("ds:CanonicalizationMethod", NS)
        method = info.find("ds:SignatureMethod", NS)
        reference = info.find("ds:Reference", NS)
        if c14n is None or c14n.get("Algorithm") not in EXC_C14N or method is None or reference is None:
            raise invalid("Invalid SAML response: unsupported signature algorithms")
        uri = reference.get("URI", "")
        if not uri.startswith("#") or _by_id(root, uri[1:]) is not signed:
            raise invalid("Invalid SAML response: the signature does not reference its parent element")
        transforms = [t for t in reference.findall("ds:Transforms/ds:Transform", NS)]
        algorithms = [t.get("Algorithm") for t in transforms]
        if ENVELOPED not in algorithms or any(a not in (ENVELOPED, *EXC_C14N) for a in algorithms):
            raise invalid("Invalid SAML response: unsupported signature transforms")
        digest_method = reference.find("ds:DigestMethod", NS)  # (an lxml element with no children is falsy)
        digest_name = DIGESTS.get(digest_method.get("Algorithm", "")) if digest_method is not None else None
        hash_class = SIGNATURES.get(method.get("Algorithm"))
        if digest_name is None or hash_class is None:
            raise invalid("Invalid SAML response: unsupported digest or signature method")
        c14n_transform = next((t for t in transforms if t.get("Algorithm") in EXC_C14N), None)
        # The enveloped-signature transform: the signed element without this Signature.
        position = signed.index(signature)
        tail = signature.tail
        signed.remove(signature)
        try:
            digest = hashlib.new(digest_name, _c14n(signed, c14n_transform)).digest()
        finally:
            signature.tail = tail
            signed.insert(position, signature)
        expected = base64.b64decode("".join((reference.findtext("ds:DigestValue", "", NS)).split()))
        if digest != expected:
            raise invalid("Invalid SAML response: the digest of the signed element does not match")
        value = base64.b64decode("".join((signature.findtext("ds:SignatureValue", "", NS)).split()))
        signed_info = _c14n(info, c14n)
        for der in certificates:
            key = x509.load_der_x509_certificate(base64.b64decode(der)).public_key()
            try:
                key.verify(value, signed_info, padding.PKCS1v15(), hash_class())
                return signed
            except (InvalidSignature, TypeError, ValueError):
                continue
        raise invalid("Invalid SAML response: the signature does not verify with the provider's certificates")
    raise invalid("Invalid SAML response: the assertion is not signed")


def _time(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise invalid(f"Invalid SAML response: bad timestamp {text}")


def read_assertion(assertion_b64: str, provider: dict, now: float) -> dict:
    """The facts of a verified assertion: issuer, subject, attributes, audience, expiry."""
    root = _parse(assertion_b64)
    meta = provider["_meta"]
    signed = verify_signature(root, meta["certificates"])
    if signed.tag == f"{{{NS['saml']}}}Assertion":
        assertion = signed
    else:
        found = signed.findall("saml:Assertion", NS)
        if len(found) != 1:
            raise invalid("Invalid SAML response: expected exactly one assertion")
        assertion = found[0]
    issuer = (assertion.findtext("saml:Issuer", None, NS) or signed.findtext("saml:Issuer", None, NS) or "").strip()
    if issuer != meta["entity_id"]:
        raise invalid(f"Invalid SAML response: issuer {issuer} is not the provider's entity {meta['entity_id']}")
    conditions = assertion.find("saml:Conditions", NS)
    expires = None
    if conditions is not None:
        not_before, not_after = _time(conditions.get("NotBefore")), _time(conditions.get("NotOnOrAfter"))
        if not_before is not None and now < not_before:
            raise invalid("Invalid SAML response: the assertion is not valid yet")
        if not_after is not None and now >= not_after:
            raise AwsError("ExpiredTokenException", "Token expired: current date/time must be before the "
                                                    "expiration date/time.")
        audiences = [a.text.strip() for a in conditions.iterfind("saml:AudienceRestriction/saml:Audience", NS)
                     if a.text]
        if audiences and not set(audiences) & set(AWS_AUDIENCES):
            raise invalid("Invalid SAML response: the audience is not AWS")
        expires = not_after
    subject = assertion.find("saml:Subject", NS)
    name_id = subject.find("saml:NameID", NS) if subject is not None else None
    confirmation = subject.find("saml:SubjectConfirmation/saml:SubjectConfirmationData", NS) \
        if subject is not None else None
    recipient = AWS_AUDIENCES[0]
    if confirmation is not None:
        after = _time(confirmation.get("NotOnOrAfter"))
        if after is not None and now >= after:
            raise AwsError("ExpiredTokenException", "Token expired: current date/time must be before the "
                                                    "expiration date/time.")
        recipient = confirmation.get("Recipient") or recipient
    attributes: dict[str, list[str]] = {}
    for attribute in assertion.iterfind("saml:AttributeStatement/saml:Attribute", NS):
        attributes[attribute.get("Name")] = [(v.text or "").strip()
                                             for v in attribute.iterfind("saml:AttributeValue", NS)]
    fmt = name_id.get("Format", "") if name_id is not None else ""
    return {"issuer": issuer, "subject": (name_id.text or "").strip() if name_id is not None else "",
            "subject_type": fmt.rsplit(":", 1)[-1] if fmt else "unspecified", "attributes": attributes,
            "audience": recipient, "expires": expires}


def role_pairs(values: list[str]) -> set[tuple[str, str]]:
    """(role ARN, provider ARN) pairs of the Role attribute, written in either order."""
    out = set()
    for value in values:
        parts = [p.strip() for p in value.split(",")]
        if len(parts) == 2:
            role = next((p for p in parts if ":role/" in p), None)
            provider = next((p for p in parts if ":saml-provider/" in p), None)
            if role and provider:
                out.add((role, provider))
    return out


def name_qualifier(issuer: str, account: str, provider_name: str) -> str:
    return base64.b64encode(hashlib.sha1(f"{issuer}{account}/{provider_name}".encode()).digest()).decode()
