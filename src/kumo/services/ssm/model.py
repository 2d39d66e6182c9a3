"""Parameter records: one per name and region, holding every version kept (at most 100) and the tags.

A record is ``{"Name", "Type", "DataType", "Tier", "Version" (latest), "LastModifiedDate", ..., "_versions": [...],
"_tags": [...], "_policies": [...], "_pending": version or None, "_counter": last version number handed out}``.
Each version is a snapshot shaped like ParameterHistory.  A SecureString's ``Value`` is the KMS ciphertext
(base64), never the plaintext: the store only ever sees what GetParameter answers without WithDecryption.
"""

from __future__ import annotations

from ...aws.errors import AwsError
from . import names, public
from .names import Selector

KIND = "ssm.parameter"
MAX_VERSIONS = 100
# What a version snapshot carries (ParameterHistory's members).
VERSION_FIELDS = ("Name", "Type", "KeyId", "LastModifiedDate", "LastModifiedUser", "Description", "Value",
                  "AllowedPattern", "Version", "Labels", "Tier", "Policies", "DataType")


def table(ctx):
    return ctx.table("parameter")


def scope_table(kumo, account: str, region: str):
    return kumo.store.table(f"{account}/{region}", KIND)


def not_found(message: str = "") -> AwsError:
    return AwsError("ParameterNotFound", message)


def lookup(records, name: str) -> dict | None:
    """The record for a name as given (an ARN's resource part may have lost a hierarchical name's slash)."""
    record = records.get(name)
    if record is None and name.startswith("/"):
        record = records.get(name[1:])
    return record


def find(ctx, name: str, message: str | None = None) -> dict:
    record = lookup(table(ctx), name)
    if record is None:
        raise not_found(message if message is not None else f"Parameter {name} not found.")
    return record


def latest(record: dict) -> dict:
    return record["_versions"][-1]


def version_of(record: dict, selector: Selector) -> dict | None:
    """The version a selector names; raises ParameterVersionNotFound for a version number not kept."""
    if selector.version is not None:
        for v in record["_versions"]:
            if v["Version"] == selector.version:
                return v
        raise AwsError("ParameterVersionNotFound",
                       f"Systems Manager could not find version {selector.version} of {record['Name']}. "
                       f"Verify the version and try again.")
    if selector.label is not None:
        return next((v for v in record["_versions"] if selector.label in v.get("Labels", [])), None)
    return latest(record)


def resolve(ctx, raw: str) -> tuple[dict, dict, Selector]:
    """(record, version, selector) for a GetParameter name; public parameters included. Raises ParameterNotFound."""
    selector = names.parse_selector(raw)
    if selector is None:
        raise not_found()
    if names.is_public(selector.name):
        record = public.record(ctx.region, selector.name)
    else:
        record = lookup(table(ctx), selector.name)
    if record is None:
        raise not_found()
    version = version_of(record, selector)
    if version is None:
        raise not_found()
    return record, version, selector


def parameter_view(record: dict, version: dict, selector: Selector | None = None, value: str | None = None) -> dict:
    """The Parameter structure GetParameter(s) and GetParametersByPath answer with."""
    out = {"Name": record["Name"], "Type": version["Type"], "Value": version["Value"] if value is None else value,
           "Version": version["Version"], "LastModifiedDate": version["LastModifiedDate"], "ARN": record["ARN"],
           "DataType": version.get("DataType") or "text"}
    if selector is not None and selector.text:
        out["Selector"] = selector.text
    return out


def policies_view(policies: list[dict] | None) -> list[dict]:
    return [{"PolicyText": p["PolicyText"], "PolicyType": p["PolicyType"], "PolicyStatus": p["PolicyStatus"]}
            for p in policies or []]


def metadata_view(record: dict) -> dict:
    """ParameterMetadata, as DescribeParameters lists it."""
    v = latest(record)
    out = {"Name": record["Name"], "ARN": record["ARN"], "Type": v["Type"], "LastModifiedDate": v["LastModifiedDate"],
           "LastModifiedUser": v["LastModifiedUser"], "Version": v["Version"], "Tier": record["Tier"],
           "Policies": policies_view(record.get("_policies")), "DataType": v.get("DataType") or "text"}
    for key in ("KeyId", "Description", "AllowedPattern"):
        if v.get(key):
            out[key] = v[key]
    return out


def history_view(record: dict, version: dict, value: str | None = None) -> dict:
    out = {k: version[k] for k in VERSION_FIELDS if version.get(k) is not None}
    out["Name"] = record["Name"]
    out["Policies"] = policies_view(version.get("Policies"))
    out["Labels"] = list(version.get("Labels") or [])
    if not out["Labels"]:
        del out["Labels"]  # the model's list has a minimum of one
    if value is not None:
        out["Value"] = value
    return out


def publish_change(kumo, account: str, region: str, record: dict, operation: str, **extra) -> None:
    """The "Parameter Store Change" event AWS puts on the default bus after each write."""
    detail = {"operation": operation, "name": record["Name"], "type": record["Type"]}
    if record.get("Description"):
        detail["description"] = record["Description"]
    detail.update(extra)
    kumo.events.publish(account, region, "aws.ssm", "Parameter Store Change", detail, [record["ARN"]])
