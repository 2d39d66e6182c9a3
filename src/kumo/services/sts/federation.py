"""STS's federation calls: AssumeRoleWithWebIdentity, and DecodeAuthorizationMessage.

A federated caller is admitted only by the role's trust policy, which must
allow the action for the provider (``Federated``), with the token's claims as
condition keys: STS always evaluates it, with or without --enforce-iam.
"""

from __future__ import annotations

import base64
import json
import zlib

from ...aws.errors import AwsError
from ..iam import internal as iam
from .sessions import session_fields

AUTHZ_PREFIX = "kumo1."  # kumo's encoded authorization messages (not encrypted: kumo is a local cloud)


def _role(ctx, role_arn: str, action: str = "sts:AssumeRoleWithWebIdentity"):
    if iam.split_role_arn(role_arn) is None:
        raise AwsError("ValidationError", f"{role_arn} is invalid")
    role = iam.role_named_by(ctx.store, role_arn)
    if role is None:
        raise AwsError("AccessDenied", f"Not authorized to perform {action}", status=403)
    return role


async def assume_role_with_web_identity(ctx, p, issue):
    from .web_identity import verify

    role = _role(ctx, p["RoleArn"])
    duration = p.get("DurationSeconds") or 3600
    if duration > role.max_session_duration:
        raise AwsError("ValidationError",
                       "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    claims, provider = await verify(ctx, p["WebIdentityToken"], role.account)
    host = provider["Url"]
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    audience = next(a for a in audiences if a in provider["ClientIDList"])
    context = {f"{host}:aud": audience, f"{host}:sub": str(claims.get("sub", "")),
               "sts:RoleSessionName": p["RoleSessionName"]}
    if claims.get("amr") is not None:
        context[f"{host}:amr"] = claims["amr"]
    if not iam.trust_allows_federated(role, "sts:AssumeRoleWithWebIdentity", provider["Arn"], context):
        raise AwsError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", status=403)
    with ctx.store.transaction():
        fields, packed = session_fields(ctx, p, role.account)
        session = p["RoleSessionName"]
        assumed_id = f"{role.role_id}:{session}"
        arn = f"arn:aws:sts::{role.account}:assumed-role/{role.name}/{session}"
        creds = issue(ctx, account=role.account, arn=arn, user_id=assumed_id, duration=duration, **fields)
    return {"Credentials": creds, "SubjectFromWebIdentityToken": str(claims.get("sub", "")),
            "AssumedRoleUser": {"AssumedRoleId": assumed_id, "Arn": arn}, "PackedPolicySize": packed,
            "Provider": host, "Audience": audience}


# -- DecodeAuthorizationMessage ------------------------------------------------------------------------------------


def encode_authorization_message(decoded: dict) -> str:
    return AUTHZ_PREFIX + base64.urlsafe_b64encode(zlib.compress(json.dumps(decoded).encode())).decode()


def decode_authorization_message(ctx, p):
    text = p["EncodedMessage"]
    try:
        if not text.startswith(AUTHZ_PREFIX):
            raise ValueError
        decoded = json.loads(zlib.decompress(base64.urlsafe_b64decode(text[len(AUTHZ_PREFIX):])))
    except (ValueError, zlib.error):
        raise AwsError("InvalidAuthorizationMessageException",
                       "The error message that was passed in was not valid. Verify that you passed in the entire "
                       "message.")
    if decoded.get("context", {}).get("principal", {}).get("account") not in (None, ctx.account):
        raise AwsError("InvalidAuthorizationMessageException",
                       "The message was not encoded for this account.")
    return {"DecodedMessage": json.dumps(decoded)}


# -- AssumeRoleWithSAML ------------------------------------------------------------------------------------------


def assume_role_with_saml(ctx, p, issue):
    from .saml import DURATION_ATTRIBUTE, ROLE_ATTRIBUTE, SESSION_NAME_ATTRIBUTE, name_qualifier, read_assertion
    from .saml import role_pairs

    role = _role(ctx, p["RoleArn"], "sts:AssumeRoleWithSAML")
    provider = iam.saml_provider(ctx.store, p["PrincipalArn"])
    if provider is None or p["PrincipalArn"].split(":")[4] != role.account:
        raise AwsError("InvalidIdentityToken", "Specified provider doesn't exist")
    facts = read_assertion(p["SAMLAssertion"], provider, ctx.now())
    if (role.arn, provider["Arn"]) not in role_pairs(facts["attributes"].get(ROLE_ATTRIBUTE, [])) and \
            (p["RoleArn"], provider["Arn"]) not in role_pairs(facts["attributes"].get(ROLE_ATTRIBUTE, [])):
        raise AwsError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML", status=403)
    session = (facts["attributes"].get(SESSION_NAME_ATTRIBUTE) or [""])[0]
    if not session:
        raise AwsError("InvalidIdentityToken", "Invalid SAML response: the RoleSessionName attribute is missing")
    from .api import _check_session_name

    _check_session_name(session)
    provider_name = provider["Arn"].rsplit("/", 1)[-1]
    qualifier = name_qualifier(facts["issuer"], role.account, provider_name)
    context = {"saml:aud": facts["audience"], "saml:sub": facts["subject"], "saml:sub_type": facts["subject_type"],
               "saml:iss": facts["issuer"], "saml:namequalifier": qualifier, "sts:RoleSessionName": session}
    if not iam.trust_allows_federated(role, "sts:AssumeRoleWithSAML", provider["Arn"], context):
        raise AwsError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML", status=403)
    duration = p.get("DurationSeconds")
    if duration is None and facts["attributes"].get(DURATION_ATTRIBUTE):
        try:
            duration = int(facts["attributes"][DURATION_ATTRIBUTE][0])
        except ValueError:
            duration = None
    duration = duration or 3600
    if duration > role.max_session_duration:
        raise AwsError("ValidationError",
                       "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    fields, packed = session_fields(ctx, p, role.account)
    assumed_id = f"{role.role_id}:{session}"
    arn = f"arn:aws:sts::{role.account}:assumed-role/{role.name}/{session}"
    creds = issue(ctx, account=role.account, arn=arn, user_id=assumed_id, duration=duration, **fields)
    return {"Credentials": creds, "AssumedRoleUser": {"AssumedRoleId": assumed_id, "Arn": arn},
            "PackedPolicySize": packed, "Subject": facts["subject"], "SubjectType": facts["subject_type"],
            "Issuer": facts["issuer"], "Audience": facts["audience"], "NameQualifier": qualifier}
