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

import base64
import hashlib
import json
import ssl

import aiohttp
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ...aws.errors import AwsError
from ..iam import internal as iam

FETCH_TIMEOUT = 5.0  # seconds, real time
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


async def _get_json(session: aiohttp.ClientSession, url: str, thumbprints: list[str]) -> dict:
    async with session.get(url, allow_redirects=False) as resp:
        if url.startswith("https://") and thumbprints:
            ssl_object = resp.connection.transport.get_extra_info("ssl_object") if resp.connection else None
            der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
            if der is None or hashlib.sha1(der).hexdigest() not in thumbprints:
                raise invalid_token("OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint")
        if resp.status != 200:
            raise AwsError("IDPCommunicationError", f"Couldn't retrieve verification key from your identity "
                                                    f"provider, please reference AssumeRoleWithWebIdentity "
                                                    f"documentation for requirements")
        return json.loads(await resp.read())


async def fetch_jwks(issuer: str, thumbprints: list[str]) -> list[dict]:
    # Thumbprints pin the issuer's certificate; without them the chain is validated with the system's CAs.
    tls = ssl.create_default_context()
    if thumbprints:
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT)
    try:
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(ssl=tls)) as session:
            config = await _get_json(session, issuer.rstrip("/") + "/.well-known/openid-configuration", thumbprints)
            jwks_uri = config.get("jwks_uri") if isinstance(config, dict) else None
            if not isinstance(jwks_uri, str):
                raise AwsError("IDPCommunicationError", "Couldn't retrieve verification key from your identity "
                                                        "provider: no jwks_uri in its openid-configuration")
            keys = await _get_json(session, jwks_uri, thumbprints)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        raise AwsError("IDPCommunicationError", "Couldn't retrieve verification key from your identity provider, "
                                                "please reference AssumeRoleWithWebIdentity documentation for "
                                                "requirements")
    return [k for k in (keys.get("keys") if isinstance(keys, dict) else None) or [] if isinstance(k, dict)]


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
