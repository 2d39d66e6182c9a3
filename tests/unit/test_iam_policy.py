"""The policy evaluator's pure logic: grammar, wildcards, conditions, variables and the decision."""

from __future__ import annotations

import json

import pytest

from kumo.services.iam.policy import (
    ALLOWED, BOUNDARY, EXPLICIT_DENY, IDENTITY, IMPLICIT_DENY, RESOURCE, SESSION, Caller, Context, MalformedPolicy,
    PolicySet, Request, evaluate, parse,
)
from kumo.services.iam.policy.conditions import holds
from kumo.services.iam.policy.document import Condition
from kumo.services.iam.policy.matching import arn_like, substitute

ACCT, OTHER = "111111111111", "222222222222"
USER = Caller(f"arn:aws:iam::{ACCT}:user/alice", ACCT, "user")
ROLE_ARN = f"arn:aws:iam::{ACCT}:role/app"
SESSION_CALLER = Caller(f"arn:aws:sts::{ACCT}:assumed-role/app/s1", ACCT, "assumed-role", role_arn=ROLE_ARN)
ROOT = Caller(f"arn:aws:iam::{ACCT}:root", ACCT, "root")
OUTSIDER = Caller(f"arn:aws:iam::{OTHER}:user/bob", OTHER, "user")
QUEUE = f"arn:aws:sqs:us-east-1:{ACCT}:q"


def doc(*statements, version="2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def allow(action="*", resource="*", **more) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def deny(action="*", resource="*", **more) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **more}


def decide(caller=USER, action="sqs:SendMessage", resource=QUEUE, identity=(), boundary=None, session=None,
           resource_policy=None, context=None, required=False):
    req = Request(caller, action, resource, Context(context or {}))
    policies = PolicySet(
        identity=[parse(t, f"p{i}", "user") for i, t in enumerate(identity)],
        boundary=None if boundary is None else [parse(boundary, "b", "user-managed")],
        session=None if session is None else [parse(t, f"s{i}", "none") for i, t in enumerate(session)],
        resource=None if resource_policy is None else parse(resource_policy, "r", "resource"),
        resource_required=required,
    )
    return evaluate(req, policies)


# -- grammar ------------------------------------------------------------------------------------------


def test_a_single_statement_object_is_one_statement():
    p = parse(json.dumps({"Version": "2012-10-17", "Statement": allow("s3:*")}))
    assert len(p.statements) == 1 and p.statements[0].actions == ("s3:*",)


def test_statement_positions_are_line_and_column_of_each_statement():
    text = '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow", "Action": "*", "Resource": "*"},\n' \
           '    {"Effect": "Deny", "Action": "*", "Resource": "*"}\n  ]\n}'
    p = parse(text)
    assert p.statements[0].start == (4, 5) and p.statements[0].end == (4, 55)
    assert p.statements[1].start == (5, 5)


@pytest.mark.parametrize("bad", ["not json", "[]", '{"Version": "2012-10-17"}',
                                 doc({"Effect": "Maybe", "Action": "*", "Resource": "*"}),
                                 doc({"Effect": "Allow", "Resource": "*"})])
def test_malformed_documents_are_refused(bad):
    with pytest.raises(MalformedPolicy):
        parse(bad)


# -- actions and resources -----------------------------------------------------------------------------


def test_action_wildcards_match_case_insensitively():
    assert decide(identity=[doc(allow("SQS:send*"))]).decision == ALLOWED
    assert decide(identity=[doc(allow("sqs:?endMessage"))]).decision == ALLOWED
    assert decide(identity=[doc(allow("sqs:Receive*"))]).decision == IMPLICIT_DENY


def test_not_action_allows_everything_else():
    d = doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert decide(identity=[d]).decision == ALLOWED
    assert decide(identity=[d], action="iam:ListRoles", resource="*").decision == IMPLICIT_DENY


def test_not_resource_and_resource_wildcards():
    assert decide(identity=[doc(allow(resource=f"arn:aws:sqs:*:{ACCT}:q"))]).decision == ALLOWED
    assert decide(identity=[doc(allow(resource=f"arn:aws:sqs:*:{ACCT}:other"))]).decision == IMPLICIT_DENY
    nr = doc({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:sqs:*:*:q"})
    assert decide(identity=[nr]).decision == IMPLICIT_DENY


def test_resource_patterns_compare_case_sensitively():
    assert decide(identity=[doc(allow(resource=f"arn:aws:sqs:us-east-1:{ACCT}:Q"))]).decision == IMPLICIT_DENY


def test_actions_without_resource_type_match_only_the_wildcard_resource():
    assert decide(action="sqs:ListQueues", resource="*",
                  identity=[doc(allow(resource=f"arn:aws:sqs:*:{ACCT}:*"))]).decision == IMPLICIT_DENY
    assert decide(action="sqs:ListQueues", resource="*", identity=[doc(allow())]).decision == ALLOWED


def test_arn_like_compares_each_part():
    assert arn_like("arn:aws:iam::*:role/*", f"arn:aws:iam::{ACCT}:role/path/x")
    assert not arn_like("arn:aws:iam::*:role/*", f"arn:aws:iam::{ACCT}:user/x")
    assert arn_like("arn:aws:lambda:*:*:function:f*", f"arn:aws:lambda:us-east-1:{ACCT}:function:f:prod")


# -- policy variables ----------------------------------------------------------------------------------


def test_policy_variables_fill_resources():
    d = doc(allow("iam:*", f"arn:aws:iam::{ACCT}:user/${{aws:username}}"))
    ctx = {"aws:username": "alice"}
    assert decide(action="iam:GetUser", resource=USER.arn, identity=[d], context=ctx).decision == ALLOWED
    assert decide(action="iam:GetUser", resource=f"arn:aws:iam::{ACCT}:user/bob", identity=[d],
                  context=ctx).decision == IMPLICIT_DENY


def test_variables_are_literal_in_2008_documents():
    d = doc(allow("iam:*", f"arn:aws:iam::{ACCT}:user/${{aws:username}}"), version="2008-10-17")
    assert decide(action="iam:GetUser", resource=USER.arn, identity=[d],
                  context={"aws:username": "alice"}).decision == IMPLICIT_DENY


def test_variable_defaults_and_escapes():
    ctx = Context({"aws:PrincipalTag/team": "red"})
    assert substitute("x/${aws:PrincipalTag/team}", ctx) == "x/red"
    assert substitute("x/${aws:PrincipalTag/none, 'blue'}", ctx) == "x/blue"
    assert substitute("x/${aws:PrincipalTag/none}", ctx) is None
    assert substitute("a${*}b", ctx) == "a\x00b"  # a literal star, not a wildcard


# -- conditions ----------------------------------------------------------------------------------------


def cond(op, key, values, context):
    missing: set[str] = set()
    vals = tuple(values) if isinstance(values, (list, tuple)) else (values,)
    return holds(Condition(op, key, vals), Context(context), True, missing), missing


@pytest.mark.parametrize("op,values,ctx,expected", [
    ("StringEquals", ["a", "b"], "b", True),
    ("StringEquals", "A", "a", False),
    ("StringEqualsIgnoreCase", "A", "a", True),
    ("StringNotEquals", "a", "b", True),
    ("StringLike", "web-*", "web-1", True),
    ("StringLike", "web-?", "web-12", False),
    ("StringNotLike", "web-*", "db-1", True),
    ("NumericLessThan", "10", "9", True),
    ("NumericGreaterThanEquals", "10", "9", False),
    ("NumericEquals", "10", "ten", False),
    ("DateGreaterThan", "2020-01-01T00:00:00Z", "2021-06-01T00:00:00Z", True),
    ("DateLessThan", "2020-01-01", "1500000000", True),
    ("Bool", "true", "True", True),
    ("IpAddress", "10.0.0.0/8", "10.1.2.3", True),
    ("IpAddress", "127.0.0.1/32", "127.0.0.2", False),
    ("NotIpAddress", "10.0.0.0/8", "192.0.2.1", True),
    ("IpAddress", "2001:db8::/32", "2001:db8::1", True),
    ("ArnLike", "arn:aws:sns:*:*:topic-*", "arn:aws:sns:us-east-1:1:topic-a", True),
    ("ArnNotEquals", "arn:aws:sns:*:*:topic-*", "arn:aws:sns:us-east-1:1:topic-a", False),
    ("BinaryEquals", "QmluYXJ5", "QmluYXJ5", True),
])
def test_condition_operators(op, values, ctx, expected):
    assert cond(op, "k", values, {"k": ctx})[0] is expected


def test_condition_keys_are_case_insensitive():
    assert cond("StringEquals", "AWS:RequestedRegion", "eu-west-1", {"aws:requestedregion": "eu-west-1"})[0]


def test_a_missing_key_fails_positive_operators_and_is_reported():
    ok, missing = cond("StringEquals", "aws:PrincipalTag/team", "red", {})
    assert not ok and missing == {"aws:PrincipalTag/team"}


def test_a_missing_key_satisfies_negated_operators_if_exists_and_for_all_values():
    assert cond("StringNotEquals", "k", "a", {})[0]
    assert cond("StringEqualsIfExists", "k", "a", {})[0]
    assert not cond("StringEqualsIfExists", "k", "a", {"k": "b"})[0]
    assert cond("ForAllValues:StringEquals", "k", "a", {})[0]
    assert not cond("ForAnyValue:StringEquals", "k", "a", {})[0]


def test_null_tests_presence():
    assert cond("Null", "k", "true", {})[0]
    assert not cond("Null", "k", "true", {"k": "x"})[0]
    assert cond("Null", "k", "false", {"k": "x"})[0]


def test_set_qualifiers_on_multivalued_keys():
    keys = {"aws:TagKeys": ["env", "team"]}
    assert cond("ForAllValues:StringEquals", "aws:TagKeys", ["env", "team", "cost"], keys)[0]
    assert not cond("ForAllValues:StringEquals", "aws:TagKeys", ["env"], keys)[0]
    assert cond("ForAnyValue:StringEquals", "aws:TagKeys", ["team"], keys)[0]
    assert not cond("ForAnyValue:StringEquals", "aws:TagKeys", ["owner"], keys)[0]


def test_every_key_must_hold_and_any_value_may_match():
    st = allow(Condition={"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]},
                          "Bool": {"aws:SecureTransport": "true"}})
    base = {"aws:RequestedRegion": "eu-west-1"}
    assert decide(identity=[doc(st)], context={**base, "aws:SecureTransport": "true"}).decision == ALLOWED
    assert decide(identity=[doc(st)], context={**base, "aws:SecureTransport": "false"}).decision == IMPLICIT_DENY


def test_condition_values_take_policy_variables():
    st = allow(Condition={"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}})
    ctx = {"aws:username": "alice", "aws:ResourceTag/owner": "alice"}
    assert decide(identity=[doc(st)], context=ctx).decision == ALLOWED
    assert decide(identity=[doc(st)], context={**ctx, "aws:ResourceTag/owner": "bob"}).decision == IMPLICIT_DENY


# -- the decision --------------------------------------------------------------------------------------


def test_implicit_deny_by_default():
    r = decide()
    assert r.decision == IMPLICIT_DENY and r.reason == IDENTITY


def test_explicit_deny_beats_allow():
    r = decide(identity=[doc(allow()), doc(deny("sqs:Send*"))])
    assert r.decision == EXPLICIT_DENY and r.reason == IDENTITY
    assert [s.effect for _, s in r.matched] == ["Deny"]


def test_root_is_allowed_in_its_own_account_but_not_past_a_resource_deny():
    assert decide(caller=ROOT).decision == ALLOWED
    rp = doc(deny(Principal="*"))
    assert decide(caller=ROOT, resource_policy=rp).decision == EXPLICIT_DENY


def test_boundary_limits_identity_policies():
    r = decide(identity=[doc(allow())], boundary=doc(allow("sqs:Receive*")))
    assert r.decision == IMPLICIT_DENY and r.reason == BOUNDARY and r.boundary_allowed is False
    assert decide(identity=[doc(allow())], boundary=doc(allow("sqs:*"))).boundary_allowed is True


def test_boundary_alone_grants_nothing():
    assert decide(boundary=doc(allow())).decision == IMPLICIT_DENY


def test_boundary_explicit_deny():
    r = decide(identity=[doc(allow())], boundary=doc(allow(), deny("sqs:SendMessage")))
    assert r.decision == EXPLICIT_DENY and r.reason == BOUNDARY


def test_session_policy_intersects_with_role_policies():
    r = decide(caller=SESSION_CALLER, identity=[doc(allow())], session=[doc(allow("sqs:Receive*"))])
    assert r.decision == IMPLICIT_DENY and r.reason == SESSION
    assert decide(caller=SESSION_CALLER, identity=[doc(allow())], session=[doc(allow("sqs:*"))]).allowed
    assert not decide(caller=SESSION_CALLER, identity=[doc(allow("sqs:Receive*"))],
                      session=[doc(allow())]).allowed


def test_same_account_resource_policy_naming_the_user_allows_without_identity_policy():
    rp = doc(allow(Principal={"AWS": USER.arn}))
    assert decide(resource_policy=rp).decision == ALLOWED
    # ... even past a boundary that does not allow it (boundaries limit identity-based policies only)
    assert decide(resource_policy=rp, boundary=doc(allow("s3:*"))).decision == ALLOWED


def test_same_account_resource_policy_naming_the_account_delegates_to_identity_policies():
    rp = doc(allow(Principal={"AWS": ACCT}))
    assert decide(resource_policy=rp).decision == IMPLICIT_DENY
    assert decide(resource_policy=rp, identity=[doc(allow())]).decision == ALLOWED


def test_resource_policy_naming_the_role_is_limited_by_the_session_policy():
    rp = doc(allow(Principal={"AWS": ROLE_ARN}))
    assert decide(caller=SESSION_CALLER, resource_policy=rp).decision == ALLOWED
    r = decide(caller=SESSION_CALLER, resource_policy=rp, session=[doc(allow("s3:*"))])
    assert r.decision == IMPLICIT_DENY and r.reason == SESSION
    rp_session = doc(allow(Principal={"AWS": SESSION_CALLER.arn}))
    assert decide(caller=SESSION_CALLER, resource_policy=rp_session, session=[doc(allow("s3:*"))]).allowed


def test_cross_account_needs_both_sides():
    rp = doc(allow(Principal={"AWS": OTHER}))
    r = decide(caller=OUTSIDER, resource_policy=rp)
    assert r.decision == IMPLICIT_DENY and r.reason == IDENTITY and r.cross_account
    r = decide(caller=OUTSIDER, identity=[doc(allow())])
    assert r.decision == IMPLICIT_DENY and r.reason == RESOURCE
    r = decide(caller=OUTSIDER, identity=[doc(allow())], resource_policy=rp)
    assert r.decision == ALLOWED and r.details == {"IAM Policy": ALLOWED, "Resource Policy": ALLOWED}


def test_cross_account_root_needs_the_resource_policy_only():
    other_root = Caller(f"arn:aws:iam::{OTHER}:root", OTHER, "root")
    assert decide(caller=other_root).decision == IMPLICIT_DENY
    assert decide(caller=other_root, resource_policy=doc(allow(Principal={"AWS": OTHER}))).allowed


def test_resource_policy_conditions_and_principal_mismatch():
    rp = doc(allow(Principal={"AWS": f"arn:aws:iam::{OTHER}:user/carol"}))
    assert decide(caller=OUTSIDER, identity=[doc(allow())], resource_policy=rp).reason == RESOURCE


def test_not_principal_deny_spares_only_fully_listed_callers():
    rp = doc(allow(Principal="*"), deny(NotPrincipal={"AWS": [USER.arn, f"arn:aws:iam::{ACCT}:root"]}))
    assert decide(resource_policy=rp).decision == ALLOWED
    other_user = Caller(f"arn:aws:iam::{ACCT}:user/eve", ACCT, "user")
    assert decide(caller=other_user, resource_policy=rp).decision == EXPLICIT_DENY


def test_trust_policies_must_allow_within_the_account():
    trust = doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": ACCT}})
    args = dict(action="sts:AssumeRole", resource=ROLE_ARN, required=True)
    assert decide(identity=[doc(allow())], **args).reason == RESOURCE
    assert decide(identity=[doc(allow())], resource_policy=trust, **args).allowed
    assert decide(resource_policy=trust, **args).reason == IDENTITY
    direct = doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": USER.arn}})
    assert decide(resource_policy=direct, **args).allowed


def test_missing_context_values_are_collected():
    st = allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    r = decide(identity=[doc(st)])
    assert r.decision == IMPLICIT_DENY and r.missing == {"aws:SourceIp"}
