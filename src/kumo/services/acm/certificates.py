"""Reading, exporting, listing and deleting certificates, whoever issued them."""

from __future__ import annotations

import json

from ...aws.errors import AwsError
from ...core import pagination
from . import pki
from .model import detail, find, save, status, summary, validation

# ListCertificates without keyTypes shows only these, and only with a domain name, as ACM does.
DEFAULT_KEY_TYPES = ("RSA_1024", "RSA_2048")
_PASSPHRASE_FORBIDDEN = set(b"#$%")
_MAX_PAGE = 1000


def describe_certificate(ctx, p):
    return {"Certificate": detail(find(ctx, p["CertificateArn"]), ctx.now())}


def get_certificate(ctx, p):
    record = find(ctx, p["CertificateArn"])
    _check_issued(record, ctx.now())
    out = {"Certificate": record["_certificate"]}
    if record.get("_chain"):
        out["CertificateChain"] = record["_chain"]
    return out


def _check_issued(record: dict, now: float) -> None:
    if status(record, now) == "PENDING_VALIDATION":
        raise AwsError("RequestInProgressException",
                       f"Certificate {record['CertificateArn']} is still pending validation.")


def export_certificate(ctx, p):
    record = find(ctx, p["CertificateArn"])
    exportable = record["Type"] == "PRIVATE" or (
        record["Type"] == "AMAZON_ISSUED" and (record.get("Options") or {}).get("Export") == "ENABLED")
    if not exportable:
        raise validation(f"Certificate ARN: {record['CertificateArn']} is not a private certificate or an "
                         "exportable public certificate.")
    _check_issued(record, ctx.now())
    passphrase = p["Passphrase"]
    if any(b > 127 for b in passphrase) or _PASSPHRASE_FORBIDDEN & set(passphrase):
        raise validation("The passphrase may contain any ASCII character except #, $ and %.")
    record["_exported"] = True
    save(ctx, record)
    out = {"Certificate": record["_certificate"],
           "PrivateKey": pki.encrypted_private_key_pem(record["_private_key"], passphrase)}
    if record.get("_chain"):
        out["CertificateChain"] = record["_chain"]
    return out


def delete_certificate(ctx, p):
    record = find(ctx, p["CertificateArn"])
    if record["InUseBy"]:
        raise AwsError("ResourceInUseException", f"Certificate {record['CertificateArn']} is in use.")
    ctx.table("certificate").delete(record["CertificateArn"])
    return {}


# -- ListCertificates -------------------------------------------------------------------------------


def _matches(item: dict, includes: dict) -> bool:
    if includes.get("keyTypes"):
        if item["KeyAlgorithm"] not in includes["keyTypes"]:
            return False
    elif item["KeyAlgorithm"] not in DEFAULT_KEY_TYPES or not item.get("DomainName"):
        return False
    if includes.get("keyUsage") and "ANY" not in includes["keyUsage"]:
        if not set(includes["keyUsage"]) & set(item["KeyUsages"]):
            return False
    wanted_eku = includes.get("extendedKeyUsage")
    if wanted_eku and "ANY" not in wanted_eku:
        have = set(item["ExtendedKeyUsages"]) or {"NONE"}
        if not set(wanted_eku) & have:
            return False
    if includes.get("exportOption") and item["ExportOption"] != includes["exportOption"]:
        return False
    if includes.get("managedBy") and item.get("ManagedBy") != includes["managedBy"]:
        return False
    return True


def _order_key(sort_order: str):
    # One ascending key per listing order, so a page token resumes correctly even past a deleted certificate.
    def key(item: dict) -> str:
        created = item["CreatedAt"] if sort_order != "DESCENDING" else 1e11 - item["CreatedAt"]
        return f"{created:020.6f}|{item['CertificateArn']}"
    return key


def list_certificates(ctx, p):
    now = ctx.now()
    statuses = set(p.get("CertificateStatuses") or [])
    includes = p.get("Includes") or {}
    items = [summary(r, now) for r in ctx.table("certificate").values()]
    items = [i for i in items if (not statuses or i["Status"] in statuses) and _matches(i, includes)]
    key = _order_key(p.get("SortOrder") or "ASCENDING")
    items.sort(key=key)
    context = json.dumps([ctx.account, ctx.region, sorted(statuses), includes, p.get("SortBy"),
                          p.get("SortOrder")], sort_keys=True)
    try:
        page, token = pagination.paginate(items, p.get("MaxItems"), p.get("NextToken"), key, context,
                                          default_limit=_MAX_PAGE)
    except pagination.InvalidToken as exc:
        raise AwsError("InvalidArgsException", str(exc))
    out = {"CertificateSummaryList": page}
    if token:
        out["NextToken"] = token
    return out
