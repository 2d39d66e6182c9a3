"""Layers: PublishLayerVersion and friends.  A function's layers appear at /opt, later layers on top."""

from __future__ import annotations

import json
import re

from . import code
from .functions import paginate
from .model import LAYER, LAYER_VERSION, invalid, not_found, scope, timestamp

_LAYER_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:lambda:([a-z]{2}(?:-gov)?-[a-z]+-\d):(\d{12}):layer:([A-Za-z0-9_-]+)"
                        r"(?::(\d+))?$")


def layer_arn(account: str, region: str, name: str, version: int | None = None) -> str:
    base = f"arn:aws:lambda:{region}:{account}:layer:{name}"
    return f"{base}:{version}" if version is not None else base


def _name_of(ctx, text: str) -> tuple[str, str, str]:
    """(account, region, name) of a LayerName parameter (a name or a layer ARN)."""
    m = _LAYER_ARN.match(text)
    if m:
        if m.group(4):
            raise invalid(f"Layer ARN {text} must not name a version here.")
        return m.group(2), m.group(1), m.group(3)
    if not re.match(r"^[A-Za-z0-9_-]{1,140}$", text):
        raise invalid(f"Invalid layer name: {text}")
    return ctx.account, ctx.region, text


def find_version_by_arn(store, arn: str) -> dict | None:
    m = _LAYER_ARN.match(arn or "")
    if not m or not m.group(4):
        return None
    region, account, name, version = m.group(1), m.group(2), m.group(3), m.group(4)
    return store.table(scope(account, region), LAYER_VERSION).get(f"{name}:{version}")


def publish_layer_version(ctx, p):
    account, region, name = _name_of(ctx, p["LayerName"])
    if account != ctx.account:
        raise invalid("You can only publish versions of your own layers.")
    content = p["Content"]
    from_s3 = bool(content.get("S3Bucket") or content.get("S3Key"))
    if from_s3:
        from .s3_code import fetch

        data = fetch(ctx, content)
    else:
        data = content.get("ZipFile")
    if not data:
        raise invalid("Please provide a source for layer content.")
    info = code.inspect(data, "PublishLayerVersion", from_s3=from_s3)
    layers = ctx.store.table(ctx.scope, LAYER)
    layer = layers.get(name) or {"LayerName": name, "LayerArn": layer_arn(account, region, name), "_next": 1}
    number = layer["_next"]
    layer["_next"] = number + 1
    layers.put(name, layer)
    version = {
        "Content": {"Location": f"{ctx.endpoint}/_kumo/lambda/code/{info['sha']}.zip",
                    "CodeSha256": info["CodeSha256"], "CodeSize": info["CodeSize"]},
        "LayerArn": layer["LayerArn"], "LayerVersionArn": layer_arn(account, region, name, number),
        "Description": p.get("Description") or "", "CreatedDate": timestamp(ctx.now()), "Version": number,
        "CompatibleRuntimes": p.get("CompatibleRuntimes") or [],
        "CompatibleArchitectures": p.get("CompatibleArchitectures") or [],
        "_code": {"sha": info["sha"], "unzipped": info["unzipped"]}, "_unzipped": info["unzipped"], "_policy": [],
    }
    if p.get("LicenseInfo"):
        version["LicenseInfo"] = p["LicenseInfo"]
    code.keep(ctx.store, info["sha"], data)
    ctx.store.table(ctx.scope, LAYER_VERSION).put(f"{name}:{number}", version)
    return version


def _version(ctx, p) -> tuple[str, dict]:
    account, region, name = _name_of(ctx, p["LayerName"])
    key = f"{name}:{p['VersionNumber']}"
    version = ctx.store.table(scope(account, region), LAYER_VERSION).get(key)
    if version is None:
        raise not_found("The resource you requested does not exist.")
    return key, version


def get_layer_version(ctx, p):
    return _version(ctx, p)[1]


def get_layer_version_by_arn(ctx, p):
    version = find_version_by_arn(ctx.store, p["Arn"])
    if version is None:
        raise not_found("The resource you requested does not exist.")
    return version


def delete_layer_version(ctx, p):
    account, region, name = _name_of(ctx, p["LayerName"])
    table = ctx.store.table(scope(account, region), LAYER_VERSION)
    version = table.get(f"{name}:{p['VersionNumber']}")
    if version is not None:  # AWS answers success for a version that does not exist
        table.delete(f"{name}:{p['VersionNumber']}")
        ctx.kumo.services["lambda_"].release_code(version["_code"]["sha"])
    return {}


def _summary(version: dict) -> dict:
    return {k: version[k] for k in ("LayerVersionArn", "Version", "Description", "CreatedDate", "CompatibleRuntimes",
                                   "LicenseInfo", "CompatibleArchitectures") if k in version}


def _matches(version: dict, p: dict) -> bool:
    runtime, arch = p.get("CompatibleRuntime"), p.get("CompatibleArchitecture")
    if runtime and runtime not in version.get("CompatibleRuntimes", []):
        return False
    if arch and arch not in version.get("CompatibleArchitectures", []):
        return False
    return True


def list_layer_versions(ctx, p):
    account, region, name = _name_of(ctx, p["LayerName"])
    table = ctx.store.table(scope(account, region), LAYER_VERSION)
    items = sorted((v for k, v in table.items() if k.rsplit(":", 1)[0] == name and _matches(v, p)),
                   key=lambda v: -v["Version"])
    page, marker = paginate([_summary(v) for v in items], p.get("Marker"), p.get("MaxItems"))
    out = {"LayerVersions": page}
    if marker:
        out["NextMarker"] = marker
    return out


def list_layers(ctx, p):
    table = ctx.store.table(ctx.scope, LAYER_VERSION)
    newest: dict[str, dict] = {}
    for key, version in table.items():
        name = key.rsplit(":", 1)[0]
        if _matches(version, p) and (name not in newest or version["Version"] > newest[name]["Version"]):
            newest[name] = version
    items = [{"LayerName": name, "LayerArn": v["LayerArn"], "LatestMatchingVersion": _summary(v)}
             for name, v in sorted(newest.items())]
    page, marker = paginate(items, p.get("Marker"), p.get("MaxItems"))
    out = {"Layers": page}
    if marker:
        out["NextMarker"] = marker
    return out


# -- layer version permissions (stored, enforced when IAM enforcement arrives) ----------------------------


def add_layer_version_permission(ctx, p):
    key, version = _version(ctx, p)
    statements = version.setdefault("_policy", [])
    if any(s["Sid"] == p["StatementId"] for s in statements):
        from .model import conflict

        raise conflict(f"The statement id ({p['StatementId']}) provided already exists. Please provide a new statement "
                       "id, or remove the existing statement.")
    principal = p["Principal"]
    statement = {"Sid": p["StatementId"], "Effect": "Allow",
                 "Principal": "*" if principal == "*" else {"AWS": f"arn:aws:iam::{principal}:root"
                                                            if principal.isdigit() else principal},
                 "Action": p["Action"], "Resource": version["LayerVersionArn"]}
    if p.get("OrganizationId"):
        statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": p["OrganizationId"]}}
    statements.append(statement)
    version["_policy_revision"] = _revision()
    ctx.store.table(ctx.scope, LAYER_VERSION).put(key, version)
    return {"Statement": json.dumps(statement), "RevisionId": version["_policy_revision"]}


def remove_layer_version_permission(ctx, p):
    key, version = _version(ctx, p)
    before = len(version.get("_policy", []))
    version["_policy"] = [s for s in version.get("_policy", []) if s["Sid"] != p["StatementId"]]
    if len(version["_policy"]) == before:
        raise not_found("Statement not found")
    version["_policy_revision"] = _revision()
    ctx.store.table(ctx.scope, LAYER_VERSION).put(key, version)
    return {}


def get_layer_version_policy(ctx, p):
    _key, version = _version(ctx, p)
    if not version.get("_policy"):
        raise not_found("No policy is associated with the given resource.")
    doc = {"Version": "2012-10-17", "Id": "default", "Statement": version["_policy"]}
    return {"Policy": json.dumps(doc), "RevisionId": version.get("_policy_revision", "")}


def _revision() -> str:
    from .model import revision

    return revision()
