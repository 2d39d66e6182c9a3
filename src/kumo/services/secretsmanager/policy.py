"""Resource policies: stored as given once they parse as a policy; BlockPublicPolicy refuses public grants."""

from __future__ import annotations

import json

from ...aws.errors import AwsError
from .model import find, save

_EFFECTS = ("Allow", "Deny")


def _problems(text: str) -> list[str]:
    """What makes ``text`` no valid resource policy; raises MalformedPolicyDocumentException if it is no JSON."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise AwsError("MalformedPolicyDocumentException", "This resource policy contains a syntax error.") from None
    if not isinstance(doc, dict):
        return ["The policy document must be a JSON object."]
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        return ["The policy document must contain a Statement."]
    out = []
    for n, st in enumerate(statements, 1):
        if not isinstance(st, dict):
            out.append(f"Statement {n} must be a JSON object.")
            continue
        if st.get("Effect") not in _EFFECTS:
            out.append(f"Statement {n}: Effect must be Allow or Deny.")
        if ("Action" in st) == ("NotAction" in st):
            out.append(f"Statement {n}: exactly one of Action and NotAction is required.")
        if ("Principal" in st) == ("NotPrincipal" in st):
            out.append(f"Statement {n}: a resource policy names a Principal (or NotPrincipal).")
    return out


def _public(text: str) -> bool:
    """An Allow for every principal without a condition: a grant to the world."""
    doc = json.loads(text)
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    for st in statements:
        principal = st.get("Principal")
        everyone = principal == "*" or (isinstance(principal, dict) and "*" in _strings(principal.get("AWS")))
        if st.get("Effect") == "Allow" and everyone and not st.get("Condition"):
            return True
    return False


def _strings(value) -> list:
    return value if isinstance(value, list) else [value]


def _check(text: str) -> None:
    problems = _problems(text)
    if problems:
        raise AwsError("MalformedPolicyDocumentException", problems[0])


def put_resource_policy(ctx, p):
    record = find(ctx, p["SecretId"])
    text = p["ResourcePolicy"]
    _check(text)
    if p.get("BlockPublicPolicy") and _public(text):
        raise AwsError("PublicPolicyException", "This resource policy will grant public access to the secret. Use "
                                                "BlockPublicPolicy=false to allow it.")
    record["_policy"] = text
    save(ctx, record)
    return {"ARN": record["ARN"], "Name": record["Name"]}


def get_resource_policy(ctx, p):
    record = find(ctx, p["SecretId"])
    out = {"ARN": record["ARN"], "Name": record["Name"]}
    if record.get("_policy"):
        out["ResourcePolicy"] = record["_policy"]
    return out


def delete_resource_policy(ctx, p):
    record = find(ctx, p["SecretId"])
    record.pop("_policy", None)
    save(ctx, record)
    return {"ARN": record["ARN"], "Name": record["Name"]}


def validate_resource_policy(ctx, p):
    if p.get("SecretId"):
        find(ctx, p["SecretId"])
    problems = _problems(p["ResourcePolicy"])
    return {"PolicyValidationPassed": not problems,
            "ValidationErrors": [{"CheckName": "JSON_SCHEMA_CHECK", "ErrorMessage": m} for m in problems]}
