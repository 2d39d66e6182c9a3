"""Parameter Store for the rest of kumo: reading a parameter's value as ``resolve:ssm:`` references do.

EC2 resolves ``resolve:ssm:<name>``, ``resolve:ssm:<name>:<version>`` and ``resolve:ssm:<name>:<label>`` image
ids through this, at launch (and launch templates when they are created and described).  The answer is
plain data, never a record; the caller turns a missing or unusable parameter into its own service's error.
Keep these signatures stable: other packages depend on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...aws.errors import AwsError
from . import model, names, public, secure

PREFIX = "resolve:ssm:"


@dataclass(frozen=True)
class ParameterValue:
    name: str
    version: int
    type: str  # String, StringList, SecureString
    data_type: str  # text, aws:ec2:image ...
    value: str  # a SecureString's value decrypted only when asked for
    public: bool  # one of AWS's own (/aws/service/...)


def is_reference(text: str | None) -> bool:
    return isinstance(text, str) and text.startswith(PREFIX)


def parameter_value(kumo, account: str, region: str, selector: str, decrypt: bool = False) -> ParameterValue | None:
    """The value a selector (``name``, ``name:3``, ``name:label``, or an ARN) names now; None when there is none.

    ``decrypt`` decrypts a SecureString with KMS (a KMS refusal raises SSM's InvalidKeyId AwsError).
    Reads only: call it inside or outside a transaction.
    """
    parsed = names.parse_selector(selector)
    if parsed is None:
        return None
    if names.is_public(parsed.name):
        record = public.record(region, parsed.name)
    else:
        record = model.lookup(model.scope_table(kumo, account, region), parsed.name)
    if record is None:
        return None
    try:
        version = model.version_of(record, parsed)
    except AwsError:  # a version number not kept
        return None
    if version is None:
        return None
    value = version["Value"]
    if decrypt and version["Type"] == "SecureString":
        value = secure.decrypt_in(kumo, account, region, value, record["ARN"])
    return ParameterValue(record["Name"], version["Version"], version["Type"], version.get("DataType") or "text",
                          value, bool(record.get("_public")))


def resolve_reference(kumo, account: str, region: str, reference: str) -> ParameterValue | None:
    """``resolve:ssm:<selector>`` -> the parameter value it names now (None when there is none)."""
    if not is_reference(reference):
        return None
    return parameter_value(kumo, account, region, reference[len(PREFIX):])


__all__ = ["PREFIX", "ParameterValue", "is_reference", "parameter_value", "resolve_reference"]
