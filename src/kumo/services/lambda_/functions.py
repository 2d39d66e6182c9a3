"""Functions: CreateFunction, Get/List/Delete, UpdateFunctionCode/Configuration, tags.

A function record is $LATEST's FunctionConfiguration plus internal fields.
CreateFunction stores the zip and answers ``Pending``; the ``lambda-functions``
controller unpacks the code and layers, checks that this host can run the
runtime, and moves the function to ``Active`` (or ``Failed`` with AWS's
reason), as AWS does a moment after the call.  Updates go through
``LastUpdateStatus`` InProgress → Successful the same way.
"""

from __future__ import annotations

import asyncio
import base64
import json

from ...aws.errors import AwsError
from ...core.controllers import Controller
from . import code, runtimes
from .model import (ALIAS, ESM, EVENT_INVOKE, FUNCTION, LATEST, POLICY, PROVISIONED, URL, VERSION, check_name,
                    conflict, function_arn, function_not_found, invalid, not_found, parse_function, precondition,
                    revision, scope, timestamp)

NAME = "lambda-functions"
RESERVED_ENV = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}
ENV_LIMIT = 4096
MAX_LAYERS = 5
CONFIG_KEYS = ("Runtime", "Role", "Handler", "Description", "Timeout", "MemorySize", "Environment", "DeadLetterConfig",
               "TracingConfig", "Layers", "EphemeralStorage", "LoggingConfig", "Architectures", "KMSKeyArn",
               "VpcConfig")


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
    if ref.account != ctx.account:
        # Cross-account access needs resource policies kumo stores but does not evaluate yet.
        raise function_not_found(ref.arn(ref.qualifier))
    return ref


def config_for(store, account: str, region: str, fn: dict, qualifier: str | None) -> dict | None:
    """The FunctionConfiguration a qualifier names: $LATEST, a version, or (None) unqualified."""
    if qualifier in (None, LATEST):
        return fn
    if qualifier.isdigit():
        return store.table(scope(account, region), VERSION).get(f"{fn['FunctionName']}:{qualifier}")
    return None


# -- checks --------------------------------------------------------------------------------------


def check_role(ctx, role_arn: str) -> None:
    from ..iam.model import ROLE

    parts = (role_arn or "").split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("role/") \
            or not parts[4].isdigit() or len(parts[4]) != 12:
        raise AwsError("ValidationException",
                       f"1 validation error detected: Value '{role_arn}' at 'role' failed to satisfy constraint: "
                       "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?"
                       "[a-zA-Z_0-9+=,.@\\-_/]+")
    role = ctx.kumo.store.table(parts[4], ROLE).get(parts[5].rsplit("/", 1)[-1])
    if role is None or not _trusts_lambda(role.get("AssumeRolePolicyDocument") or ""):
        raise invalid("The role defined for the function cannot be assumed by Lambda.")


def _trusts_lambda(document: str) -> bool:
    try:
        doc = json.loads(document)
    except ValueError:
        return False
    statements = doc.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    for st in statements:
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        actions = st.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        principal = st.get("Principal") or {}
        if principal == "*":
            return True
        services = principal.get("Service") if isinstance(principal, dict) else None
        services = [services] if isinstance(services, str) else (services or [])
        if "lambda.amazonaws.com" in services or principal.get("AWS") == "*":
            return True
    return False


def check_environment(env: dict | None) -> dict:
    variables = (env or {}).get("Variables") or {}
    reserved = sorted(k for k in variables if k in RESERVED_ENV)
    if reserved:
        raise invalid("Lambda was unable to configure your environment variables because the environment variables "
                      "you have provided contains reserved keys that are currently not supported for modification. "
                      f"Reserved keys used in this request: {', '.join(reserved)}")
    text = json.dumps(variables, separators=(",", ":"))
    if len(text.encode()) > ENV_LIMIT:
        raise invalid("Lambda was unable to configure your environment variables because the environment variables "
                      f"you have provided exceeded the 4KB limit. String measured: {text}")
    return {"Variables": dict(variables)}


def check_runtime(runtime: str | None, handler: str | None) -> None:
    if not runtime or (runtime not in runtimes.CUSTOM and not handler):
        raise invalid("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
    if runtime in runtimes.BLOCKED:
        raise invalid(runtimes.blocked_message(runtime))


def check_timeout(timeout) -> int:
    if timeout is None:
        return 3
    if not 1 <= timeout <= 900:
        raise AwsError("ValidationException",
                       f"1 validation error detected: Value '{timeout}' at 'timeout' failed to satisfy constraint: "
                       f"Member must have value {'less than or equal to 900' if timeout > 900 else 'greater than or equal to 1'}")
    return int(timeout)


def check_layers(ctx, arns: list[str] | None, runtime: str | None) -> list[dict]:
    from .layers import find_version_by_arn

    arns = list(arns or [])
    if len(arns) > MAX_LAYERS:
        raise invalid(f"Cannot reference more than {MAX_LAYERS} layers.")
    out = []
    for arn in arns:
        version = find_version_by_arn(ctx.kumo.store, arn)
        if version is None:
            raise invalid(f"Layer version {arn} does not exist.")
        out.append({"Arn": arn, "CodeSize": version["Content"]["CodeSize"]})
    return out


def check_dead_letter(config: dict | None) -> dict | None:
    if not config:
        return None
    target = config.get("TargetArn")
    if target and not (target.startswith("arn:aws:sqs:") or target.startswith("arn:aws:sns:")):
        raise invalid(f"The provided target arn {target} is invalid. It must be an SQS queue or SNS topic arn.")
    return {"TargetArn": target} if target else {}


def combined_size(ctx, unzipped: int, layers: list[dict]) -> None:
    from .layers import find_version_by_arn

    total = unzipped
    for layer in layers:
        version = find_version_by_arn(ctx.kumo.store, layer["Arn"])
        total += version.get("_unzipped", 0) if version else 0
    if total > code.MAX_UNZIPPED:
        raise invalid("Function code combined with layers exceeds the maximum allowed size of "
                      f"{code.MAX_UNZIPPED} bytes. The actual size is {total} bytes.")


def _zip_of(p: dict, operation: str) -> bytes:
    source = p.get("Code") if operation == "CreateFunction" else p
    if source.get("ImageUri"):
        raise invalid("kumo runs functions packaged as Zip archives; container images (ImageUri) are not supported.")
    if source.get("S3Bucket") or source.get("S3Key"):
        raise invalid("Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified "
                      "bucket does not exist (kumo has no S3 yet: pass ZipFile)")
    data = source.get("ZipFile")
    if not data:
        raise invalid("Please provide a source for function code." if operation == "CreateFunction"
                      else "Please provide a source for function code.")
    return data


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
    data = _zip_of(p, "CreateFunction")
    info = code.inspect(data)
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
    data = _zip_of(p, "UpdateFunctionCode")
    info = code.inspect(data, "UpdateFunctionCode")
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


# -- tags --------------------------------------------------------------------------------------------


def _tagged(ctx, arn: str) -> tuple[object, str, dict]:
    if ":event-source-mapping:" in arn:
        uuid = arn.rsplit(":", 1)[-1]
        table = ctx.kumo.store.table(ctx.scope, ESM)
        esm = table.get(uuid)
        if esm is None or esm.get("EventSourceMappingArn") != arn:
            raise not_found(f"Event source mapping not found: {arn}")
        return table, uuid, esm
    ref = parse_function(ctx.account, ctx.region, arn)
    if not arn.startswith("arn:"):
        raise invalid(f"The resource you requested does not exist. {arn}")
    if ref.qualifier:
        raise invalid("Tags on function aliases and versions are not supported. Please specify a function ARN.")
    table = ctx.kumo.store.table(scope(ref.account, ref.region), FUNCTION)
    fn = table.get(ref.name) if ref.account == ctx.account else None
    if fn is None:
        raise function_not_found(arn)
    return table, ref.name, fn


def list_tags(ctx, p):
    _table, _key, record = _tagged(ctx, p["Resource"])
    return {"Tags": dict(record.get("_tags") or {})}


def tag_resource(ctx, p):
    table, key, record = _tagged(ctx, p["Resource"])
    tags = dict(record.get("_tags") or {})
    tags.update(p.get("Tags") or {})
    if len(tags) > 50:
        raise invalid("Number of tags exceeds resource tag limit.")
    record["_tags"] = tags
    table.put(key, record)
    return {}


def untag_resource(ctx, p):
    table, key, record = _tagged(ctx, p["Resource"])
    tags = dict(record.get("_tags") or {})
    for k in p.get("TagKeys") or []:
        tags.pop(k, None)
    record["_tags"] = tags
    table.put(key, record)
    return {}


# -- the controller: Pending → Active ------------------------------------------------------------------


class Activation(Controller):
    """Makes functions and versions ready to run: code and layers unpacked, runtime available on this host."""

    name = NAME
    resync_interval = 60.0

    def __init__(self, kumo, service):
        self.kumo = kumo
        self.service = service

    def keys(self):
        out = []
        for kind in (FUNCTION, VERSION):
            for sc, key, rec in self.kumo.store.all(kind):
                if rec.get("State") == "Pending" or rec.get("LastUpdateStatus") == "InProgress":
                    out.append((sc, kind, key))
        return out

    async def reconcile(self, key):
        sc, kind, name = key
        store = self.kumo.store
        rec = store.table(sc, kind).get(name)
        if rec is None:
            return None
        revision_seen = rec["RevisionId"]
        problem = None
        try:  # off the loop: finding interpreters runs them once, and Java's client may be compiled
            await asyncio.get_running_loop().run_in_executor(None, runtimes.resolve, rec["Runtime"])
        except runtimes.Unavailable as exc:
            problem = ("InvalidRuntime", str(exc))
        try:
            await self.service.unpacker.ensure(rec["_code"]["sha"])
            for layer in rec.get("Layers") or []:
                await self.service.layer_dir(layer["Arn"])
        except (OSError, LookupError, ValueError) as exc:
            problem = problem or ("InvalidZipFileException", f"Lambda was unable to unzip the code: {exc}")
        with store.transaction():
            rec = store.table(sc, kind).get(name)
            if rec is None or rec["RevisionId"] != revision_seen:
                return 0.0 if rec is not None else None  # changed meanwhile: look again
            if problem:
                code_, reason = problem
                if rec.get("State") == "Pending" or code_ == "InvalidRuntime":
                    rec.update(State="Failed", StateReasonCode=code_, StateReason=reason)
                if rec.get("LastUpdateStatus") == "InProgress" or kind == FUNCTION:
                    rec.update(LastUpdateStatus="Failed", LastUpdateStatusReasonCode=code_,
                               LastUpdateStatusReason=reason)
            else:
                rec["State"] = "Active"
                for k in ("StateReason", "StateReasonCode", "LastUpdateStatusReason", "LastUpdateStatusReasonCode"):
                    rec.pop(k, None)
                rec["LastUpdateStatus"] = "Successful"
            store.table(sc, kind).put(name, rec)
        return None
