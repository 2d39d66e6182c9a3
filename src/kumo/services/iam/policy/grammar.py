"""IAM's policy grammar, checked as IAM checks a document before it stores it.

The checks run in IAM's order and each failure carries the message IAM gives
for it (MalformedPolicyDocument): shape errors first ("Syntax errors in
policy."), then the version a managed policy needs, legacy parsing (Effect's
case, dates in conditions, ARNs with too few parts), Sid uniqueness, actions,
resource formats, resources, and the element each kind of policy must or must
not carry (a Principal in an identity policy, a Resource in a trust policy).

Kinds: ``managed`` (CreatePolicy, CreatePolicyVersion: 2012-10-17 only),
``inline`` (Put*Policy), ``trust`` (CreateRole, UpdateAssumeRolePolicy),
``session`` (AssumeRole's Policy).  Pure functions, no store.
"""

from __future__ import annotations

import json
import re

TOP_ELEMENTS = {"Version", "Id", "Statement"}
VERSIONS = ("2008-10-17", "2012-10-17")
STATEMENT_ELEMENTS = {"Sid", "Action", "NotAction", "Resource", "NotResource", "Effect", "Principal",
                      "NotPrincipal", "Condition"}
OPERATORS = {
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
    "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals", "DateLessThan",
    "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress",
    "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
}
PARTITIONS = {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}
TRUST_ACTIONS = {"sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity", "sts:tagsession",
                 "sts:setsourceidentity", "sts:setcontext", "sts:*", "*"}
IAM_RESOURCE_STARTS = ("user/", "federated-user/", "role/", "group/", "instance-profile/", "mfa/",
                       "server-certificate/", "policy/", "sms-mfa/", "saml-provider/", "oidc-provider/", "report/",
                       "access-report/")
_VENDOR = re.compile(r"^[a-zA-Z0-9\-.]+$")
_ISO_DATE = re.compile(r"^-?\d{1,9}(-\d{1,2}(-\d{1,2})?)?"
                       r"(t\d{1,2}(:\d{1,2}(:\d{1,2}(\.\d+)?)?)?(z|[+-]\d{2}(:?\d{2})?)?)?$")

SYNTAX = "Syntax errors in policy."
VERSION_2012 = "Policy document must be version 2012-10-17 or greater."
LEGACY = "The policy failed legacy parsing"
SID_UNIQUE = "Statement IDs (SID) in a single policy must be unique."
NO_ACTIONS = "Policy statement must contain actions."
NO_RESOURCES = "Policy statement must contain resources."
PRINCIPAL_IN_IDENTITY = "Policy document should not specify a principal."
NO_PRINCIPAL = "Missing required field Principal"
RESOURCE_IN_TRUST = "Has prohibited field Resource"
TRUST_ACTION = ("Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and "
                "sts:AssumeRoleWithWebIdentity")


class PolicyGrammarError(ValueError):
    """A document IAM refuses; str() is IAM's MalformedPolicyDocument message."""


def validate(text: str, kind: str = "inline") -> dict:
    """The parsed document, or PolicyGrammarError with IAM's message."""
    try:
        doc = json.loads(text)
    except (TypeError, ValueError):
        raise PolicyGrammarError("This policy contains invalid Json")
    statements = _syntax(doc)
    if kind == "managed" and doc.get("Version") != "2012-10-17":
        raise PolicyGrammarError(VERSION_2012)
    for s in statements:
        _legacy(s)
    sids = [s["Sid"] for s in statements if s.get("Sid")]
    if len(sids) != len(set(sids)):
        raise PolicyGrammarError(SID_UNIQUE)
    for s in statements:
        key = "Action" if "Action" in s else "NotAction" if "NotAction" in s else None
        if key is None or s[key] == []:
            raise PolicyGrammarError(NO_ACTIONS)
    for s in statements:
        for key in ("Resource", "NotResource"):
            for resource in _listed(s.get(key)):
                _resource_format(resource)
    for s in statements:
        for key in ("Action", "NotAction"):
            for action in _listed(s.get(key)):
                _action_prefix(action)
    if kind == "trust":
        _trust(statements)
    else:
        for s in statements:
            if "Principal" in s or "NotPrincipal" in s:
                raise PolicyGrammarError(PRINCIPAL_IN_IDENTITY)
            key = "Resource" if "Resource" in s else "NotResource" if "NotResource" in s else None
            if key is None or s[key] == []:
                raise PolicyGrammarError(NO_RESOURCES)
    return doc


def _listed(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _syntax(doc) -> list[dict]:
    if not isinstance(doc, dict) or any(k not in TOP_ELEMENTS for k in doc):
        raise PolicyGrammarError(SYNTAX)
    if "Version" in doc and doc["Version"] not in VERSIONS:
        raise PolicyGrammarError(SYNTAX)
    if "Id" in doc and not isinstance(doc["Id"], str):
        raise PolicyGrammarError(SYNTAX)
    raw = doc.get("Statement")
    if not isinstance(raw, (dict, list)):
        raise PolicyGrammarError(SYNTAX)
    statements = [raw] if isinstance(raw, dict) else raw
    for s in statements:
        _statement_syntax(s)
    return statements


def _strings(value) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _statement_syntax(s) -> None:
    if not isinstance(s, dict) or any(k not in STATEMENT_ELEMENTS for k in s):
        raise PolicyGrammarError(SYNTAX)
    if ("Action" in s and "NotAction" in s) or ("Resource" in s and "NotResource" in s) \
            or ("Principal" in s and "NotPrincipal" in s):
        raise PolicyGrammarError(SYNTAX)
    effect = s.get("Effect")
    if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
        raise PolicyGrammarError(SYNTAX)
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if key in s and not _strings(s[key]):
            raise PolicyGrammarError(SYNTAX)
    if "Sid" in s and not isinstance(s["Sid"], str):
        raise PolicyGrammarError(SYNTAX)
    for key in ("Principal", "NotPrincipal"):
        if key in s:
            value = s[key]
            if value != "*" and not (isinstance(value, dict) and value
                                     and all(isinstance(k, str) and _strings(v) for k, v in value.items())):
                raise PolicyGrammarError(SYNTAX)
    if "Condition" in s:
        block = s["Condition"]
        if not isinstance(block, dict):
            raise PolicyGrammarError(SYNTAX)
        for operator, pairs in block.items():
            if not isinstance(pairs, dict):
                raise PolicyGrammarError(SYNTAX)
            for value in pairs.values():
                items = value if isinstance(value, list) else [value]
                if not all(isinstance(v, (str, bool, int, float)) for v in items):
                    raise PolicyGrammarError(SYNTAX)
            if _bare_operator(operator) not in OPERATORS and pairs:
                raise PolicyGrammarError(SYNTAX)


def _bare_operator(operator: str) -> str:
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        if operator.startswith(prefix):
            operator = operator[len(prefix):]
            break
    return operator[:-len("IfExists")] if operator.endswith("IfExists") else operator


def _legacy(s: dict) -> None:
    if s["Effect"] not in ("Allow", "Deny"):  # syntax takes any case; legacy parsing only IAM's spelling
        raise PolicyGrammarError(LEGACY)
    for operator, pairs in (s.get("Condition") or {}).items():
        if _bare_operator(operator).startswith("Date"):
            for value in pairs.values():
                for v in value if isinstance(value, list) else [value]:
                    if not _date_ok(str(v)):
                        raise PolicyGrammarError(LEGACY)
    for key in ("Resource", "NotResource"):
        for resource in _listed(s.get(key)):
            if resource != "*" and resource.startswith("arn:") and "::" in resource and resource.count(":") < 5:
                raise PolicyGrammarError(LEGACY)


def _date_ok(value: str) -> bool:
    v = value.lower()
    if "t" in v or "-" in v:
        return bool(_ISO_DATE.match(v))
    return v.isdigit()


def _action_prefix(action: str) -> None:
    parts = action.split(":")
    if len(parts) == 1 and parts[0] != "*":
        raise PolicyGrammarError("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
    if len(parts) > 2:
        raise PolicyGrammarError("Actions/Condition can contain only one colon.")
    if parts[0] != "*" and not _VENDOR.match(parts[0]):
        raise PolicyGrammarError(f"Vendor {parts[0]} is not valid")


def _resource_format(resource: str) -> None:
    if resource == "*":
        return
    if ":" not in resource:
        raise PolicyGrammarError(f'Resource {resource} must be in ARN format or "*".')
    parts = resource.split(":", 5)
    partition = parts[1]
    if partition != "*" and partition not in PARTITIONS:
        rest = (parts[2:] + ["*"] * 4)[:4]
        rest = [p or "*" for p in rest]
        raise PolicyGrammarError(f'Partition "{partition}" is not valid for resource "arn:{partition}:'
                                 f'{":".join(rest)}".')
    if len(parts) < 3:
        raise PolicyGrammarError("Resource vendor must be fully qualified and cannot contain regexes.")
    service = parts[2]
    if len(parts) == 6:
        region, relative = parts[3], parts[5]
        if service == "iam" and region:
            raise PolicyGrammarError(f"IAM resource {resource} cannot contain region information.")
        if service == "s3" and region and not relative.startswith("accesspoint/"):
            raise PolicyGrammarError(f"Resource {resource} can not contain region information.")
        if service == "iam" and relative != "root" and not relative.startswith(IAM_RESOURCE_STARTS) \
                and relative != "*":
            raise PolicyGrammarError('IAM resource path must either be "*", root, or start with '
                                     + ", ".join(IAM_RESOURCE_STARTS) + ".")


def _trust(statements: list[dict]) -> None:
    for s in statements:
        for action in _listed(s.get("Action")):
            if action.lower() not in TRUST_ACTIONS:
                raise PolicyGrammarError(TRUST_ACTION)
    for s in statements:
        if "Resource" in s or "NotResource" in s:
            raise PolicyGrammarError(RESOURCE_IN_TRUST)
    for s in statements:
        if "Principal" not in s and "NotPrincipal" not in s:
            raise PolicyGrammarError(NO_PRINCIPAL)


def size_without_whitespace(text: str) -> int:
    """IAM counts a policy's size without the whitespace outside strings."""
    try:
        return len(json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False))
    except ValueError:
        return len(text)
