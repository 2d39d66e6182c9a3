"""Topic data protection policies (Get/PutDataProtectionPolicy): stored on the topic, checked as AWS does.

The policy is the topic's ``DataProtectionPolicy`` attribute.  kumo checks its grammar (Name, Version
2021-06-01, Statements each with a DataDirection, Principal, DataIdentifier and exactly one of the Audit,
Deny and Deidentify operations, managed data identifiers named by ARN or custom ones the Configuration
defines) but does not scan messages for sensitive data (docs/messaging.md).
"""

from __future__ import annotations

import json
import re

from .topics import find, invalid, save

MAX_BYTES = 30 * 1024
VERSION = "2021-06-01"
_MANAGED = re.compile(r"^arn:aws[a-z-]*:dataprotection::aws:data-identifier/[A-Za-z0-9\-_]+$")
_OPERATIONS = ("Audit", "Deny", "Deidentify")


def _problem(doc) -> str | None:
    if not isinstance(doc, dict):
        return "the policy must be a JSON object"
    for field in ("Name", "Version", "Statement"):
        if field not in doc:
            raise invalid(f"DataProtectionPolicy Reason: {field} is required")
    if doc["Version"] != VERSION:
        return f"Version must be {VERSION}"
    custom = {c.get("Name") for c in (doc.get("Configuration") or {}).get("CustomDataIdentifier") or []
              if isinstance(c, dict)}
    statements = doc["Statement"]
    if not isinstance(statements, list) or not statements:
        return "Statement must be a non-empty list"
    for st in statements:
        if not isinstance(st, dict):
            return "each Statement must be an object"
        if st.get("DataDirection") not in ("Inbound", "Outbound"):
            return "DataDirection must be Inbound or Outbound"
        if not isinstance(st.get("Principal"), list) or not st["Principal"]:
            return "Principal must be a non-empty list"
        identifiers = st.get("DataIdentifier")
        if not isinstance(identifiers, list) or not identifiers:
            return "DataIdentifier must be a non-empty list"
        for ident in identifiers:
            if not (isinstance(ident, str) and (_MANAGED.match(ident) or ident in custom)):
                return f"DataIdentifier {ident} is neither a managed data identifier nor a custom one"
        operation = st.get("Operation")
        if not isinstance(operation, dict) or len(operation) != 1 or next(iter(operation)) not in _OPERATIONS:
            return "Operation must hold exactly one of Audit, Deny and Deidentify"
        if "Audit" in operation and st["DataDirection"] != "Inbound":
            return "an Audit statement must have the DataDirection Inbound"
        mask = (operation.get("Deidentify") or {}).get("MaskConfig")
        if "Deidentify" in operation and not (mask or (operation["Deidentify"] or {}).get("RedactConfig") is not None):
            return "Deidentify needs a MaskConfig or a RedactConfig"
    if sum("Audit" in st["Operation"] for st in statements) > 1:
        return "a policy may have at most one Audit statement"
    return None


def check(text: str) -> None:
    if len(text.encode()) > MAX_BYTES:
        raise invalid("DataProtectionPolicy Reason: the policy is larger than 30 KB")
    try:
        doc = json.loads(text)
    except ValueError:
        raise invalid("DataProtectionPolicy Reason: failed to parse JSON")
    problem = _problem(doc)
    if problem:
        raise invalid(f"DataProtectionPolicy Reason: {problem}")


def put_data_protection_policy(ctx, p):
    topic = find(ctx.store, p["ResourceArn"])
    text = p["DataProtectionPolicy"]
    if text:
        check(text)
        topic["Attributes"]["DataProtectionPolicy"] = text
    else:
        topic["Attributes"].pop("DataProtectionPolicy", None)
    save(ctx.store, topic)
    return {}


def get_data_protection_policy(ctx, p):
    topic = find(ctx.store, p["ResourceArn"])
    return {"DataProtectionPolicy": topic["Attributes"].get("DataProtectionPolicy", "")}
