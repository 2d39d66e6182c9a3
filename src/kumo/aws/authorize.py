"""IAM enforcement at the edge (``--enforce-iam``): is this request allowed?

The gateway calls ``check`` once per request, after the request is routed,
parsed and validated and before its handler runs; with enforcement off it is
never called.  It works out the action and resource ARNs (kumo.aws.actions), the
caller's policies (kumo.services.iam.internal), the resource's policy (each
service's ``internal`` module, table below), the request context (condition keys),
and asks the evaluator; a request that is not allowed gets AccessDenied in the
service's own code and words.

Calls kumo makes inside itself (Auto Scaling launching instances, SNS delivering to
SQS) do not pass the edge and are not evaluated: they are kumo acting as AWS's
services.  Workloads calling back in (an instance with its profile's role, a Lambda
function with its execution role) sign with those roles' credentials and are.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import re

from ..core import credentials
from . import actions
from .errors import AwsError

# IAM service prefix -> module exposing resource_policy(kumo, arn) and resource_tags(kumo, arn).
# S3 and others plug in here.
RESOURCE_SERVICES = {
    "sqs": "kumo.services.sqs.internal",
    "sns": "kumo.services.sns.internal",
    "lambda": "kumo.services.lambda_.internal",
    "iam": "kumo.services.iam.internal",
    "s3": "kumo.services.s3.bucket_config",  # bucket policies (docs/s3-features.md)
}
# Actions whose resource policy is the role's trust policy, which must allow even within the account.
TRUST_ACTIONS = {"sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"}

# Requests that hand a role to a service: the caller also needs iam:PassRole on that role, with
# iam:PassedToService naming the service (operation -> (how to find the role, service principal)).
PASS_ROLE = {
    ("lambda", "CreateFunction"): ("Role", "lambda.amazonaws.com"),
    ("lambda", "UpdateFunctionConfiguration"): ("Role", "lambda.amazonaws.com"),
    ("ec2", "RunInstances"): ("IamInstanceProfile", "ec2.amazonaws.com"),
    ("ec2", "AssociateIamInstanceProfile"): ("IamInstanceProfile", "ec2.amazonaws.com"),
    ("ec2", "ReplaceIamInstanceProfileAssociation"): ("IamInstanceProfile", "ec2.amazonaws.com"),
}

_PRINCIPAL_TYPE = {"root": "Account", "user": "User", "assumed-role": "AssumedRole",
                   "federated-user": "FederatedUser"}


def check(ctx, params: dict, remote: str | None) -> None:
    """Raise AWS's AccessDenied unless IAM's policies allow the request."""
    from ..services.iam import internal as iam
    from ..services.iam.policy import PolicySet, Request, evaluate

    action = actions.action_name(ctx.spec.name, ctx.operation)
    if action in actions.UNCONDITIONAL:
        return
    ident = ctx.identity
    store = ctx.store
    record = credentials.lookup(store, ident.access_key) if ident.access_key else None
    principal = iam.principal_of(store, ident.arn, ident.account, ident.user_id, record)
    base = request_context(ctx, params, principal, remote)
    targets = actions.resources(ctx.spec.name, action, params, account=ident.account, region=ctx.region,
                                store=store, caller_arn=ident.arn, path=ctx.path or "/")
    for resource in targets:
        policy_text, tags = resource_facts(ctx.kumo, action, resource)
        context = base
        if tags:
            context = _with_resource_tags(base, tags)
        resource_policy = _parse_resource_policy(policy_text)
        request = Request(principal.caller, action, resource, context)
        result = evaluate(request, PolicySet(identity=principal.identity, boundary=principal.boundary,
                                             session=principal.session, resource=resource_policy,
                                             resource_required=action in TRUST_ACTIONS))
        if not result.allowed:
            raise denied(ctx, action, resource, result.decision, result.reason, ident.arn)
        if result.cross_account:
            # Handlers that refuse other accounts' resources by default (Lambda) may serve this one.
            ctx.extra["iam_cross_account"] = True
    passed = PASS_ROLE.get((ctx.spec.name, ctx.operation))
    if passed is not None:
        _check_pass_role(ctx, params, principal, base, *passed)


def _check_pass_role(ctx, params: dict, principal, base, param: str, service: str) -> None:
    from ..services.iam import internal as iam
    from ..services.iam.policy import PolicySet, Request, evaluate

    value = params.get(param)
    if param == "IamInstanceProfile":
        role_arn = iam.profile_role_arn(ctx.store, ctx.identity.account, value)
    else:
        role_arn = value if isinstance(value, str) and value.startswith("arn:") else None
    if role_arn is None:
        return  # no role is passed, or the handler refuses the name in the service's own words
    context = _with_resource_tags(base, {})
    context.set("iam:PassedToService", service)
    request = Request(principal.caller, "iam:PassRole", role_arn, context)
    result = evaluate(request, PolicySet(identity=principal.identity, boundary=principal.boundary,
                                         session=principal.session))
    if not result.allowed:
        raise denied(ctx, "iam:PassRole", role_arn, result.decision, result.reason, ctx.identity.arn)


def resource_facts(kumo, action: str, resource: str) -> tuple[str | None, dict | None]:
    """(resource policy text, tags) of the resource, from the service that holds it."""
    parts = resource.split(":", 5)
    if len(parts) != 6:
        return None, None
    service = parts[2]
    module_name = RESOURCE_SERVICES.get(service)
    if module_name is None:
        return None, None
    module = importlib.import_module(module_name)
    if service == "iam":
        policy = module.trust_policy(kumo, resource) if action in TRUST_ACTIONS else None
    else:
        policy = module.resource_policy(kumo, resource)
    return policy, module.resource_tags(kumo, resource)


def _parse_resource_policy(text: str | None):
    from ..services.iam.policy import MalformedPolicy, parse

    if not text:
        return None
    try:
        return parse(text, "ResourcePolicy", "resource")
    except MalformedPolicy:
        return None


# -- the request context -------------------------------------------------------------------------------


def iso(epoch: float) -> str:
    return _dt.datetime.fromtimestamp(epoch, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def principal_keys(principal) -> dict:
    """Condition keys that describe the caller (aws:PrincipalArn, aws:username, aws:PrincipalTag/* ...)."""
    caller = principal.caller
    keys = {
        "aws:PrincipalArn": caller.role_arn or caller.arn,
        "aws:PrincipalAccount": caller.account,
        "aws:PrincipalType": _PRINCIPAL_TYPE.get(caller.kind, "User"),
        "aws:userid": principal.user_id or caller.account,
    }
    if caller.kind == "user":
        keys["aws:username"] = principal.user_name
    for key, value in principal.tags.items():
        keys[f"aws:PrincipalTag/{key}"] = value
    return keys


def request_context(ctx, params: dict, principal, remote: str | None):
    from ..services.iam.policy import Context

    now = ctx.now()
    context = Context({
        "aws:CurrentTime": iso(now),
        "aws:EpochTime": str(int(now)),
        "aws:SecureTransport": ctx.scheme == "https",
        "aws:RequestedRegion": ctx.region,
        "aws:ViaAWSService": False,
        **principal_keys(principal),
    })
    if remote:
        context.set("aws:SourceIp", remote)
    tags = request_tags(params)
    if tags is not None:
        for key, value in tags.items():
            context.set(f"aws:RequestTag/{key}", value)
        context.set("aws:TagKeys", list(tags))
    for key, param in _SERVICE_KEYS.get(ctx.spec.name, {}).items():
        value = params.get(param)
        if isinstance(value, str):
            context.set(key, value)
    return context


# Service condition keys read straight from a request parameter.
_SERVICE_KEYS = {
    "sts": {"sts:ExternalId": "ExternalId", "sts:RoleSessionName": "RoleSessionName",
            "sts:SourceIdentity": "SourceIdentity"},
    "iam": {"iam:PermissionsBoundary": "PermissionsBoundary", "iam:PolicyARN": "PolicyArn"},
}


def request_tags(params: dict) -> dict[str, str] | None:
    """The tags a request sets (aws:RequestTag/*, aws:TagKeys), in any of the APIs' shapes."""
    found: dict[str, str] = {}
    seen = False
    for name in ("Tags", "tags"):
        value = params.get(name)
        if isinstance(value, dict):
            found.update({str(k): str(v) for k, v in value.items()})
            seen = True
        elif isinstance(value, list):
            for tag in value:
                if isinstance(tag, dict) and "Key" in tag:
                    found[tag["Key"]] = str(tag.get("Value", ""))
            seen = True
    for spec in params.get("TagSpecifications") or []:
        if isinstance(spec, dict):
            for tag in spec.get("Tags") or []:
                if isinstance(tag, dict) and "Key" in tag:
                    found[tag["Key"]] = str(tag.get("Value", ""))
            seen = True
    return found if seen else None


def _with_resource_tags(base, tags: dict):
    from ..services.iam.policy import Context

    context = Context()
    for key, values in base.items():
        context.set(key, values if len(values) != 1 else values[0])
    for key, value in tags.items():
        context.set(f"aws:ResourceTag/{key}", value)
    return context


# -- AccessDenied in each service's words ----------------------------------------------------------------

_BECAUSE = {
    ("explicitDeny", "identity"): "with an explicit deny in an identity-based policy",
    ("explicitDeny", "resource"): "with an explicit deny in a resource-based policy",
    ("explicitDeny", "boundary"): "with an explicit deny in a permissions boundary",
    ("explicitDeny", "session"): "with an explicit deny in a session policy",
    ("implicitDeny", "identity"): "because no identity-based policy allows the {action} action",
    ("implicitDeny", "resource"): "because no resource-based policy allows the {action} action",
    ("implicitDeny", "boundary"): "because no permissions boundary allows the {action} action",
    ("implicitDeny", "session"): "because no session policy allows the {action} action",
}
_CODES = {"ec2": "UnauthorizedOperation", "sns": "AuthorizationError", "s3": "AccessDenied"}
_IAM_LIST = re.compile(r"^iam:List(Role|User|Polic|InstanceProfile)")
_IAM_KIND = {"Role": "role", "User": "user", "Polic": "policy", "InstanceProfile": "instance-profile"}


def message(caller_arn: str, action: str, resource: str, decision: str, reason: str | None) -> str:
    prefix, _, name = action.partition(":")
    shown = action.lower() if prefix == "sqs" else f"SNS:{name}" if prefix == "sns" else action
    because = _BECAUSE.get((decision, reason or "identity"), _BECAUSE[("implicitDeny", "identity")])
    on = f" on resource: {resource}" if resource != "*" else ""
    return f"User: {caller_arn} is not authorized to perform: {shown}{on} {because.format(action=shown)}"


def denied(ctx, action: str, resource: str, decision: str, reason: str | None, caller_arn: str) -> AwsError:
    shown_resource = resource
    m = _IAM_LIST.match(action)
    if resource == "*" and m:
        # IAM names the listed kind in its message: "... on resource: arn:aws:iam::123456789012:role/".
        shown_resource = f"arn:aws:iam::{ctx.account}:{_IAM_KIND[m.group(1)]}/"
    text = message(caller_arn, action, shown_resource, decision, reason)
    service = ctx.spec.name
    code = _CODES.get(service)
    if code is None:
        model = _model(service)
        query_like = ctx.protocol in ("query", "ec2") or (model is not None
                                                          and "awsQueryCompatible" in model.metadata)
        code = "AccessDenied" if query_like else "AccessDeniedException"
    if service == "ec2":
        # EC2 adds a message that STS DecodeAuthorizationMessage decodes into the denial's details.
        from ..services.sts.internal import encoded_authorization_message

        encoded = encoded_authorization_message(caller_arn, ctx.identity.user_id, ctx.account, action,
                                                resource, decision == "explicitDeny")
        text = f"You are not authorized to perform this operation. {text}. Encoded authorization failure " \
               f"message: {encoded}"
    return AwsError(code, text, status=403, sender_fault=True)


def _model(service: str):
    from . import specs

    try:
        return specs.service_model(service)
    except Exception:
        return None
