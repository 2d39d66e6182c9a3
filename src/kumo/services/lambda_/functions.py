"""Functions: CreateFunction, Get/List/Delete, UpdateFunctionCode/Configuration.

A function record is $LATEST's FunctionConfiguration plus internal fields.
CreateFunction stores the zip and answers ``Pending``; the ``lambda-functions``
controller (``activation.py``) unpacks the code and layers, checks that this host can run the
runtime, and moves the function to ``Active`` (or ``Failed`` with AWS's
reason), as AWS does a moment after the call.  Updates go through
``LastUpdateStatus`` InProgress → Successful the same way.
"""

from __future__ import annotations

import base64

from . import code
from .activation import NAME
from .checks import (zip_from, check_dead_letter, check_environment, check_layers, check_role, check_runtime,
                     check_timeout, combined_size)
from .model import (ALIAS, EVENT_INVOKE, FUNCTION, LATEST, POLICY, PROVISIONED, URL, VERSION, check_name, conflict,
                    function_arn, function_not_found, invalid, parse_function, precondition, revision, scope,
                    timestamp)


def service(ctx):
    return ctx.kumo.services["lambda_"]


def functions(ctx):
    return ctx.table("function")


def get_record(ctx, name: str) -> dict | None:
    return ctx.kumo.store.table(ctx.scope, FUNCTION).get(name)


def require(ctx, ref) -> dict:
    fn = ctx.kumo.store.table(scope(ref.account, ref.region), FUNCTION).get(ref.name)
    if fn is None:
        raise function_not_found(ref.arn())
    return fn


def ref_of(ctx, p, allow_qualifier: bool = True, key: str = "FunctionName"):
    ref = parse_function(ctx.account, ctx.region, p[key], p.get("Qualifier"), allow_qualifier)
    if ref.account != ctx.account and not ctx.extra.get("iam_cross_account"):
        # Another account's function is reachable only when IAM enforcement found its resource
        # policy granting this caller (kumo.aws.authorize); without enforcement nothing evaluates it.
        raise function_not_found(ref.arn(ref.qualifier))
    return ref


def config_for(store, account: str, region: str, fn: dict, qualifier: str | None) -> dict | None:
    """The FunctionConfiguration a qualifier names: $LATEST, a version, or (None) unqualified."""
    if qualifier in (None, LATEST):
        return fn
    if qualifier.isdigit():
        return store.table(scope(account, region), VERSION).get(f"{fn['FunctionName']}:{qualifier}")
    return None


# -- create ----------------------------------------------------------------------------------------


def create_function(ctx, p):
    name = p["FunctionName"]
    if ":" in name:
        ref = parse_function(ctx.account, ctx.region, name, allow_qualifier=False)
        name = ref.name
    check_name(name)
    table = functions(ctx)
    arn = function_arn(ctx.account, ctx.region, name)
    if name in table:
        raise conflict(f"Function already exist: {name}")
    if (p.get("PackageType") or "Zip") == "Image":
        raise invalid("kumo runs functions packaged as Zip archives; PackageType Image is not supported.")
    check_runtime(p.get("Runtime"), p.get("Handler"))
    check_role(ctx, p["Role"])
    data, from_s3 = zip_from(ctx, p, "CreateFunction")
    info = code.inspect(data, from_s3=from_s3)
    layers = check_layers(ctx, p.get("Layers"), p.get("Runtime"))
    combined_size(ctx, info["unzipped"], layers)
    now = ctx.now()
    fn = {
        "FunctionName": name,
        "FunctionArn": arn,
        "Runtime": p["Runtime"],
        "Role": p["Role"],
        "Handler": p.get("Handler"),
        "CodeSize": info["CodeSize"],
        "Description": p.get("Description") or "",
        "Timeout": check_timeout(p.get("Timeout")),
        "MemorySize": p.get("MemorySize") or 128,
        "LastModified": timestamp(now),
        "CodeSha256": info["CodeSha256"],
        "Version": LATEST,
        "Environment": check_environment(p.get("Environment")),
        "TracingConfig": {"Mode": (p.get("TracingConfig") or {}).get("Mode") or "PassThrough"},
        "RevisionId": revision(),
        "Layers": layers,
        "State": "Pending",
        "StateReason": "The function is being created.",
        "StateReasonCode": "Creating",
        "PackageType": "Zip",
        "Architectures": p.get("Architectures") or ["x86_64"],
        "EphemeralStorage": {"Size": (p.get("EphemeralStorage") or {}).get("Size") or 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": _logging_config(p.get("LoggingConfig"), name),
        "_code": {"sha": info["sha"], "unzipped": info["unzipped"]},
        "_tags": dict(p.get("Tags") or {}),
        "_created": now,
        "_next_version": 1,
    }
    if p.get("Description") is None:
        fn["Description"] = ""
    dlq = check_dead_letter(p.get("DeadLetterConfig"))
    if dlq:
        fn["DeadLetterConfig"] = dlq
    if p.get("KMSKeyArn"):
        fn["KMSKeyArn"] = p["KMSKeyArn"]
    if p.get("VpcConfig"):
        fn["VpcConfig"] = {"SubnetIds": p["VpcConfig"].get("SubnetIds") or [],
                           "SecurityGroupIds": p["VpcConfig"].get("SecurityGroupIds") or [], "VpcId": ""}
    code.keep(ctx.store, info["sha"], data)
    table.put(name, fn)
    out = fn
    if p.get("Publish"):
        from .versions import publish

        publish(ctx, fn, None, None)
    ctx.controllers.enqueue(NAME, (ctx.scope, FUNCTION, name))
    return out


def _logging_config(given: dict | None, name: str) -> dict:
    given = given or {}
    fmt = given.get("LogFormat") or "Text"
    out = {"LogFormat": fmt, "LogGroup": given.get("LogGroup") or f"/aws/lambda/{name}"}
    if fmt == "JSON":
        out["ApplicationLogLevel"] = given.get("ApplicationLogLevel") or "INFO"
        out["SystemLogLevel"] = given.get("SystemLogLevel") or "INFO"
    return out


# -- read --------------------------------------------------------------------------------------------


def _resolved(ctx, p) -> tuple[dict, dict]:
    ref = ref_of(ctx, p)
    fn = require(ctx, ref)
    q = ref.qualifier
    if q not in (None, LATEST) and not q.isdigit():
        alias = ctx.kumo.store.table(ctx.scope, ALIAS).get(f"{ref.name}:{q}")
        if alias is None:
            raise function_not_found(ref.arn(q))
        q = alias["FunctionVersion"]
    config = config_for(ctx.store, ctx.account, ctx.region, fn, q)
    if config is None:
        raise function_not_found(ref.arn(ref.qualifier))
    return fn, config


def get_function_configuration(ctx, p):
    return _resolved(ctx, p)[1]


def get_function(ctx, p):
    fn, config = _resolved(ctx, p)
    out = {"Configuration": config,
           "Code": {"RepositoryType": "S3",
                    "Location": f"{ctx.endpoint}/_kumo/lambda/code/{config['_code']['sha']}.zip"}}
    if fn.get("_tags"):
        out["Tags"] = fn["_tags"]
    if fn.get("_reserved") is not None:
        out["Concurrency"] = {"ReservedConcurrentExecutions": fn["_reserved"]}
    return out


def list_functions(ctx, p):
    items = sorted(functions(ctx).values(), key=lambda f: f["FunctionName"])
    out = []
    versions = ctx.kumo.store.table(ctx.scope, VERSION)
    for fn in items:
        if p.get("FunctionVersion") == "ALL":  # listed beside its versions, $LATEST is named qualified (AWS)
            out.append(dict(fn, FunctionArn=function_arn(ctx.account, ctx.region, fn["FunctionName"], LATEST)))
        else:
            out.append(fn)
        if p.get("FunctionVersion") == "ALL":
            mine = [v for k, v in versions.items() if k.rsplit(":", 1)[0] == fn["FunctionName"]]
            out.extend(sorted(mine, key=lambda v: int(v["Version"])))
    page, marker = paginate(out, p.get("Marker"), p.get("MaxItems"))
    result = {"Functions": page}
    if marker:
        result["NextMarker"] = marker
    return result


def paginate(items: list, marker: str | None, max_items: int | None, limit: int = 50) -> tuple[list, str | None]:
    start = 0
    if marker:
        try:
            start = int(base64.b64decode(marker).decode())
        except (ValueError, UnicodeDecodeError):
            raise invalid("Invalid marker.")
    size = max_items or limit
    page = items[start:start + size]
    nxt = start + size
    return page, (base64.b64encode(str(nxt).encode()).decode() if nxt < len(items) else None)


# -- update ----------------------------------------------------------------------------------------


def _updatable(ctx, p) -> dict:
    ref = ref_of(ctx, p, allow_qualifier=False)
    fn = require(ctx, ref)
    if p.get("RevisionId") and p["RevisionId"] != fn["RevisionId"]:
        raise precondition()
    if fn.get("LastUpdateStatus") == "InProgress" or fn["State"] == "Pending":
        raise conflict(f"The operation cannot be performed at this time. An update is in progress for resource: "
                       f"{fn['FunctionArn']}")
    return fn


def _begin_update(ctx, fn: dict) -> None:
    fn["LastModified"] = timestamp(ctx.now())
    fn["RevisionId"] = revision()
    fn["LastUpdateStatus"] = "InProgress"
    fn["LastUpdateStatusReason"] = "The function is being created."
    fn["LastUpdateStatusReasonCode"] = "Creating"


def update_function_code(ctx, p):
    fn = _updatable(ctx, p)
    data, from_s3 = zip_from(ctx, p, "UpdateFunctionCode")
    info = code.inspect(data, "UpdateFunctionCode", from_s3=from_s3)
    combined_size(ctx, info["unzipped"], fn.get("Layers") or [])
    if p.get("DryRun"):
        preview = dict(fn, CodeSha256=info["CodeSha256"], CodeSize=info["CodeSize"])
        return preview
    old = fn["_code"]["sha"]
    code.keep(ctx.store, info["sha"], data)
    fn.update(CodeSha256=info["CodeSha256"], CodeSize=info["CodeSize"])
    fn["_code"] = {"sha": info["sha"], "unzipped": info["unzipped"]}
    if p.get("Architectures"):
        fn["Architectures"] = p["Architectures"]
    _begin_update(ctx, fn)
    functions(ctx).put(fn["FunctionName"], fn)
    if p.get("Publish"):
        from .versions import publish

        publish(ctx, fn, None, None)
    service(ctx).release_code(old)
    ctx.controllers.enqueue(NAME, (ctx.scope, FUNCTION, fn["FunctionName"]))
    return fn


def update_function_configuration(ctx, p):
    fn = _updatable(ctx, p)
    if "Runtime" in p or "Handler" in p:
        check_runtime(p.get("Runtime", fn.get("Runtime")), p.get("Handler", fn.get("Handler")))
    if p.get("Role"):
        check_role(ctx, p["Role"])
        fn["Role"] = p["Role"]
    for key in ("Runtime", "Handler", "Description", "MemorySize", "KMSKeyArn"):
        if key in p:
            fn[key] = p[key]
    if "Timeout" in p:
        fn["Timeout"] = check_timeout(p["Timeout"])
    if "Environment" in p:
        fn["Environment"] = check_environment(p["Environment"])
    if "TracingConfig" in p:
        fn["TracingConfig"] = {"Mode": p["TracingConfig"].get("Mode") or "PassThrough"}
    if "DeadLetterConfig" in p:
        dlq = check_dead_letter(p["DeadLetterConfig"])
        if dlq:
            fn["DeadLetterConfig"] = dlq
        else:
            fn.pop("DeadLetterConfig", None)
    if "Layers" in p:
        fn["Layers"] = check_layers(ctx, p["Layers"], fn.get("Runtime"))
        combined_size(ctx, fn["_code"]["unzipped"], fn["Layers"])
    if "EphemeralStorage" in p:
        fn["EphemeralStorage"] = {"Size": p["EphemeralStorage"].get("Size") or 512}
    if "LoggingConfig" in p:
        fn["LoggingConfig"] = _logging_config(p["LoggingConfig"], fn["FunctionName"])
    if "VpcConfig" in p:
        fn["VpcConfig"] = {"SubnetIds": p["VpcConfig"].get("SubnetIds") or [],
                           "SecurityGroupIds": p["VpcConfig"].get("SecurityGroupIds") or [], "VpcId": ""}
    _begin_update(ctx, fn)
    functions(ctx).put(fn["FunctionName"], fn)
    ctx.controllers.enqueue(NAME, (ctx.scope, FUNCTION, fn["FunctionName"]))
    return fn


# -- delete ------------------------------------------------------------------------------------------


def delete_function(ctx, p):
    ref = ref_of(ctx, p)
    fn = require(ctx, ref)
    store = ctx.store
    svc = service(ctx)
    name = fn["FunctionName"]
    if ref.qualifier:
        if ref.qualifier == LATEST:
            raise invalid("$LATEST version cannot be deleted without deleting the function.")
        if not ref.qualifier.isdigit():
            raise invalid(f"Deletion of aliases is not supported by DeleteFunction ({ref.qualifier}); use DeleteAlias.")
        versions = store.table(ctx.scope, VERSION)
        version = versions.get(f"{name}:{ref.qualifier}")
        if version is None:
            raise function_not_found(ref.arn(ref.qualifier))
        users = sorted(a["Name"] for a in store.table(ctx.scope, ALIAS).values()
                       if a["_function"] == name and (a["FunctionVersion"] == ref.qualifier or ref.qualifier in (
                           (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})))
        if users:
            raise conflict(f"Unable to delete version because the following aliases reference it: {users}")
        versions.delete(f"{name}:{ref.qualifier}")
        for kind in (EVENT_INVOKE, PROVISIONED, POLICY):
            store.table(ctx.scope, kind).delete(f"{name}:{ref.qualifier}")
        svc.release_code(version["_code"]["sha"])
        ctx.after(svc.drop_environments(ctx.account, ctx.region, name, ref.qualifier))
        return {}
    for kind in (VERSION, ALIAS, EVENT_INVOKE, PROVISIONED, POLICY, URL):
        table = store.table(ctx.scope, kind)
        for key in [k for k in table.keys() if k.split(":", 1)[0] == name]:
            record = table.get(key)
            if kind == VERSION:
                svc.release_code(record["_code"]["sha"])
            if kind == URL:
                svc.urls.forget(record)
            table.delete(key)
    functions(ctx).delete(name)
    svc.release_code(fn["_code"]["sha"])
    svc.async_queue.drop_function(ctx.account, ctx.region, name)
    ctx.after(svc.drop_environments(ctx.account, ctx.region, name, None))
    return {}


