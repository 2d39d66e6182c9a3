"""Service-specific credentials (CodeCommit, Keyspaces, Bedrock), ListPoliciesGrantingServiceAccess, and
SetSecurityTokenServicePreferences.

kumo serves none of the three services, so their credentials are stored and
managed only: they are generated, listed, reset, deactivated and deleted as
IAM does it, for templates and scripts that create them.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import secrets
import string

from ...aws.errors import AwsError
from ...core import ids
from .logins import ACCOUNT
from .model import GROUP, ROLE, USER, find_user, page, table

CREDENTIAL = "iam.service-credential"
SERVICES = ("codecommit.amazonaws.com", "cassandra.amazonaws.com", "bedrock.amazonaws.com")
MAX_PER_SERVICE = 2
_ALNUM = string.ascii_letters + string.digits


def _secret(n: int) -> str:
    return "".join(secrets.choice(_ALNUM + "+/") for _ in range(n))


def _credentials(ctx):
    return table(ctx.store, ctx.account, CREDENTIAL)


def _issue_secret(ctx, record: dict) -> dict:
    """The record with a new secret, and the answer that shows it once."""
    shown = {k: v for k, v in record.items() if not k.startswith("_")}
    if record["ServiceName"] == "bedrock.amazonaws.com":
        secret = "ABSK" + _secret(128)
        shown["ServiceCredentialSecret"] = secret
    else:
        secret = _secret(44)
        shown["ServicePassword"] = secret
    record["_secret_sha256"] = hashlib.sha256(secret.encode()).hexdigest()  # the secret itself is shown only once
    return shown


def create_service_specific_credential(ctx, p):
    user = find_user(ctx.store, ctx.account, p["UserName"])
    service = p["ServiceName"]
    if service not in SERVICES:
        raise AwsError("NotSupportedService", f"No such service {service} is supported for Service Specific "
                                              "Credentials", status=404)
    mine = [c for c in _credentials(ctx).values() if c["UserName"] == user["UserName"] and c["ServiceName"] == service]
    if len(mine) >= MAX_PER_SERVICE:
        raise AwsError("LimitExceeded",
                       f"Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: {MAX_PER_SERVICE}")
    now = ctx.now()
    record = {"CreateDate": now, "ServiceName": service, "UserName": user["UserName"], "Status": "Active",
              "ServiceSpecificCredentialId": "ACCA" + ids.iam_id("user")[4:]}
    name = f"{user['UserName']}-at-{ctx.account}"
    if service == "bedrock.amazonaws.com":
        record["ServiceCredentialAlias"] = name
        if p.get("CredentialAgeDays"):
            record["ExpirationDate"] = now + p["CredentialAgeDays"] * 86400
    else:
        if p.get("CredentialAgeDays"):
            raise AwsError("InvalidInput", "CredentialAgeDays is only supported for bedrock.amazonaws.com")
        record["ServiceUserName"] = name
    shown = _issue_secret(ctx, record)
    _credentials(ctx).put(record["ServiceSpecificCredentialId"], record)
    return {"ServiceSpecificCredential": shown}


def _find(ctx, p) -> dict:
    record = _credentials(ctx).get(p["ServiceSpecificCredentialId"])
    user = p.get("UserName") or (ctx.identity.arn.rsplit("/", 1)[-1] if ":user/" in ctx.identity.arn else None)
    if record is None or (user and record["UserName"] != user):
        raise AwsError("NoSuchEntity", f"No such credential {p['ServiceSpecificCredentialId']} exists")
    return record


def list_service_specific_credentials(ctx, p):
    items = _credentials(ctx).values()
    if not p.get("AllUsers"):
        name = p.get("UserName") or (ctx.identity.arn.rsplit("/", 1)[-1] if ":user/" in ctx.identity.arn else None)
        if name is None:
            raise AwsError("ValidationError", "Must specify userName when calling with non-User credentials")
        find_user(ctx.store, ctx.account, name)
        items = [c for c in items if c["UserName"] == name]
    if p.get("ServiceName"):
        items = [c for c in items if c["ServiceName"] == p["ServiceName"]]
    items = sorted(items, key=lambda c: (c["UserName"], c["CreateDate"], c["ServiceSpecificCredentialId"]))
    listed = [{k: v for k, v in c.items() if not k.startswith("_")} for c in items]
    return page(listed, p, lambda c: c["ServiceSpecificCredentialId"], "ServiceSpecificCredentials", ctx.account)


def reset_service_specific_credential(ctx, p):
    record = _find(ctx, p)
    shown = _issue_secret(ctx, record)
    _credentials(ctx).put(record["ServiceSpecificCredentialId"], record)
    return {"ServiceSpecificCredential": shown}


def update_service_specific_credential(ctx, p):
    record = _find(ctx, p)
    record["Status"] = p["Status"]
    _credentials(ctx).put(record["ServiceSpecificCredentialId"], record)
    return {}


def delete_service_specific_credential(ctx, p):
    record = _find(ctx, p)
    _credentials(ctx).delete(record["ServiceSpecificCredentialId"])
    return {}


# -- which policies grant a service ---------------------------------------------------------------------------------


def _grants(document: str, namespace: str) -> bool:
    """Whether an Allow statement names some action of the service (resources and conditions aside, as IAM says)."""
    try:
        doc = json.loads(document)
    except ValueError:
        return False
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    for s in statements if isinstance(statements, list) else [statements]:
        if not isinstance(s, dict) or s.get("Effect") != "Allow":
            continue
        if "Action" in s:
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            if any(fnmatch.fnmatch(f"{namespace}:x", a.lower()) or a.lower().split(":")[0] == namespace
                   for a in actions if isinstance(a, str)):
                return True
        elif "NotAction" in s:
            excluded = s["NotAction"] if isinstance(s["NotAction"], list) else [s["NotAction"]]
            if not any(a.lower() in ("*", f"{namespace}:*") for a in excluded if isinstance(a, str)):
                return True
    return False


def _policies_of(ctx, record: dict, entity_type: str, name_member: str) -> list[dict]:
    from .internal import managed_document

    out = []
    for name, document in sorted(record["_inline"].items()):
        out.append(({"PolicyName": name, "PolicyType": "INLINE", "EntityType": entity_type,
                     "EntityName": record[name_member]}, document))
    for arn in record["_attached"]:
        document = managed_document(ctx.store, arn)
        if document is not None:
            out.append(({"PolicyName": arn.rsplit("/", 1)[-1], "PolicyType": "MANAGED", "PolicyArn": arn}, document))
    return out


def list_policies_granting_service_access(ctx, p):
    arn = p["Arn"]
    parts = arn.split(":", 5)
    resource = parts[5] if len(parts) == 6 else ""
    kind = resource.split("/", 1)[0]
    name = resource.rsplit("/", 1)[-1]
    kinds = {"user": (USER, "USER", "UserName"), "role": (ROLE, "ROLE", "RoleName"),
             "group": (GROUP, "GROUP", "GroupName")}
    if kind not in kinds or len(parts) != 6 or parts[4] != ctx.account:
        raise AwsError("InvalidInput", f"ARN {arn} is not valid.")
    table_kind, entity_type, member = kinds[kind]
    record = table(ctx.store, ctx.account, table_kind).get(name)
    if record is None or record["Arn"] != arn:
        raise AwsError("NoSuchEntity", f"The {kind} with name {name} cannot be found.")
    policies = _policies_of(ctx, record, entity_type, member)
    if kind == "user":
        for group_name in record.get("_groups", []):
            group = table(ctx.store, ctx.account, GROUP).get(group_name)
            if group is not None:
                policies += _policies_of(ctx, group, "GROUP", "GroupName")
    out = [{"ServiceNamespace": ns, "Policies": [info for info, document in policies if _grants(document, ns)]}
           for ns in p["ServiceNamespaces"]]
    return {"PoliciesGrantingServiceAccess": out, "IsTruncated": False}


def set_security_token_service_preferences(ctx, p):
    version = {"v1Token": 1, "v2Token": 2}[p["GlobalEndpointTokenVersion"]]
    table(ctx.store, ctx.account, ACCOUNT).put("sts-token-version", version)
    return {}
