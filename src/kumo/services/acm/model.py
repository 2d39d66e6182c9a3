"""ACM's records, ARNs, errors and the views Describe and List return.

A certificate is one record per ARN in the ``acm.certificate`` table of its
account and region, shaped like ACM's CertificateDetail.  Its PEM material
lives in internal fields (``_certificate``, ``_private_key``, ``_chain``)
that serializers never send; its tags in ``_tags``.  Status is stored as
issued and read against kumo's clock, so a certificate becomes EXPIRED the
moment simulated time passes its NotAfter, with nothing to wake up.
"""

from __future__ import annotations

import re

from ...aws.errors import AwsError

CERTIFICATE = "acm.certificate"
IDEMPOTENCY = "acm.idempotency-token"

# The model's pattern for Arn, in Python's dialect (Java's \w is ASCII).
_ARN_PATTERN = r"arn:[\w+=/,.@-]+:acm:[\w+=/,.@-]*:[0-9]+:[\w+=,.@-]+(/[\w+=,.@-]+)*"
_ARN = re.compile(_ARN_PATTERN, re.ASCII)
_CERT_RESOURCE = re.compile(r"certificate/[0-9a-fA-F-]{1,64}", re.ASCII)


def scope(account: str, region: str) -> str:
    return f"{account}/{region}"


# -- errors in ACM's words ----------------------------------------------------------------------


def validation(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def pattern_error(value: str, member: str, pattern: str) -> AwsError:
    return validation(f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
                      f"Member must satisfy regular expression pattern: {pattern}")


def not_found(arn: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Could not find certificate {arn}.")


# -- ARNs ---------------------------------------------------------------------------------------


def split_arn(arn: str) -> tuple[str, str] | None:
    """(account, region) of a well-formed certificate ARN, else None."""
    if not isinstance(arn, str) or not _ARN.fullmatch(arn):
        return None
    parts = arn.split(":", 5)
    if not parts[1].startswith("aws") or not parts[3] or not _CERT_RESOURCE.fullmatch(parts[5]) or len(parts[4]) != 12:
        return None
    return parts[4], parts[3]


def check_arn(arn: str, member: str = "certificateArn") -> tuple[str, str]:
    """The ARN's (account, region); a value off the model's pattern is the front door's
    ValidationException, one on it but not naming a certificate is InvalidArnException."""
    if not _ARN.fullmatch(arn or ""):
        raise pattern_error(arn, member, _ARN_PATTERN)
    where = split_arn(arn)
    if where is None:
        raise AwsError("InvalidArnException", f"String '{arn}' is not a valid certificate ARN.")
    return where


def find(ctx, arn: str) -> dict:
    """The caller's certificate behind ``arn``: another account's or region's is not found from here."""
    account, region = check_arn(arn)
    if (account, region) != (ctx.account, ctx.region):
        raise not_found(arn)
    record = ctx.table("certificate").get(arn)
    if record is None:
        raise not_found(arn)
    return record


def save(ctx, record: dict) -> None:
    ctx.table("certificate").put(record["CertificateArn"], record)
    ctx.controllers.enqueue("acm-expiry", ctx.scope)  # a certificate near its end is told about at once


# -- state read against the clock ---------------------------------------------------------------


def status(record: dict, now: float) -> str:
    if record["Status"] == "ISSUED" and now >= record["NotAfter"]:
        return "EXPIRED"
    return record["Status"]


def renewal_eligibility(record: dict) -> str:
    # ACM renews the certificates it issued once an integrated service uses them (or they were exported).
    if record["Type"] == "AMAZON_ISSUED" and (record["InUseBy"] or record.get("_exported")):
        return "ELIGIBLE"
    return "INELIGIBLE"


def detail(record: dict, now: float) -> dict:
    out = {k: v for k, v in record.items() if not k.startswith("_")}
    out["Status"] = status(record, now)
    out["RenewalEligibility"] = renewal_eligibility(record)
    return out


_SUMMARY_SANS = 100


def summary(record: dict, now: float) -> dict:
    sans = record.get("SubjectAlternativeNames") or []
    out = {
        "CertificateArn": record["CertificateArn"],
        "SubjectAlternativeNameSummaries": sans[:_SUMMARY_SANS],
        "HasAdditionalSubjectAlternativeNames": len(sans) > _SUMMARY_SANS,
        "Status": status(record, now),
        "Type": record["Type"],
        "KeyAlgorithm": record["KeyAlgorithm"],
        "KeyUsages": [u["Name"] for u in record.get("KeyUsages") or []],
        "ExtendedKeyUsages": [u["Name"] for u in record.get("ExtendedKeyUsages") or []],
        "ExportOption": (record.get("Options") or {}).get("Export", "DISABLED"),
        "InUse": bool(record["InUseBy"]),
        "Exported": bool(record.get("_exported")),
        "RenewalEligibility": renewal_eligibility(record),
        "NotBefore": record["NotBefore"],
        "NotAfter": record["NotAfter"],
        "CreatedAt": record["CreatedAt"],
    }
    for key in ("DomainName", "IssuedAt", "ImportedAt", "ManagedBy"):
        if record.get(key) is not None:
            out[key] = record[key]
    return out
