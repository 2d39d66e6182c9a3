"""Parameter names as Parameter Store checks them, selectors (``name:3``, ``name:label``) and ARNs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...aws.errors import AwsError

MAX_DEPTH = 15
# AWS counts the whole ARN against this (docs: "arn:aws:ssm:us-east-2:111222333444:parameter/ExampleParameterName"
# is 65 characters, not 20).
MAX_ARN_LENGTH = 1011
_CHARS = re.compile(r"^[a-zA-Z0-9_.\-/]+$")
SUBPATH_RULE = ("If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be "
                "formed as a mix of letters, numbers and the following 3 symbols .-_")


def validation(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:ssm:{region}:{account}:parameter/{name.lstrip('/')}"


def public_arn(region: str, name: str) -> str:
    # AWS's own parameters carry no account in their ARN.
    return f"arn:aws:ssm:{region}::parameter/{name.lstrip('/')}"


def is_reserved(name: str) -> bool:
    bare = name.lower().lstrip("/")
    return bare.startswith("aws") or bare.startswith("ssm")


def is_public(name: str) -> bool:
    return name.startswith("/aws/")


def reserved_error(name: str) -> AwsError:
    """What PutParameter (and every other write) answers for a name in AWS's or SSM's namespace."""
    if name.lower().startswith("/aws") and name.count("/") > 1:
        return AwsError("AccessDeniedException", f"No access to reserved parameter name: {name}.", status=400)
    if name.count("/") > 1:
        return validation(f"Parameter name: can't be prefixed with \"ssm\" (case-insensitive). {SUBPATH_RULE}")
    return validation("Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).")


def depth(name: str) -> int:
    return len([part for part in name.split("/") if part]) if name.startswith("/") else 1


def check_name(name: str, region: str, account: str) -> str:
    """The name PutParameter stores (outer spaces trimmed, as AWS does), or AWS's refusal."""
    name = name.strip(" ")
    if not name:
        raise validation("Parameter name: can't be empty.")
    if is_reserved(name):
        raise reserved_error(name)
    if " " in name or not _CHARS.match(name):
        raise validation(f"Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). "
                         f"{SUBPATH_RULE}")
    if "/" in name and not name.startswith("/"):
        raise validation("Parameter name must be a fully qualified name.")
    if name.startswith("/") and ("//" in name or name.endswith("/")):
        raise validation(f"Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). "
                         f"{SUBPATH_RULE}")
    if depth(name) > MAX_DEPTH:
        raise AwsError("HierarchyLevelLimitExceededException",
                       "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and "
                       "constraints for parameter names in the Amazon Web Services Systems Manager User Guide.")
    if len(arn(region, account, name)) > MAX_ARN_LENGTH:
        raise validation(f"Parameter name: {name} is too long. The maximum length for a parameter name, including "
                         f"the full length of the parameter ARN, is {MAX_ARN_LENGTH} characters.")
    return name


def check_path(path: str) -> str:
    """A hierarchy path for GetParametersByPath or a Path filter."""
    if path != "/" and (not path.startswith("/") or "//" in path or not _CHARS.match(path)):
        raise validation("The parameter doesn't meet the parameter name requirements. The parameter name must begin "
                         "with a forward slash \"/\". It can't be prefixed with \"aws\" or \"ssm\" "
                         "(case-insensitive). It must use only letters, numbers, or the following symbols: . (period), "
                         "- (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if "
                         "specified, must use the forward slash symbol \"/\". Valid example: "
                         "/get/parameters2-/by1./path0_.")
    path = path.rstrip("/") or "/"
    if depth(path) > MAX_DEPTH:
        raise AwsError("HierarchyLevelLimitExceededException",
                       "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and "
                       "constraints for parameter names in the Amazon Web Services Systems Manager User Guide.")
    return path


def under(name: str, path: str, recursive: bool) -> bool:
    """Whether ``name`` sits under ``path`` (directly, or anywhere below when recursive)."""
    if not name.startswith("/"):
        return False
    prefix = "/" if path == "/" else path + "/"
    if not name.startswith(prefix) or name == prefix:
        return False
    return recursive or "/" not in name[len(prefix):]


@dataclass(frozen=True)
class Selector:
    name: str
    version: int | None = None
    label: str | None = None

    @property
    def text(self) -> str | None:
        """The Selector member AWS answers with (``:3``, ``:label``), None for a bare name."""
        if self.version is not None:
            return f":{self.version}"
        if self.label is not None:
            return f":{self.label}"
        return None


def parse_selector(raw: str) -> Selector | None:
    """``name``, ``name:version``, ``name:label`` or a parameter ARN of any of them; None when malformed."""
    text = raw
    if text.startswith("arn:"):
        parts = text.split(":", 5)
        if len(parts) < 6 or not parts[5].startswith("parameter/"):
            return None
        rest = parts[5][len("parameter"):]  # keeps the slash: hierarchical names are looked up with it first
        text = rest
    name, sep, suffix = text.partition(":")
    if not name or ":" in suffix or (sep and not suffix):
        return None
    if not sep:
        return Selector(name)
    if suffix.isdigit():
        return Selector(name, version=int(suffix))
    return Selector(name, label=suffix)


def from_arn(raw: str) -> bool:
    return raw.startswith("arn:")
