"""AssumeRoleWithWebIdentity: an OIDC ID token, verified as STS verifies it.

The token's issuer (``iss``) must be an OIDC provider registered in the role's
account; its audience (``aud``) one of the provider's client IDs; ``exp`` in
the future on kumo's clock; and its signature valid under a key of the
issuer's JWKS, found through ``<iss>/.well-known/openid-configuration``
(RS256/384/512, ES256/384/512).  Over https, when the provider has a thumbprint
list, the SHA-1 thumbprint of the certificate the issuer presents must be in
it; over plain http (kumo takes http:// issuers on loopback only) there is no
certificate to check.  Then the role's trust policy must allow
``sts:AssumeRoleWithWebIdentity`` for ``Federated: <provider ARN>`` with the
token's claims as condition keys (``<issuer>:aud``, ``:sub``, ``:amr``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import ssl
from urllib.parse import urlsplit

import httptools
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ...aws.errors import AwsError
from ..iam import internal as iam

FETCH_TIMEOUT = 5.0  # seconds, real time: the issuer is a real server
MAX_DOCUMENT = 1 << 20
_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}


def invalid_token(message: str) -> AwsError:
    return AwsError("InvalidIdentityToken", message)


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def decode(token: str) -> tuple[dict, dict, bytes, bytes]:
    """(header, claims, signing input, signature) of a compact JWS."""
    parts = token.split(".")
    if len(parts) != 3:
        raise invalid_token("The ID Token provided is not a valid JWT. (You may see this error if you sent an "
                            "Access Token)")
    try:
        header, claims = json.loads(_b64(parts[0])), json.loads(_b64(parts[1]))
        signature = _b64(parts[2])
    except (ValueError, UnicodeDecodeError):
        raise invalid_token("The ID Token provided is not a valid JWT. (You may see this error if you sent an "
                            "Access Token)")
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise invalid_token("The ID Token provided is not a valid JWT.")
    return header, claims, f"{parts[0]}.{parts[1]}".encode(), signature


def _int(value: str) -> int:
    return int.from_bytes(_b64(value), "big")


def verify_signature(header: dict, jwk: dict, signing_input: bytes, signature: bytes) -> bool:
    alg = header.get("alg", "")
    digest = _HASHES.get(alg[2:])
    if digest is None:
        return False
    try:
        if alg.startswith("RS") and jwk.get("kty") == "RSA":
            key = rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
            key.verify(signature, signing_input, padding.PKCS1v15(), digest())
            return True
        if alg.startswith("ES") and jwk.get("kty") == "EC":
            curve = _CURVES[jwk["crv"]]()
            key = ec.EllipticCurvePublicNumbers(_int(jwk["x"]), _int(jwk["y"]), curve).public_key()
            half = len(signature) // 2
            der = encode_dss_signature(int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big"))
            key.verify(der, signing_input, ec.ECDSA(digest()))
            return True
    except (InvalidSignature, KeyError, ValueError, TypeError, AttributeError):
        return False
    return False


class _Answer:
    """httptools callbacks collecting one HTTP response."""

    def __init__(self):
        self.body = bytearray()
        self.done = False

    def on_body(self, data: bytes) -> None:
        if len(self.body) + len(data) > MAX_DOCUMENT:
            raise ValueError("document too large")
        self.body += data

    def on_message_complete(self) -> None:
        self.done = True


def _communication_error() -> AwsError:
    return AwsError("IDPCommunicationError", "Couldn't retrieve verification key from your identity provider, "
                                             "please reference AssumeRoleWithWebIdentity documentation for "
                                             "requirements")


async def get_json(url: str, thumbprints: list[str]) -> dict:
    """GET a JSON document; over https, the certificate this very connection presents is checked against the
    thumbprints (aiohttp hands a small answer's connection back before it can be inspected)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _communication_error()
    tls = None
    if parts.scheme == "https":
        # Thumbprints pin the issuer's certificate; without them the chain is validated with the system's CAs.
        tls = ssl.create_default_context()
        if thumbprints:
            tls.check_hostname = False
            tls.verify_mode = ssl.CERT_NONE
    port = parts.port or (443 if tls else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    answer = _Answer()
    parser = httptools.HttpResponseParser(answer)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, port, ssl=tls,
                                    server_hostname=parts.hostname if tls else None), FETCH_TIMEOUT)
    except (OSError, asyncio.TimeoutError, ssl.SSLError):
        raise _communication_error()
    try:
        if tls is not None and thumbprints:
            der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
            if der is None or hashlib.sha1(der).hexdigest() not in thumbprints:
                raise invalid_token("OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint")
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: application/json\r\n"
                     "Connection: close\r\nUser-Agent: kumo-sts\r\n\r\n".encode())
        while not answer.done:
            data = await asyncio.wait_for(reader.read(65536), FETCH_TIMEOUT)
            if not data:
                break
            parser.feed_data(data)
        if not answer.done or parser.get_status_code() != 200:
            raise _communication_error()
        document = json.loads(bytes(answer.body))
    except (OSError, asyncio.TimeoutError, ValueError, httptools.HttpParserError):
        raise _communication_error()
    finally:
        writer.close()
    if not isinstance(document, dict):
        raise _communication_error()
    return document


async def fetch_jwks(issuer: str, thumbprints: list[str]) -> list[dict]:
    config = await get_json(issuer.rstrip("/") + "/.well-known/openid-configuration", thumbprints)
    jwks_uri = config.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise _communication_error()
    keys = await get_json(jwks_uri, thumbprints)
    return [k for k in keys.get("keys") or [] if isinstance(k, dict)]


async def verify(ctx, token: str, account: str) -> tuple[dict, dict]:
    """(claims, provider record) of a token STS accepts for a role in ``account``."""
    header, claims, signing_input, signature = decode(token)
    issuer = claims.get("iss")
    if not isinstance(issuer, str):
        raise invalid_token("The ID Token provided is not a valid JWT: no iss claim.")
    provider = iam.oidc_provider(ctx.store, account, issuer)
    if provider is None:
        raise invalid_token(f"No OpenIDConnect provider found in your account for {issuer}")
    audiences = claims.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
    if not set(audiences) & set(provider["ClientIDList"]):
        raise invalid_token("Incorrect token audience")
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)):
        raise invalid_token("The ID Token provided is not a valid JWT: no exp claim.")
    if exp <= ctx.now():
        raise AwsError("ExpiredTokenException", "Token expired: current date/time must be before the expiration "
                                                "date/time.")
    scheme = provider.get("_scheme", "https")
    keys = await fetch_jwks(f"{scheme}://{provider['Url']}", provider["ThumbprintList"] if scheme == "https" else [])
    kid = header.get("kid")
    candidates = [k for k in keys if kid is None or k.get("kid") == kid]
    if not candidates:
        raise invalid_token("Couldn't find a key in the identity provider's JWKS matching the token's kid")
    if not any(verify_signature(header, k, signing_input, signature) for k in candidates):
        raise invalid_token("The web identity token that was passed could not be validated by AWS. Get a new "
                            "identity token from the identity provider and then retry the request.")
    return claims, provider
