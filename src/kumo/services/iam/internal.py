"""IAM for the rest of kumo: whose policies apply to a principal, a role's trust policy, an entity's tags.

The request authorizer (kumo.aws.authorize) and the policy simulator read IAM's
records through these functions only.  Policies come back parsed, named as the
simulator reports them (an inline policy by its name, a managed one by its ARN).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...core import tags as tagging
from . import aws_managed
from .model import AWS_MANAGED_PREFIX, GROUP, POLICY, PROFILE, ROLE, USER, table
from .policy import Caller, MalformedPolicy, Policy, parse


@dataclass
class Principal:
    """A caller as the evaluator sees it, with the policies of its identity."""

    caller: Caller
    identity: list[Policy] = field(default_factory=list)
    boundary: list[Policy] | None = None
    session: list[Policy] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    user_name: str | None = None
    user_id: str = ""
    entity_arn: str | None = None  # the user or role whose policies apply


def managed_document(store, policy_arn: str) -> str | None:
    """The default version of a managed policy; None if kumo does not hold it."""
    if policy_arn.startswith(AWS_MANAGED_PREFIX + "/"):
        return aws_managed.document(policy_arn)
    parts = policy_arn.split(":", 5)
    if len(parts) != 6:
        return None
    policy = table(store, parts[4], POLICY).get(policy_arn)
    if policy is None:
        return None
    for version in policy["_versions"]:
        if version["IsDefaultVersion"]:
            return version["Document"]
    return None


def managed_policy(store, policy_arn: str, source_type: str | None = None) -> Policy | None:
    text = managed_document(store, policy_arn)
    if text is None:
        return None
    kind = source_type or ("aws-managed" if policy_arn.startswith(AWS_MANAGED_PREFIX + "/") else "user-managed")
    return _parse(text, policy_arn, kind)


def _parse(text: str, source_id: str, source_type: str) -> Policy | None:
    try:
        return parse(text, source_id, source_type)
    except MalformedPolicy:
        return None  # a stored document IAM accepted but the evaluator cannot read grants nothing


def entity_policies(store, record: dict, kind: str) -> list[Policy]:
    """Inline and attached managed policies of a user or role record."""
    out = []
    for name, text in sorted(record.get("_inline", {}).items()):
        policy = _parse(text, name, kind)
        if policy is not None:
            out.append(policy)
    for arn in record.get("_attached", []):
        policy = managed_policy(store, arn)
        if policy is not None:
            out.append(policy)
    return out


def boundary_of(store, record: dict) -> list[Policy] | None:
    boundary = (record.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    if not boundary:
        return None
    policy = managed_policy(store, boundary)
    return [policy] if policy is not None else []


def find_user_by_arn(store, arn: str) -> dict | None:
    parts = arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("user/"):
        return None
    user = table(store, parts[4], USER).get(parts[5].rsplit("/", 1)[-1])
    return user if user is not None and user["Arn"] == arn else None


def find_role(store, account: str, name: str) -> dict | None:
    return table(store, account, ROLE).get(name)


def find_role_by_arn(store, arn: str) -> dict | None:
    parts = arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("role/"):
        return None
    role = find_role(store, parts[4], parts[5].rsplit("/", 1)[-1])
    return role if role is not None and role["Arn"] == arn else None


def principal_of(store, identity_arn: str, account: str, user_id: str = "", credential: dict | None = None) -> Principal:
    """The principal behind an identity ARN (user, assumed-role session, federated user, root),
    with the session policies and tags its credentials were issued with."""
    credential = credential or {}
    resource = identity_arn.split(":", 5)[-1]
    if resource == "root":
        return Principal(Caller(identity_arn, account, "root"), user_id=user_id or account)
    if resource.startswith("user/"):
        user = find_user_by_arn(store, identity_arn)
        principal = Principal(Caller(identity_arn, account, "user"), user_name=resource.rsplit("/", 1)[-1],
                              user_id=user_id, entity_arn=identity_arn)
        if user is not None:
            _fill(store, principal, user, "user")
        return principal
    if resource.startswith("assumed-role/"):
        role_name = resource.split("/")[1]
        role = find_role(store, account, role_name)
        role_arn = role["Arn"] if role is not None else f"arn:aws:iam::{account}:role/{role_name}"
        principal = Principal(Caller(identity_arn, account, "assumed-role", role_arn=role_arn), user_id=user_id,
                              entity_arn=role_arn)
        if role is not None:
            _fill(store, principal, role, "role")
        principal.tags.update(credential.get("SessionTags") or {})
        principal.session = session_policies(store, credential)
        return principal
    if resource.startswith("federated-user/"):
        # A federated user's permissions are its IAM user's, cut down to the session policies.
        principal = Principal(Caller(identity_arn, account, "federated-user"), user_id=user_id)
        source = credential.get("SourceArn")
        user = find_user_by_arn(store, source) if source else None
        if user is not None:
            _fill(store, principal, user, "user")
            principal.entity_arn = source
        principal.session = session_policies(store, credential) or []
        return principal
    return Principal(Caller(identity_arn, account, "user"), user_id=user_id)


def identity_policies(store, record: dict, kind: str) -> list[Policy]:
    """An entity's policies; a user also holds the policies of its groups."""
    out = entity_policies(store, record, kind)
    if kind == "user":
        account = record["Arn"].split(":")[4]
        for group_name in record.get("_groups", []):
            group = table(store, account, GROUP).get(group_name)
            if group is not None:
                out.extend(entity_policies(store, group, "group"))
    return out


def find_group_by_arn(store, arn: str) -> dict | None:
    parts = arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("group/"):
        return None
    group = table(store, parts[4], GROUP).get(parts[5].rsplit("/", 1)[-1])
    return group if group is not None and group["Arn"] == arn else None


def _fill(store, principal: Principal, record: dict, kind: str) -> None:
    principal.identity = identity_policies(store, record, kind)
    principal.boundary = boundary_of(store, record)
    principal.tags = tagging.to_dict(record.get("Tags"))
    principal.user_id = principal.user_id or record.get("UserId") or record.get("RoleId", "")


def session_policies(store, credential: dict) -> list[Policy] | None:
    """The session policies a set of temporary credentials carries; None when it was given none."""
    text, arns = credential.get("SessionPolicy"), credential.get("SessionPolicyArns") or []
    if not text and not arns:
        return None
    out = []
    if text:
        policy = _parse(text, "SessionPolicy", "none")
        if policy is not None:
            out.append(policy)
    for arn in arns:
        policy = managed_policy(store, arn, "none")
        if policy is not None:
            out.append(policy)
    return out


# -- resources IAM owns -------------------------------------------------------------------------------


def trust_policy(kumo, role_arn: str) -> str | None:
    """The role's trust policy: the resource policy sts:AssumeRole is evaluated against."""
    role = find_role_by_arn(kumo.store, role_arn)
    return role["AssumeRolePolicyDocument"] if role is not None else None


def resource_tags(kumo, arn: str) -> dict[str, str] | None:
    """Tags of a user or role named by its ARN (aws:ResourceTag/*)."""
    record = find_user_by_arn(kumo.store, arn) or find_role_by_arn(kumo.store, arn)
    return tagging.to_dict(record.get("Tags")) if record is not None else None


def profile_role_arn(store, account: str, profile: dict | None) -> str | None:
    """The role an instance profile (given as EC2's {"Arn"} or {"Name"}) hands to its instances."""
    if not isinstance(profile, dict):
        return None
    name = profile.get("Name")
    if not name and isinstance(profile.get("Arn"), str):
        name = profile["Arn"].rsplit("/", 1)[-1]
    record = table(store, account, PROFILE).get(name) if name else None
    if not record or not record.get("_roles"):
        return None
    role = find_role(store, account, record["_roles"][0])
    return role["Arn"] if role is not None else None


# -- roles and instance profiles, for the services that hand out their credentials (STS, EC2, Lambda) ------


@dataclass(frozen=True)
class Role:
    account: str
    name: str
    arn: str
    role_id: str
    max_session_duration: int
    trust_policy: str  # AssumeRolePolicyDocument


@dataclass(frozen=True)
class InstanceProfile:
    name: str
    arn: str
    profile_id: str
    role: Role | None  # the one role a profile can hold


def _role(account: str, record: dict | None) -> Role | None:
    if record is None:
        return None
    return Role(account, record["RoleName"], record["Arn"], record["RoleId"],
                int(record.get("MaxSessionDuration") or 3600), record.get("AssumeRolePolicyDocument") or "")


def split_role_arn(role_arn: str) -> tuple[str, str] | None:
    """(account, role name) of ``arn:aws:iam::<account>:role/<path><name>``; None if it is no role ARN."""
    parts = (role_arn or "").split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    return parts[4], parts[5].rsplit("/", 1)[-1]


def role_named_by(store, role_arn: str) -> Role | None:
    """The role an ARN names, by its account and name (the path is not compared, as AssumeRole resolves it)."""
    split = split_role_arn(role_arn)
    if split is None:
        return None
    return _role(split[0], find_role(store, *split))


def instance_profile(store, account: str, name: str) -> InstanceProfile | None:
    record = table(store, account, PROFILE).get(name) if name else None
    if record is None:
        return None
    role = find_role(store, account, record["_roles"][0]) if record.get("_roles") else None
    return InstanceProfile(record["InstanceProfileName"], record["Arn"], record["InstanceProfileId"],
                           _role(account, role))


def path_of(store, account: str, kind: str, name: str) -> str:
    """An entity's path, for ARNs named by RoleNameWithPath / UserNameWithPath; "/" if unknown."""
    record = table(store, account, {"role": ROLE, "user": USER, "group": GROUP}.get(kind, kind)).get(name)
    return (record or {}).get("Path") or "/"


# -- identity providers, for STS's federation calls ------------------------------------------------------------


def oidc_provider(store, account: str, issuer: str) -> dict | None:
    """The OIDC provider registered for a token's ``iss`` (with or without its scheme), or None."""
    from .providers import OIDC

    host_path = issuer.split("://", 1)[-1].rstrip("/")
    return table(store, account, OIDC).get(f"arn:aws:iam::{account}:oidc-provider/{host_path}")


def saml_provider(store, provider_arn: str) -> dict | None:
    """A SAML provider's record, with ``_meta`` (entity_id, certificates) parsed from its metadata."""
    from .providers import SAML

    parts = provider_arn.split(":", 5)
    if len(parts) != 6:
        return None
    return table(store, parts[4], SAML).get(provider_arn)


def trust_allows_federated(role: Role, action: str, provider_arn: str, context: dict) -> bool:
    """Whether the role's trust policy lets a federated identity of ``provider_arn`` take ``action``
    (sts:AssumeRoleWithWebIdentity, sts:AssumeRoleWithSAML), with the token's claims as condition keys."""
    from .policy import Context, PolicySet, Request, evaluate

    trust = _parse(role.trust_policy, "TrustPolicy", "resource")
    if trust is None:
        return False
    request = Request(Caller(provider_arn, role.account, "service"), action, role.arn, Context(context))
    return evaluate(request, PolicySet(resource=trust, resource_required=True)).allowed


from .outbound import PATH as OUTBOUND_PATH  # noqa: E402,F401  where kumo serves each account's outbound issuer


def outbound_issuer(store, account: str) -> dict | None:
    """The account's outbound federation record (Id, Enabled, private keys as PEM in _rsa/_ec, kids), or None."""
    from .logins import ACCOUNT
    from .outbound import KEY

    return table(store, account, ACCOUNT).get(KEY)


def outbound_issuer_by_id(store, issuer_id: str) -> dict | None:
    from .logins import ACCOUNT
    from .outbound import KEY

    for _, key, value in store.all(ACCOUNT):
        if key == KEY and value.get("Id") == issuer_id:
            return value
    return None


def outbound_issuer_url(kumo, record: dict) -> str:
    from .outbound import issuer_url

    return issuer_url(kumo, record)


def policy_grammar_error(text: str, kind: str = "session") -> str | None:
    """IAM's MalformedPolicyDocument message for a document, or None if IAM's grammar takes it."""
    from .policy.grammar import PolicyGrammarError, validate

    try:
        validate(text, kind)
    except PolicyGrammarError as exc:
        return str(exc)
    return None


def note_activity(kumo, identity, namespace: str, region: str) -> None:
    """Record a request made with credentials kumo issued (access key and role last use, services accessed)."""
    from .activity import note

    note(kumo, identity, namespace, region)
