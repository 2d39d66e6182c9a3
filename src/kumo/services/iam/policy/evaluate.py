"""AWS's policy evaluation logic, for one action on one resource.

In order (IAM User Guide, "Policy evaluation logic"):

1. An explicit Deny in any applicable policy (identity-based, resource-based, permissions
   boundary, session policy) denies.
2. Within one account, a resource-based policy that names the caller itself (a user's ARN, an
   assumed-role session's ARN, or everyone) allows on its own; one that names the role behind
   a session allows as long as the boundary and session policies, if any, allow too.
3. Otherwise identity-based policies must allow, and so must the permissions boundary and the
   session policies where the principal has them.  Nothing allowing is an implicit deny.
4. Across accounts both sides must allow: the caller's identity side (as in 3) and the
   resource-based policy of the resource's account (naming the caller, its role or its account).

The account root is allowed everything in its own account; only a resource policy's explicit
deny stops it there.  Role trust policies are resource policies that must allow even within
the account (``PolicySet.resource_required``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .conditions import all_hold
from .context import Context
from .document import Policy, Statement
from .matching import ACCOUNT, DIRECT, ROLE, action_matches, principal_match, resource_matches

ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY = "allowed", "explicitDeny", "implicitDeny"
IDENTITY, RESOURCE, BOUNDARY, SESSION = "identity", "resource", "boundary", "session"


@dataclass(frozen=True)
class Caller:
    arn: str
    account: str
    kind: str  # root | user | assumed-role | federated-user | service
    role_arn: str | None = None  # the role behind an assumed-role session
    service: str | None = None  # a service principal's name, e.g. lambda.amazonaws.com


@dataclass
class Request:
    caller: Caller
    action: str
    resource: str
    context: Context
    resource_account: str | None = None  # defaults to the resource ARN's account, else the caller's

    @property
    def owner(self) -> str:
        if self.resource_account:
            return self.resource_account
        parts = self.resource.split(":", 5)
        if len(parts) == 6 and parts[4].isdigit():
            return parts[4]
        return self.caller.account


@dataclass
class PolicySet:
    identity: list[Policy] = field(default_factory=list)
    boundary: list[Policy] | None = None  # None: the principal has no permissions boundary
    session: list[Policy] | None = None  # None: not a session that was given session policies
    resource: Policy | None = None
    resource_required: bool = False


@dataclass
class Result:
    decision: str
    reason: str | None = None  # which kind of policy denied (explicitly) or failed to allow
    matched: list[tuple[Policy, Statement]] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)
    boundary_allowed: bool | None = None  # None when no boundary was evaluated
    cross_account: bool = False
    details: dict[str, str] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOWED


@dataclass
class _Scan:
    allows: list[tuple[Policy, Statement]] = field(default_factory=list)
    denies: list[tuple[Policy, Statement]] = field(default_factory=list)
    strength: str | None = None  # resource policies: how the best Allow named the caller

    def decision(self) -> str:
        return EXPLICIT_DENY if self.denies else ALLOWED if self.allows else IMPLICIT_DENY


_RANK = {None: 0, ACCOUNT: 1, ROLE: 2, DIRECT: 3}


def _scan(policies: list[Policy], request: Request, missing: set[str], resource_policy: bool = False) -> _Scan:
    out = _Scan()
    for policy in policies:
        for st in policy.statements:
            strength = _applies(st, policy, request, missing, resource_policy)
            if strength is None:
                continue
            if st.effect == "Deny":
                out.denies.append((policy, st))
            else:
                out.allows.append((policy, st))
                if _RANK[strength] > _RANK[out.strength]:
                    out.strength = strength
    return out


def _applies(st: Statement, policy: Policy, request: Request, missing: set[str], resource_policy: bool):
    """None if the statement does not apply; else how it names the caller (DIRECT outside resource policies)."""
    if st.actions is not None and not action_matches(st.actions, request.action):
        return None
    if st.not_actions is not None and action_matches(st.not_actions, request.action):
        return None
    ctx, variables = request.context, policy.variables
    if st.resources is not None and not resource_matches(st.resources, request.resource, ctx, variables):
        return None
    if st.not_resources is not None and resource_matches(st.not_resources, request.resource, ctx, variables):
        return None
    strength = DIRECT
    if resource_policy:
        if st.principal is not None:
            strength = principal_match(st.principal, request.caller)
            if strength is None:
                return None
        elif st.not_principal is not None:
            if _all_named(st.not_principal, request.caller):
                return None
        else:
            return None  # a resource policy statement without a principal names no one
    if not all_hold(st.conditions, ctx, variables, missing):
        return None
    return strength


def _all_named(not_principal: dict, caller: Caller) -> bool:
    """NotPrincipal excludes a caller only when it lists every identity in the caller's chain:
    the session or user itself, the role behind a session, and the account."""
    chain = [caller.arn, f"arn:aws:iam::{caller.account}:root"]
    if caller.role_arn:
        chain.append(caller.role_arn)
    if caller.kind == "root":
        chain = chain[1:]
    listed = set(not_principal.get("AWS", ())) | set(not_principal.get("Federated", ()))
    if "*" in not_principal.get("*", ()):
        return True
    listed |= {f"arn:aws:iam::{v}:root" for v in listed if v.isdigit()}
    return all(identity in listed for identity in chain)


def evaluate(request: Request, policies: PolicySet) -> Result:
    missing: set[str] = set()
    caller = request.caller
    identity = _scan(policies.identity, request, missing)
    boundary = _scan(policies.boundary, request, missing) if policies.boundary is not None else None
    session = _scan(policies.session, request, missing) if policies.session is not None else None
    resource = (_scan([policies.resource], request, missing, resource_policy=True)
                if policies.resource is not None else _Scan())
    cross = request.owner != caller.account
    result = Result(IMPLICIT_DENY, missing=missing, cross_account=cross,
                    boundary_allowed=None if boundary is None else bool(boundary.allows) and not boundary.denies)

    # 1. explicit deny anywhere
    for kind, scan in ((IDENTITY, identity), (RESOURCE, resource), (BOUNDARY, boundary), (SESSION, session)):
        if scan is not None and scan.denies:
            result.decision, result.reason = EXPLICIT_DENY, kind
            result.matched = [m for s in (identity, resource, boundary, session) if s for m in s.denies]
            _details(result, identity, resource)
            return result

    limits_ok, limit_reason = _limits(boundary, session)
    if caller.kind == "root":
        identity_ok, identity_reason = True, None
    elif caller.kind == "service":
        identity_ok, identity_reason = False, IDENTITY
    elif not identity.allows:
        identity_ok, identity_reason = False, IDENTITY
    else:
        identity_ok, identity_reason = limits_ok, limit_reason

    if not cross:
        strength = resource.strength
        if policies.resource_required and strength is None:
            return _deny(result, RESOURCE, identity, resource)
        if strength == DIRECT or (strength == ROLE and limits_ok):
            return _allow(result, resource.allows + _limit_matches(boundary, session), identity, resource)
        if identity_ok:
            return _allow(result, identity.allows + resource.allows + _limit_matches(boundary, session),
                          identity, resource)
        if strength == ROLE:
            return _deny(result, limit_reason, identity, resource)
        return _deny(result, identity_reason, identity, resource)

    # cross-account: both the caller's side and the resource's side
    if not identity_ok:
        return _deny(result, identity_reason, identity, resource)
    if resource.strength is None:
        return _deny(result, RESOURCE, identity, resource)
    return _allow(result, identity.allows + resource.allows + _limit_matches(boundary, session), identity, resource)


def _limits(boundary: _Scan | None, session: _Scan | None) -> tuple[bool, str | None]:
    if boundary is not None and not boundary.allows:
        return False, BOUNDARY
    if session is not None and not session.allows:
        return False, SESSION
    return True, None


def _limit_matches(boundary: _Scan | None, session: _Scan | None) -> list:
    return [m for s in (boundary, session) if s is not None for m in s.allows]


def _allow(result: Result, matched, identity: _Scan, resource: _Scan) -> Result:
    result.decision, result.reason, result.matched = ALLOWED, None, matched
    _details(result, identity, resource)
    return result


def _deny(result: Result, reason: str | None, identity: _Scan, resource: _Scan) -> Result:
    result.decision, result.reason, result.matched = IMPLICIT_DENY, reason or IDENTITY, []
    _details(result, identity, resource)
    return result


def _details(result: Result, identity: _Scan, resource: _Scan) -> None:
    """EvalDecisionDetails: what each side decided, reported for cross-account simulations."""
    if result.cross_account:
        result.details = {"IAM Policy": identity.decision(), "Resource Policy": resource.decision()}
