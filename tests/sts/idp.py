"""A test identity provider: keys, certificates, signed JWTs, a JWKS served over loopback HTTP, SAML metadata."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def self_signed(name: str, key=None):
    """(private key, PEM certificate) self-signed for ``name``."""
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM).decode()


def saml_metadata(entity_id: str, cert_pem: str) -> str:
    body = "".join(cert_pem.strip().splitlines()[1:-1])
    return (f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">'
            '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            f'<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{body}'
            '</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'
            '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
            f'Location="{entity_id}/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>')


class OidcIssuer:
    """An OIDC issuer on 127.0.0.1: /.well-known/openid-configuration and /jwks; signs RS256 tokens."""

    def __init__(self, tls_dir=None):
        """Plain HTTP, or HTTPS with a self-signed certificate when ``tls_dir`` is given (``thumbprint`` is its SHA-1)."""
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key"
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/jwks"}
                elif self.path == "/jwks":
                    body = issuer.jwks()
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        self.thumbprint = None
        if tls_dir is not None:
            import ssl

            tls_key, cert_pem = self_signed("127.0.0.1")
            (tls_dir / "cert.pem").write_text(cert_pem)
            (tls_dir / "key.pem").write_bytes(tls_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls_dir / "cert.pem", tls_dir / "key.pem")
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            der = x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(serialization.Encoding.DER)
            self.thumbprint = hashlib.sha1(der).hexdigest()
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def jwks(self) -> dict:
        numbers = self.key.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "kid": self.kid, "alg": "RS256", "use": "sig",
                          "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                          "e": b64url(numbers.e.to_bytes(3, "big"))}]}

    def token(self, key=None, **claims) -> str:
        header = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": self.kid}).encode())
        payload = b64url(json.dumps({"iss": self.url, **claims}).encode())
        signature = (key or self.key).sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{header}.{payload}.{b64url(signature)}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


SAML_NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol", "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
           "ds": "http://www.w3.org/2000/09/xmldsig#"}
EXC = "http://www.w3.org/2001/10/xml-exc-c14n#"


def saml_response(issuer: str, role_arn: str, provider_arn: str, session: str, not_after: str,
                  subject: str = "alice@example.com") -> bytes:
    """An unsigned SAML Response with one Assertion carrying AWS's attributes."""
    ns = 'xmlns:samlp="{samlp}" xmlns:saml="{saml}"'.format(**SAML_NS)
    aws = "https://signin.aws.amazon.com/saml"
    attributes = {"https://aws.amazon.com/SAML/Attributes/Role": f"{role_arn},{provider_arn}",
                  "https://aws.amazon.com/SAML/Attributes/RoleSessionName": session}
    statement = "".join(f'<saml:Attribute Name="{n}"><saml:AttributeValue>{v}</saml:AttributeValue></saml:Attribute>'
                        for n, v in attributes.items())
    return (
        f'<samlp:Response {ns} ID="_resp1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z" Destination="{aws}">'
        f'<saml:Issuer>{issuer}</saml:Issuer>'
        '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
        '<saml:Assertion ID="_assert1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">'
        f'<saml:Issuer>{issuer}</saml:Issuer>'
        '<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">'
        f'{subject}</saml:NameID>'
        '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
        f'<saml:SubjectConfirmationData NotOnOrAfter="{not_after}" Recipient="{aws}"/>'
        '</saml:SubjectConfirmation></saml:Subject>'
        f'<saml:Conditions NotBefore="2000-01-01T00:00:00Z" NotOnOrAfter="{not_after}">'
        f'<saml:AudienceRestriction><saml:Audience>{aws}</saml:Audience></saml:AudienceRestriction>'
        '</saml:Conditions>'
        f'<saml:AttributeStatement>{statement}</saml:AttributeStatement>'
        '</saml:Assertion></samlp:Response>'
    ).encode()


def sign_element(document: bytes, element_id: str, key) -> bytes:
    """XML-DSig (enveloped, exclusive C14N, RSA-SHA256) over the element with ``element_id``."""
    from lxml import etree

    root = etree.fromstring(document)
    target = next(e for e in root.iter() if e.get("ID") == element_id)
    digest = base64.b64encode(hashlib.sha256(etree.tostring(target, method="c14n", exclusive=True)).digest()).decode()
    ds = SAML_NS["ds"]
    signature = etree.fromstring(
        f'<ds:Signature xmlns:ds="{ds}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{EXC}"/>'
        '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
        f'<ds:Reference URI="#{element_id}"><ds:Transforms>'
        '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
        f'<ds:Transform Algorithm="{EXC}"/></ds:Transforms>'
        '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        f'<ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>'
        '<ds:SignatureValue></ds:SignatureValue></ds:Signature>')
    issuer = target.find("saml:Issuer", SAML_NS)
    target.insert(target.index(issuer) + 1, signature)  # after the Issuer, as SAML's schema places it
    info = signature.find("ds:SignedInfo", SAML_NS)
    value = key.sign(etree.tostring(info, method="c14n", exclusive=True), padding.PKCS1v15(), hashes.SHA256())
    signature.find("ds:SignatureValue", SAML_NS).text = base64.b64encode(value).decode()
    return etree.tostring(root)
