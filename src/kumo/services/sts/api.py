"""STS's operations.

Credentials from AssumeRole and GetSessionToken really work: kumo registers
them, so a call signed with them is made as the assumed role (in the role's
account), and once they expire on kumo's clock they are refused with
ExpiredToken, as AWS refuses them.
"""

from __future__ import annotations

import re

from ...aws.auth import account_from_access_key
from ...aws.errors import AwsError
from ...core import credentials, ids
from ..iam import internal as iam
from .sessions import federated_name, session_fields

_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
MAX_CHAINED_SECONDS = 3600


def get_caller_identity(ctx, p):
    ident = ctx.identity
    return {"UserId": ident.user_id, "Account": ident.account, "Arn": ident.arn}


def _issue(ctx, *, account: str, arn: str, user_id: str, duration: float, **session) -> dict:
    key = ids.access_key_id(temporary=True)
    secret = ids.secret_access_key()
    token = ids.session_token()
    expiration = ctx.now() + duration
    # Session policies and tags ride with the credentials: every call made with them is evaluated
    # against them when IAM is enforced.
    credentials.register(ctx.store, key, account=account, arn=arn, user_id=user_id, secret=secret,
                         session_token=token, expiration=expiration, **session)
    return {"AccessKeyId": key, "SecretAccessKey": secret, "SessionToken": token, "Expiration": expiration}


def _check_session_name(session: str) -> None:
    if not _SESSION_NAME.match(session):
        raise AwsError("ValidationError",
                       f"1 validation error detected: Value '{session}' at 'roleSessionName' failed to satisfy "
                       "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")


def assume_role(ctx, p):
    session = p["RoleSessionName"]
    _check_session_name(session)
    if iam.split_role_arn(p["RoleArn"]) is None:
        raise AwsError("ValidationError", f"{p['RoleArn']} is invalid")
    role = iam.role_named_by(ctx.store, p["RoleArn"])
    if role is None:
        raise AwsError("AccessDenied",
                       f"User: {ctx.identity.arn} is not authorized to perform: sts:AssumeRole on resource: "
                       f"{p['RoleArn']}", status=403)
    duration = p.get("DurationSeconds") or 3600
    limit = role.max_session_duration
    if ":assumed-role/" in ctx.identity.arn:
        limit = min(limit, MAX_CHAINED_SECONDS)  # role chaining is capped at one hour
    if duration > limit:
        raise AwsError("ValidationError",
                       "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    account = role.account
    fields, packed = session_fields(ctx, p, account)
    assumed_id = f"{role.role_id}:{session}"
    arn = f"arn:aws:sts::{account}:assumed-role/{role.name}/{session}"
    creds = _issue(ctx, account=account, arn=arn, user_id=assumed_id, duration=duration, **fields)
    out = {
        "Credentials": creds,
        "AssumedRoleUser": {"AssumedRoleId": assumed_id, "Arn": arn},
        "PackedPolicySize": packed,
    }
    if p.get("SourceIdentity"):
        out["SourceIdentity"] = p["SourceIdentity"]
    return out


def get_session_token(ctx, p):
    if ":assumed-role/" in ctx.identity.arn:
        raise AwsError("AccessDenied", "Cannot call GetSessionToken with session credentials", status=403)
    duration = p.get("DurationSeconds") or 43200
    if ctx.identity.arn.endswith(":root"):
        duration = min(duration, 3600)  # root sessions are limited to one hour
    creds = _issue(ctx, account=ctx.identity.account, arn=ctx.identity.arn, user_id=ctx.identity.user_id,
                   duration=duration)
    return {"Credentials": creds}


def get_federation_token(ctx, p):
    ident = ctx.identity
    if ":user/" not in ident.arn and not ident.arn.endswith(":root") or ident.expiration is not None:
        raise AwsError("AccessDenied", "Cannot call GetFederationToken with session credentials", status=403)
    name = federated_name(p["Name"])
    duration = p.get("DurationSeconds") or 43200
    if not 900 <= duration <= 129600:
        raise AwsError("ValidationError", f"1 validation error detected: Value '{duration}' at 'durationSeconds' "
                       "failed to satisfy constraint: Member must have value less than or equal to 129600")
    if ident.arn.endswith(":root"):
        duration = min(duration, 3600)
    fields, packed = session_fields(ctx, p, ident.account)
    # Without a session policy a federated user has no permissions; an empty list records that.
    fields.setdefault("SessionPolicyArns", [])
    arn = f"arn:aws:sts::{ident.account}:federated-user/{name}"
    user_id = f"{ident.account}:{name}"
    creds = _issue(ctx, account=ident.account, arn=arn, user_id=user_id, duration=duration, SourceArn=ident.arn,
                   **fields)
    return {"Credentials": creds, "FederatedUser": {"FederatedUserId": user_id, "Arn": arn},
            "PackedPolicySize": packed}


def get_access_key_info(ctx, p):
    key = p["AccessKeyId"]
    record = credentials.lookup(ctx.store, key)
    if record is not None:
        return {"Account": record["Account"]}
    return {"Account": account_from_access_key(key) or ctx.kumo.settings.account_id}


def assume_role_with_web_identity(ctx, p):
    from .federation import assume_role_with_web_identity as assume

    _check_session_name(p["RoleSessionName"])
    return assume(ctx, p, _issue)  # a coroutine: the issuer's keys are fetched off the transaction


def decode_authorization_message(ctx, p):
    from .federation import decode_authorization_message as decode

    return decode(ctx, p)


def assume_role_with_saml(ctx, p):
    from .federation import assume_role_with_saml as assume

    return assume(ctx, p, _issue)


def get_web_identity_token(ctx, p):
    from .outbound import get_web_identity_token as token

    return token(ctx, p)
