"""Versions (immutable snapshots of $LATEST) and aliases (named pointers, optionally weighted over two versions)."""

from __future__ import annotations

import copy

from ...aws.errors import AwsError
from . import routing
from .activation import NAME as ACTIVATION
from .functions import paginate, ref_of, require
from .model import (ALIAS, EVENT_INVOKE, LATEST, POLICY, PROVISIONED, URL, VERSION, check_alias_name, conflict,
                    function_arn, invalid, not_found, precondition, revision, timestamp)

_SNAPSHOT_SAME = ("CodeSha256", "Runtime", "Role", "Handler", "Description", "Timeout", "MemorySize", "Environment",
                  "DeadLetterConfig", "TracingConfig", "Layers", "EphemeralStorage", "LoggingConfig", "Architectures",
                  "KMSKeyArn", "VpcConfig")


def _same(a: dict, b: dict) -> bool:
    return all(a.get(k) == b.get(k) for k in _SNAPSHOT_SAME)


def publish(ctx, fn: dict, description: str | None, code_sha: str | None) -> dict:
    """Snapshot $LATEST as the next version (or return the latest version when nothing changed, as AWS does)."""
    versions = ctx.kumo.store.table(ctx.scope, VERSION)
    name = fn["FunctionName"]
    mine = [v for k, v in versions.items() if k.rsplit(":", 1)[0] == name]
    if mine:
        newest = max(mine, key=lambda v: int(v["Version"]))
        if _same(newest, fn) and (description is None or description == newest.get("Description")):
            return newest
    number = str(fn.get("_next_version") or 1)
    fn["_next_version"] = int(number) + 1
    ctx.kumo.store.table(ctx.scope, "lambda.function").put(name, fn)
    snap = copy.deepcopy({k: v for k, v in fn.items() if k not in ("_tags", "_reserved", "_next_version")})
    snap.update(Version=number, FunctionArn=function_arn(ctx.account, ctx.region, name, number),
                RevisionId=revision(), LastModified=timestamp(ctx.now()))
    if description is not None:
        snap["Description"] = description
    if fn.get("State") != "Active" or fn.get("LastUpdateStatus") == "InProgress":
        snap.update(State="Pending", StateReason="The function is being created.", StateReasonCode="Creating")
        ctx.controllers.enqueue(ACTIVATION, (ctx.scope, VERSION, f"{name}:{number}"))
    snap.pop("LastUpdateStatusReason", None)
    snap.pop("LastUpdateStatusReasonCode", None)
    snap["LastUpdateStatus"] = "Successful"
    versions.put(f"{name}:{number}", snap)
    return snap


def publish_version(ctx, p):
    ref = ref_of(ctx, p, allow_qualifier=False)
    fn = require(ctx, ref)
    if p.get("RevisionId") and p["RevisionId"] != fn["RevisionId"]:
        raise precondition()
    if p.get("CodeSha256") and p["CodeSha256"] != fn["CodeSha256"]:
        raise invalid(f"CodeSHA256 ({p['CodeSha256']}) is different from current CodeSHA256 in $LATEST "
                      f"({fn['CodeSha256']}). Please try again with the CodeSHA256 in $LATEST.")
    if fn.get("LastUpdateStatus") == "InProgress":
        raise conflict(f"The operation cannot be performed at this time. An update is in progress for resource: "
                       f"{fn['FunctionArn']}")
    return publish(ctx, fn, p.get("Description"), p.get("CodeSha256"))


def list_versions_by_function(ctx, p):
    ref = ref_of(ctx, p, allow_qualifier=False)
    fn = require(ctx, ref)
    versions = [v for k, v in ctx.kumo.store.table(ctx.scope, VERSION).items() if k.rsplit(":", 1)[0] == ref.name]
    latest = dict(fn, FunctionArn=function_arn(ctx.account, ctx.region, ref.name, LATEST))
    items = [latest] + sorted(versions, key=lambda v: int(v["Version"]))
    page, marker = paginate(items, p.get("Marker"), p.get("MaxItems"))
    out = {"Versions": page}
    if marker:
        out["NextMarker"] = marker
    return out


# -- aliases -----------------------------------------------------------------------------------------


def _aliases(ctx):
    return ctx.kumo.store.table(ctx.scope, ALIAS)


def _check_targets(ctx, name: str, version: str, routing_config: dict | None) -> dict | None:
    versions = ctx.kumo.store.table(ctx.scope, VERSION)
    if version != LATEST and f"{name}:{version}" not in versions:
        raise not_found(f"Function not found: {function_arn(ctx.account, ctx.region, name, version)}")
    weights = (routing_config or {}).get("AdditionalVersionWeights") or {}
    if not weights:
        return {"AdditionalVersionWeights": {}} if routing_config is not None else None
    if len(weights) > 1:
        raise invalid("Number of items in AdditionalVersionWeights cannot be greater than 1")
    if version == LATEST or LATEST in weights:
        raise invalid("$LATEST is not supported for an alias pointing to more than 1 version")
    for extra, weight in weights.items():
        if extra == version:
            raise invalid(f"Invalid function version {extra}. Function version {extra} is already included in "
                          "routing configuration.")
        if f"{name}:{extra}" not in versions:
            raise invalid(f"Function version {extra} does not exist")
        if not 0.0 <= float(weight) <= 1.0:
            raise AwsError("ValidationException",
                           f"1 validation error detected: Value '{weight}' at 'routingConfig.additionalVersionWeights' "
                           "failed to satisfy constraint: Map value must satisfy constraint: [Member must have value "
                           "less than or equal to 1.0, Member must have value greater than or equal to 0.0]")
    return {"AdditionalVersionWeights": {k: float(v) for k, v in weights.items()}}


def create_alias(ctx, p):
    ref = ref_of(ctx, p, allow_qualifier=False)
    require(ctx, ref)
    check_alias_name(p["Name"])
    if p["Name"] == LATEST:
        raise invalid("Alias name $LATEST is reserved.")
    key = f"{ref.name}:{p['Name']}"
    if key in _aliases(ctx):
        raise conflict(f"Alias already exists: {ref.arn(p['Name'])}")
    routing_config = _check_targets(ctx, ref.name, p["FunctionVersion"], p.get("RoutingConfig"))
    alias = {"AliasArn": ref.arn(p["Name"]), "Name": p["Name"], "FunctionVersion": p["FunctionVersion"],
             "Description": p.get("Description") or "", "RevisionId": revision(), "_function": ref.name}
    if routing_config is not None:
        alias["RoutingConfig"] = routing_config
    _aliases(ctx).put(key, alias)
    return alias


def _alias(ctx, p) -> tuple[str, dict]:
    ref = ref_of(ctx, p, allow_qualifier=False)
    require(ctx, ref)
    key = f"{ref.name}:{p['Name']}"
    alias = _aliases(ctx).get(key)
    if alias is None:
        raise not_found(f"Cannot find alias arn: {ref.arn(p['Name'])}")
    return key, alias


def get_alias(ctx, p):
    return _alias(ctx, p)[1]


def update_alias(ctx, p):
    key, alias = _alias(ctx, p)
    if p.get("RevisionId") and p["RevisionId"] != alias["RevisionId"]:
        raise precondition()
    version = p.get("FunctionVersion") or alias["FunctionVersion"]
    routing_config = p.get("RoutingConfig", alias.get("RoutingConfig"))
    checked = _check_targets(ctx, alias["_function"], version, routing_config)
    alias["FunctionVersion"] = version
    if checked is not None:
        alias["RoutingConfig"] = checked
    else:
        alias.pop("RoutingConfig", None)
    if "Description" in p:
        alias["Description"] = p["Description"] or ""
    alias["RevisionId"] = revision()
    _aliases(ctx).put(key, alias)
    ctx.kumo.services["lambda_"].routing_changed(key)
    return alias


def delete_alias(ctx, p):
    key, alias = _alias(ctx, p)
    store = ctx.kumo.store
    for kind in (EVENT_INVOKE, PROVISIONED, POLICY, URL):
        record = store.table(ctx.scope, kind).get(key)
        if record is not None and kind == URL:
            ctx.kumo.services["lambda_"].urls.forget(record)
        store.table(ctx.scope, kind).delete(key)
    _aliases(ctx).delete(key)
    return {}


def list_aliases(ctx, p):
    ref = ref_of(ctx, p, allow_qualifier=False)
    require(ctx, ref)
    items = sorted((a for a in _aliases(ctx).values() if a["_function"] == ref.name), key=lambda a: a["Name"])
    if p.get("FunctionVersion"):
        items = [a for a in items if a["FunctionVersion"] == p["FunctionVersion"]]
    page, marker = paginate(items, p.get("Marker"), p.get("MaxItems"))
    out = {"Aliases": page}
    if marker:
        out["NextMarker"] = marker
    return out


def pick_version(alias: dict, u: float) -> str:
    """The version an invocation of ``alias`` runs, for a number ``u`` in [0, 1)."""
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return routing.choose(alias["FunctionVersion"], weights, u)
