"""What CreateFunction and UpdateFunctionConfiguration check, in AWS's words."""

from __future__ import annotations

import json

from ...aws.errors import AwsError
from . import code, runtimes
from .model import invalid

RESERVED_ENV = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}
ENV_LIMIT = 4096
MAX_LAYERS = 5

def check_role(ctx, role_arn: str) -> None:
    from ..iam import internal as iam

    parts = (role_arn or "").split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("role/") \
            or not parts[4].isdigit() or len(parts[4]) != 12:
        raise AwsError("ValidationException",
                       f"1 validation error detected: Value '{role_arn}' at 'role' failed to satisfy constraint: "
                       "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?"
                       "[a-zA-Z_0-9+=,.@\\-_/]+")
    role = iam.role_named_by(ctx.kumo.store, role_arn)
    if role is None or not _trusts_lambda(role.trust_policy):
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


def zip_from(ctx, p: dict, operation: str) -> tuple[bytes, bool]:
    """The package's bytes, and whether they came from S3 (which lifts the 50 MB limit of a direct upload)."""
    source = p.get("Code") if operation == "CreateFunction" else p
    if source.get("ImageUri"):
        raise invalid("kumo runs functions packaged as Zip archives; container images (ImageUri) are not supported.")
    if source.get("S3Bucket") or source.get("S3Key"):
        if source.get("ZipFile"):
            raise invalid("Please do not provide other FunctionCode parameters when providing a ZipFile.")
        from .s3_code import fetch

        return fetch(ctx, source), True
    data = source.get("ZipFile")
    if not data:
        raise invalid("Please provide a source for function code." if operation == "CreateFunction"
                      else "Please provide a source for function code.")
    return data, False
