"""RequestCertificate: ACM-issued certificates, which kumo signs itself.

ACM's public CA is not available offline, so kumo issues a self-signed
certificate with the requested names and a new key, valid 395 days (ACM's
validity) from kumo's clock.  With no public DNS to validate against, the
certificate is validated at once: Status ISSUED, every domain SUCCESS, and
the DNS record ACM would have asked for shown in DomainValidationOptions.
"""

from __future__ import annotations

import time
import uuid

from ...aws.errors import AwsError
from . import pki
from .domains import check_names, validation_options
from .model import save, validation
from .tagging import merge

VALIDITY = 395 * 86400
IDEMPOTENCY_WINDOW = 3600


def _remembered(ctx, token: str | None, now: float) -> str | None:
    if not token:
        return None
    seen = ctx.table("idempotency-token").get(token)
    if seen is not None and now - seen["At"] < IDEMPOTENCY_WINDOW:
        return seen["CertificateArn"]
    return None


def _check_request(p: dict) -> tuple[str, str]:
    if p.get("CertificateAuthorityArn"):
        # Private certificates need AWS Private CA, which kumo does not have: say so rather than pretend.
        raise AwsError("NotImplemented", "RequestCertificate with a CertificateAuthorityArn (AWS Private CA) is "
                       "not implemented by kumo yet.", status=501, sender_fault=False)
    algorithm = p.get("KeyAlgorithm") or "RSA_2048"
    if algorithm not in pki.ISSUABLE:
        raise validation(f"Key algorithm {algorithm} is not supported for public certificates. "
                         f"Supported: {', '.join(pki.ISSUABLE)}.")
    method = p.get("ValidationMethod") or "EMAIL"
    if method == "HTTP" and p.get("ManagedBy") != "CLOUDFRONT":
        raise AwsError("InvalidParameterException",
                       "HTTP validation is only available for certificates managed by CloudFront.")
    return algorithm, method


def request_certificate(ctx, p):
    now = ctx.now()
    known = _remembered(ctx, p.get("IdempotencyToken"), now)
    if known is not None:
        return {"CertificateArn": known}
    algorithm, method = _check_request(p)
    names = check_names(p["DomainName"], p.get("SubjectAlternativeNames"))
    options = validation_options(names, method, p.get("DomainValidationOptions"), ctx.account, ctx.region)
    tags = merge([], p.get("Tags"))
    requested = p.get("Options") or {}
    # Real TLS clients judge the certificate by the host's clock, kumo by its own, which may run ahead
    # (--time-scale, advance) or stand still: the certificate has to be valid on both.
    not_before = float(int(min(now, time.time())))
    cert, key = pki.issue_self_signed(algorithm, names[0], names, not_before, float(int(now)) + VALIDITY)
    arn = ctx.arn(f"certificate/{uuid.uuid4()}")
    record = {"CertificateArn": arn, **pki.describe(cert)}
    record.update({
        "DomainName": names[0],
        "SubjectAlternativeNames": names,
        "DomainValidationOptions": options,
        "CreatedAt": now,
        "IssuedAt": now,
        "Status": "ISSUED",
        "Type": "AMAZON_ISSUED",
        "InUseBy": [],
        "Options": {
            "CertificateTransparencyLoggingPreference":
                requested.get("CertificateTransparencyLoggingPreference") or "ENABLED",
            "Export": requested.get("Export") or "DISABLED",
        },
        "_tags": tags,
        "_certificate": pki.certificate_pem(cert),
        "_private_key": pki.private_key_pem(key),
        "_chain": None,
    })
    if p.get("ManagedBy"):
        record["ManagedBy"] = p["ManagedBy"]
    save(ctx, record)
    if p.get("IdempotencyToken"):
        ctx.table("idempotency-token").put(p["IdempotencyToken"], {"CertificateArn": arn, "At": now})
    return {"CertificateArn": arn}
