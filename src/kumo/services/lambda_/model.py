"""Lambda's records, names, ARNs and errors.

Records live in the caller's ``<account>/<region>`` scope:

    lambda.function       name            $LATEST's FunctionConfiguration + internal fields (_code, _tags ...)
    lambda.version        name:N          a published version's frozen FunctionConfiguration
    lambda.alias          name:alias      AliasConfiguration
    lambda.eic            name:qualifier  FunctionEventInvokeConfig
    lambda.provisioned    name:qualifier  provisioned concurrency config
    lambda.policy         name:qualifier  resource-based policy statements
    lambda.url            name:qualifier  FunctionUrlConfig
    lambda.esm            uuid            EventSourceMappingConfiguration
    lambda.layer          name            layer (versions counter)
    lambda.layer-version  name:N          LayerVersion
"""

from __future__ import annotations

import datetime as _dt
import re
import uuid

from ...aws.errors import AwsError
from ...core.arns import arn as make_arn

FUNCTION = "lambda.function"
VERSION = "lambda.version"
ALIAS = "lambda.alias"
EVENT_INVOKE = "lambda.eic"
PROVISIONED = "lambda.provisioned"
POLICY = "lambda.policy"
URL = "lambda.url"
ESM = "lambda.esm"
LAYER = "lambda.layer"
LAYER_VERSION = "lambda.layer-version"

LATEST = "$LATEST"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ALIAS = re.compile(r"^(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}$")
_QUALIFIER = re.compile(r"^(\$LATEST|[A-Za-z0-9_-]{1,128})$")
_FUNCTION_REF = re.compile(
    r"^(?:arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d{1}):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[A-Za-z0-9_-]+)(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]+))?$")


def timestamp(epoch: float) -> str:
    """Lambda's LastModified format: 2024-01-01T12:00:00.000+0000."""
    whole = int(epoch)
    base = _dt.datetime.fromtimestamp(whole, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{int((epoch - whole) * 1000):03d}+0000"


def revision() -> str:
    return str(uuid.uuid4())


# -- errors ----------------------------------------------------------------------------------------


def invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterValueException", message, fields={"Type": "User"})


def not_found(message: str) -> AwsError:
    return AwsError("ResourceNotFoundException", message, fields={"Type": "User"})


def conflict(message: str) -> AwsError:
    return AwsError("ResourceConflictException", message, fields={"Type": "User"})


def function_not_found(arn: str) -> AwsError:
    return not_found(f"Function not found: {arn}")


def precondition(message: str = "The Revision Id provided does not match the latest Revision Id. Call the "
                                "GetFunction/GetAlias API to retrieve the latest Revision Id") -> AwsError:
    return AwsError("PreconditionFailedException", message, fields={"Type": "User"})


# -- names and ARNs --------------------------------------------------------------------------------


def function_arn(account: str, region: str, name: str, qualifier: str | None = None) -> str:
    base = make_arn("lambda", region, account, f"function:{name}")
    return f"{base}:{qualifier}" if qualifier else base


class FunctionRef:
    """A FunctionName parameter taken apart: name, partial ARN or ARN, with an optional qualifier."""

    __slots__ = ("account", "region", "name", "qualifier")

    def __init__(self, account: str, region: str, name: str, qualifier: str | None):
        self.account, self.region, self.name, self.qualifier = account, region, name, qualifier

    def arn(self, qualifier: str | None = None) -> str:
        return function_arn(self.account, self.region, self.name, qualifier)


def parse_function(ctx_account: str, ctx_region: str, text: str, qualifier: str | None = None,
                   allow_qualifier: bool = True) -> FunctionRef:
    """Read FunctionName (and Qualifier) as AWS does; raise AWS's errors for bad ones."""
    m = _FUNCTION_REF.match(text or "")
    if not m or (not text.startswith("arn:") and m.group("region")):
        raise AwsError("ValidationException",
                       f"1 validation error detected: Value '{text}' at 'functionName' failed to satisfy constraint: "
                       "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?"
                       "([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)"
                       "(:(\\$LATEST|[a-zA-Z0-9-_]+))?")
    name = m.group("name")
    if len(name) > 64:
        raise AwsError("ValidationException",
                       f"1 validation error detected: Value '{text}' at 'functionName' failed to satisfy constraint: "
                       "Member must have length less than or equal to 64")
    account = m.group("account") or ctx_account
    region = m.group("region") or ctx_region
    if region != ctx_region:
        raise invalid(f"Functions from '{region}' are not reachable in this region ('{ctx_region}')")
    derived = m.group("qualifier")
    if derived and qualifier and derived != qualifier:
        raise invalid("The derived qualifier from the function name does not match the specified qualifier.")
    q = derived or qualifier
    if q is not None and not allow_qualifier:
        raise invalid(f"Unsupported qualifier: {q}") if qualifier else invalid(
            f"The function name provided ({text}) must not include a qualifier.")
    if q is not None and not _QUALIFIER.match(q):
        raise AwsError("ValidationException",
                       f"1 validation error detected: Value '{q}' at 'qualifier' failed to satisfy constraint: "
                       "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)")
    return FunctionRef(account, region, name, q)


def check_name(name: str) -> None:
    if not _NAME.match(name or ""):
        raise AwsError("ValidationException",
                       f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy constraint: "
                       "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?"
                       "([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)"
                       "(:(\\$LATEST|[a-zA-Z0-9-_]+))?")


def check_alias_name(name: str) -> None:
    if not _ALIAS.match(name or ""):
        raise AwsError("ValidationException",
                       f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member "
                       "must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)")


def is_version(qualifier: str | None) -> bool:
    return bool(qualifier) and qualifier.isdigit()


def parse_arn_function(arn: str) -> tuple[str, str, str, str | None] | None:
    """(account, region, name, qualifier) of a function ARN; None if ``arn`` is not one."""
    m = _FUNCTION_REF.match(arn or "")
    if not m or not arn.startswith("arn:") or not m.group("account"):
        return None
    return m.group("account"), m.group("region"), m.group("name"), m.group("qualifier")


def scope(account: str, region: str) -> str:
    return f"{account}/{region}"
