"""What a parameter value must satisfy: size per tier, AllowedPattern, and its data type."""

from __future__ import annotations

import regex

from ...aws.errors import AwsError

STANDARD_MAX = 4096
ADVANCED_MAX = 8192
DATA_TYPES = ("text", "aws:ec2:image", "aws:ssm:integration")
INTEGRATION_PREFIX = "/d9d01087-4a3f-49e0-b0b4-d568d7826553/ssm/integrations/webhook/"
# A pattern is the caller's regular expression, run on kumo's loop: bound how long one match may take.
_PATTERN_SECONDS = 0.5


def check_size(value: str, tier: str) -> None:
    size = len(value.encode())
    if tier == "Standard" and size > STANDARD_MAX:
        raise AwsError("ValidationException",
                       f"Standard tier parameters support a maximum parameter value of {STANDARD_MAX} characters. To "
                       f"create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. "
                       f"For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/"
                       f"parameter-store-advanced-parameters.html")
    if size > ADVANCED_MAX:
        raise AwsError("ValidationException",
                       f"Advanced tier parameters support a maximum parameter value of {ADVANCED_MAX} characters.")


def check_pattern(value: str, pattern: str | None) -> None:
    """The value must match the whole pattern (Java's ``matches``, which AWS uses)."""
    if not pattern:
        return
    try:
        compiled = regex.compile(pattern)
    except (regex.error, ValueError, OverflowError, RecursionError):
        raise AwsError("InvalidAllowedPatternException", "The request does not meet the regular expression "
                                                         "requirement.")
    try:
        matched = compiled.fullmatch(value, timeout=_PATTERN_SECONDS) is not None
    except TimeoutError:
        matched = False  # a pattern that cannot decide within the bound does not validate the value
    if not matched:
        raise AwsError("ParameterPatternMismatchException",
                       f"Parameter value, cannot be validated against allowedPattern: {pattern}")


def check_data_type(data_type: str, parameter_type: str, name: str) -> None:
    if data_type not in DATA_TYPES:
        raise AwsError("ValidationException", f"The following data type is not supported: {data_type} (Data type "
                                              f"names are all lowercase.)")
    if data_type == "aws:ec2:image" and parameter_type != "String":
        raise AwsError("ValidationException", f"Parameter Type {parameter_type} is not supported for data type "
                                              f"aws:ec2:image. Only String is supported.")
    if data_type == "aws:ssm:integration" and (parameter_type != "SecureString"
                                               or not name.startswith(INTEGRATION_PREFIX)):
        raise AwsError("ValidationException", f"The aws:ssm:integration data type is supported only for SecureString "
                                              f"parameters named under {INTEGRATION_PREFIX}.")


def well_formed_ami(value: str) -> bool:
    return bool(regex.fullmatch(r"ami-([0-9a-f]{8}|[0-9a-f]{17})", value))
