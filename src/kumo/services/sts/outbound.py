"""STS GetWebIdentityToken: a JWT for the caller, signed with its account's outbound federation key, and the
issuer's OIDC discovery documents kumo serves for it."""

from __future__ import annotations

import base64
import json
import uuid

from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ...aws.errors import AwsError
from ..iam import internal as iam

DEFAULT_SECONDS, MIN_SECONDS, MAX_SECONDS = 300, 60, 3600
MAX_PAYLOAD = 8192  # bytes of JSON claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _key(pem: str):
    return serialization.load_pem_private_key(pem.encode(), password=None)


def _int(value: int, size: int) -> str:
    return _b64(value.to_bytes(size, "big"))


def get_web_identity_token(ctx, p):
    record = iam.outbound_issuer(ctx.store, ctx.account)
    if record is None or not record["Enabled"]:
        raise AwsError("OutboundWebIdentityFederationDisabledException",
                       "Outbound web identity federation is disabled for this account.")
    duration = p.get("DurationSeconds") or DEFAULT_SECONDS
    if not MIN_SECONDS <= duration <= MAX_SECONDS:
        raise AwsError("ValidationError", f"DurationSeconds must be between {MIN_SECONDS} and {MAX_SECONDS}.")
    if ctx.identity.expiration is not None and ctx.now() + duration > ctx.identity.expiration:
        raise AwsError("SessionDurationEscalationException",
                       "The requested token lifetime exceeds the remaining lifetime of the calling session.")
    algorithm = p.get("SigningAlgorithm") or "RS256"
    if algorithm not in ("RS256", "ES384"):
        raise AwsError("ValidationError", "SigningAlgorithm must be RS256 or ES384.")
    now = int(ctx.now())
    audience = p["Audience"]
    claims = {"iss": iam.outbound_issuer_url(ctx.kumo, record), "sub": ctx.identity.arn,
              "aud": audience[0] if len(audience) == 1 else audience, "iat": now, "nbf": now,
              "exp": now + duration, "jti": str(uuid.uuid4()),
              "https://sts.amazonaws.com/": {"aws_account": ctx.account, "source_region": ctx.region,
                                             "principal_id": ctx.identity.arn}}
    tags = {t["Key"]: t["Value"] for t in p.get("Tags") or []}
    if tags:
        claims["https://sts.amazonaws.com/"]["request_tags"] = tags
    payload = json.dumps(claims, separators=(",", ":")).encode()
    if len(payload) > MAX_PAYLOAD:
        raise AwsError("JWTPayloadSizeExceededException", "The JWT payload exceeds the allowed size.")
    kid = record["RsaKid"] if algorithm == "RS256" else record["EcKid"]
    header = json.dumps({"alg": algorithm, "typ": "JWT", "kid": kid}, separators=(",", ":")).encode()
    signing_input = f"{_b64(header)}.{_b64(payload)}".encode()
    if algorithm == "RS256":
        signature = _key(record["_rsa"]).sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        r, s = decode_dss_signature(_key(record["_ec"]).sign(signing_input, ec.ECDSA(hashes.SHA384())))
        signature = r.to_bytes(48, "big") + s.to_bytes(48, "big")
    return {"WebIdentityToken": f"{signing_input.decode()}.{_b64(signature)}", "Expiration": now + duration}


def jwks(record: dict) -> dict:
    rsa_public = _key(record["_rsa"]).public_key().public_numbers()
    ec_public = _key(record["_ec"]).public_key().public_numbers()
    return {"keys": [
        {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": record["RsaKid"],
         "n": _int(rsa_public.n, (rsa_public.n.bit_length() + 7) // 8), "e": _int(rsa_public.e, 3)},
        {"kty": "EC", "use": "sig", "alg": "ES384", "kid": record["EcKid"], "crv": "P-384",
         "x": _int(ec_public.x, 48), "y": _int(ec_public.y, 48)},
    ]}


def routes(kumo):
    """GET handlers of the issuer's discovery documents: /.well-known/openid-configuration and jwks.json."""

    def issuer(request: web.Request) -> dict:
        record = iam.outbound_issuer_by_id(kumo.store, request.match_info["id"])
        if record is None or not record["Enabled"]:
            raise web.HTTPNotFound()
        return record

    async def configuration(request: web.Request) -> web.Response:
        record = issuer(request)
        url = iam.outbound_issuer_url(kumo, record)
        return web.json_response({"issuer": url, "jwks_uri": f"{url}/.well-known/jwks.json",
                                  "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
                                  "id_token_signing_alg_values_supported": ["RS256", "ES384"]})

    async def keys(request: web.Request) -> web.Response:
        return web.json_response(jwks(issuer(request)))

    return configuration, keys
