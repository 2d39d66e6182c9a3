"""Managing issued certificates: account configuration, options, renewal and revocation.

* Get/PutAccountConfiguration keep the account's ExpiryEvents.DaysBeforeExpiry (1-45, default 45), which
  decides when the approaching-expiration events start (expiry.py).
* UpdateCertificateOptions sets the certificate transparency logging preference of an issued certificate.
* RenewCertificate re-issues an exportable public certificate (or a private one) for the same names on
  kumo's clock: a new certificate and key, valid from now for ACM's 395 days, with its RenewalSummary.
* RevokeCertificate revokes an exportable public certificate: REVOKED, with RevokedAt and the reason.
"""

from __future__ import annotations

import time

from ...aws.errors import AwsError
from . import pki
from .issued import VALIDITY
from .model import find, save, status, validation

DEFAULT_DAYS = 45
_REASONS = ("UNSPECIFIED", "KEY_COMPROMISE", "CA_COMPROMISE", "AFFILIATION_CHANGED", "SUPERSEDED",
            "CESSATION_OF_OPERATION", "CERTIFICATE_HOLD", "REMOVE_FROM_CRL", "PRIVILEGE_WITHDRAWN",
            "A_A_COMPROMISE")


def get_account_configuration(ctx, p):
    config = ctx.table("account").get("configuration") or {}
    return {"ExpiryEvents": {"DaysBeforeExpiry": config.get("DaysBeforeExpiry", DEFAULT_DAYS)}}


def put_account_configuration(ctx, p):
    token = p["IdempotencyToken"]
    table = ctx.table("account")
    config = table.get("configuration") or {}
    days = (p.get("ExpiryEvents") or {}).get("DaysBeforeExpiry")
    if days is not None and not 1 <= days <= 45:
        raise validation("DaysBeforeExpiry must be between 1 and 45.")
    if config.get("_token") == token and config.get("DaysBeforeExpiry") != days:
        raise AwsError("ConflictException", "You are trying to update a resource that is being updated with "
                                             "the same idempotency token and different parameters.")
    if days is not None:
        config["DaysBeforeExpiry"] = days
    config["_token"] = token
    table.put("configuration", config)
    ctx.controllers.enqueue("acm-expiry", ctx.scope)
    return {}


def update_certificate_options(ctx, p):
    record = find(ctx, p["CertificateArn"])
    if record["Type"] == "IMPORTED":
        raise AwsError("InvalidStateException", f"Certificate {record['CertificateArn']} is imported: its options "
                                                 f"cannot be updated.")
    if status(record, ctx.now()) != "ISSUED":
        raise AwsError("InvalidStateException", f"Certificate {record['CertificateArn']} is not ISSUED.")
    options = p["Options"]
    if options.get("Export") and options["Export"] != record["Options"].get("Export", "DISABLED"):
        raise validation("The Export option of a certificate cannot be changed once it is issued.")
    if options.get("CertificateTransparencyLoggingPreference"):
        record["Options"]["CertificateTransparencyLoggingPreference"] = \
            options["CertificateTransparencyLoggingPreference"]
    save(ctx, record)
    return {}


def _exportable(record: dict) -> bool:
    return record["Type"] == "PRIVATE" or (
        record["Type"] == "AMAZON_ISSUED" and (record.get("Options") or {}).get("Export") == "ENABLED")


def renew_certificate(ctx, p):
    record = find(ctx, p["CertificateArn"])
    if not _exportable(record):
        raise validation(f"Certificate ARN: {record['CertificateArn']} is not a private certificate or an "
                         "exportable public certificate.")
    if status(record, ctx.now()) not in ("ISSUED", "EXPIRED"):
        raise AwsError("RequestInProgressException", f"Certificate {record['CertificateArn']} is "
                                                     f"{status(record, ctx.now())}, not ISSUED.")
    now = ctx.now()
    # As at issue: valid on the host's clock (TLS clients) and on kumo's (which may run ahead).
    not_before = float(int(min(now, time.time())))
    cert, key = pki.issue_self_signed(record["KeyAlgorithm"], record["DomainName"],
                                      record.get("SubjectAlternativeNames") or [record["DomainName"]],
                                      not_before, float(int(now)) + VALIDITY)
    described = pki.describe(cert)
    for field in ("Serial", "NotBefore", "NotAfter"):
        record[field] = described[field]
    record.update(Status="ISSUED", IssuedAt=now, _certificate=pki.certificate_pem(cert),
                  _private_key=pki.private_key_pem(key))
    record["RenewalSummary"] = {"RenewalStatus": "SUCCESS", "UpdatedAt": now,
                                "DomainValidationOptions": record.get("DomainValidationOptions") or []}
    save(ctx, record)
    return {}


def revoke_certificate(ctx, p):
    record = find(ctx, p["CertificateArn"])
    if not (record["Type"] == "AMAZON_ISSUED" and _exportable(record)):
        raise validation(f"Certificate ARN: {record['CertificateArn']} is not an exportable public certificate.")
    reason = p["RevocationReason"]
    if reason not in _REASONS:
        raise validation(f"RevocationReason {reason} is not valid.")
    if record["InUseBy"]:
        raise AwsError("ResourceInUseException", f"Certificate {record['CertificateArn']} is in use.")
    if record["Status"] == "REVOKED":
        raise AwsError("ConflictException", f"Certificate {record['CertificateArn']} is already revoked.")
    record.update(Status="REVOKED", RevokedAt=ctx.now(), RevocationReason=reason)
    save(ctx, record)
    return {"CertificateArn": record["CertificateArn"]}
