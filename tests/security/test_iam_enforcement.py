"""IAM enforcement (``--enforce-iam``): a table of policy cases, each decided by a real call and by the simulator.

Every row sets up its principal through boto3 on a kumo started with enforcement
(users with access keys from CreateAccessKey, roles assumed with AssumeRole and
session policies, federated users, permissions boundaries, queue, topic and
function policies, cross-account callers), makes the real call with the
principal's credentials, and asserts:

* the call's outcome: success, or AccessDenied in the service's shape whose
  message names the kind of decision (explicit deny / no policy allows);
* SimulatePrincipalPolicy for the same principal, action, resource and context
  (and resource policy) gives the row's decision too.

Session policies cannot be named to SimulatePrincipalPolicy (its source is a user
or role); a session's permissions are the intersection of the role's policies and
the session policy, which is what the simulator computes when the session policy is
passed as PermissionsBoundaryPolicyInputList, so session rows simulate that way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pytest
from botocore.exceptions import ClientError

from kumo.server import ServerThread
from tests.conftest import new_account
from tests.security.policies import allow, client, deny, doc

ALLOWED, EXPLICIT, IMPLICIT = "allowed", "explicitDeny", "implicitDeny"
DENIED_CODES = {"AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation"}


@dataclass
class World:
    """Names one row works with: account A holds the resources; callers are in A, or in B when cross-account."""

    iam_server: ServerThread
    a: str = field(default_factory=new_account)
    b: str = field(default_factory=new_account)
    name: str = "alice"
    region: str = "us-east-1"

    @property
    def queue_name(self):
        return f"{self.name}-q"

    @property
    def queue_arn(self):
        return f"arn:aws:sqs:{self.region}:{self.a}:{self.queue_name}"

    @property
    def queue_url(self):
        return f"{self.iam_server.endpoint}/{self.a}/{self.queue_name}"

    @property
    def topic_arn(self):
        return f"arn:aws:sns:{self.region}:{self.a}:topic"

    @property
    def function_arn(self):
        return f"arn:aws:lambda:{self.region}:{self.a}:function:fn"

    def now(self, delta: float = 0) -> str:
        import datetime as dt

        when = self.iam_server.kumo.clock.now() + delta
        return dt.datetime.fromtimestamp(when, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Case:
    id: str
    expected: str
    identity: Callable[[World], list] | None = None  # inline policy statements of the user or role
    managed: Callable[[World], list] | str | None = None  # a customer managed policy, or an AWS managed name
    boundary: Callable[[World], list] | None = None
    session: Callable[[World], list] | None = None  # role sessions / federated users: the session policy
    who: str = "user"  # user | role | federated
    cross: bool = False  # the caller is in account B, the resource in A
    tags: dict = field(default_factory=dict)
    target: str = "sqs-send"
    queue_policy: Callable[[World], list] | None = None
    queue_tags: dict = field(default_factory=dict)
    trust: Callable[[World], dict] | None = None  # target "assume": the role's trust principal
    region: str = "us-east-1"
    advance: float = 0
    reason: str | None = None  # words the AccessDenied message must contain


def Q(w):  # noqa: N802 - the row's queue, short for the table
    return w.queue_arn


CASES = [
    # -- identity-based policies ------------------------------------------------------------------------------
    Case("no-policy", IMPLICIT, reason="because no identity-based policy allows the sqs:sendmessage action"),
    Case("allow-exact", ALLOWED, identity=lambda w: [allow("sqs:SendMessage", Q(w))]),
    Case("allow-service-wildcard", ALLOWED, identity=lambda w: [allow("sqs:*")]),
    Case("allow-action-prefix", ALLOWED, identity=lambda w: [allow("sqs:Send*", Q(w))]),
    Case("action-case-insensitive", ALLOWED, identity=lambda w: [allow("SQS:SENDMESSAGE", Q(w))]),
    Case("other-resource", IMPLICIT, identity=lambda w: [allow("sqs:SendMessage", Q(w) + "-other")]),
    Case("resource-wildcard", ALLOWED, identity=lambda w: [allow("sqs:SendMessage", f"arn:aws:sqs:*:{w.a}:alice-*")]),
    Case("other-action", IMPLICIT, identity=lambda w: [allow("sqs:ReceiveMessage", Q(w))]),
    Case("explicit-deny", EXPLICIT, identity=lambda w: [allow(), deny("sqs:SendMessage")],
         reason="with an explicit deny in an identity-based policy"),
    Case("deny-by-resource-pattern", EXPLICIT,
         identity=lambda w: [allow("sqs:*"), deny("sqs:*", "arn:aws:sqs:*:*:alice-*")]),
    Case("not-action-allows-rest", ALLOWED,
         identity=lambda w: [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]),
    Case("not-action-excludes", IMPLICIT,
         identity=lambda w: [{"Effect": "Allow", "NotAction": "sqs:*", "Resource": "*"}]),
    Case("deny-not-action", EXPLICIT,
         identity=lambda w: [allow(), {"Effect": "Deny", "NotAction": "sqs:ReceiveMessage", "Resource": "*"}]),
    Case("not-resource-excludes", IMPLICIT,
         identity=lambda w: [{"Effect": "Allow", "Action": "sqs:*", "NotResource": Q(w)}]),
    Case("not-resource-allows-rest", ALLOWED,
         identity=lambda w: [{"Effect": "Allow", "Action": "sqs:*", "NotResource": Q(w) + "-other"}]),
    Case("customer-managed", ALLOWED, managed=lambda w: [allow("sqs:SendMessage", Q(w))]),
    Case("aws-managed-admin", ALLOWED, managed="AdministratorAccess"),
    Case("managed-deny-beats-inline", EXPLICIT, identity=lambda w: [allow()],
         managed=lambda w: [deny("sqs:Send*")]),
    # -- conditions -----------------------------------------------------------------------------------------
    Case("source-ip-in", ALLOWED,
         identity=lambda w: [allow("sqs:*", Condition={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}})]),
    Case("source-ip-out", IMPLICIT,
         identity=lambda w: [allow("sqs:*", Condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}})]),
    Case("deny-not-ip", EXPLICIT,
         identity=lambda w: [allow(), deny(Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})]),
    Case("current-time-before-end", ALLOWED,
         identity=lambda w: [allow("sqs:*", Condition={"DateLessThan": {"aws:CurrentTime": w.now(86400)}})]),
    Case("current-time-after-clock-moves", ALLOWED, advance=7200,
         identity=lambda w: [allow("sqs:*", Condition={"DateGreaterThan": {"aws:CurrentTime": w.now(3600)}})]),
    Case("current-time-window-passed", IMPLICIT, advance=7200,
         identity=lambda w: [allow("sqs:*", Condition={"DateLessThan": {"aws:CurrentTime": w.now(3600)}})]),
    Case("epoch-time", ALLOWED,
         identity=lambda w: [allow("sqs:*", Condition={"NumericGreaterThan": {"aws:EpochTime": 1000}})]),
    Case("requested-region-other", IMPLICIT, target="sqs-list", region="eu-west-1",
         identity=lambda w: [allow("sqs:*", Condition={"StringEquals": {"aws:RequestedRegion": "us-east-1"}})]),
    Case("requested-region-match", ALLOWED, target="sqs-list", region="eu-west-1",
         identity=lambda w: [allow("sqs:*", Condition={"StringEquals": {"aws:RequestedRegion": ["eu-west-1"]}})]),
    Case("deny-insecure-transport", EXPLICIT,
         identity=lambda w: [allow(), deny(Condition={"Bool": {"aws:SecureTransport": "false"}})]),
    Case("allow-only-secure-transport", IMPLICIT,
         identity=lambda w: [allow(Condition={"Bool": {"aws:SecureTransport": True}})]),
    Case("principal-tag-match", ALLOWED, tags={"team": "red"},
         identity=lambda w: [allow("sqs:*", Condition={"StringEquals": {"aws:PrincipalTag/team": "red"}})]),
    Case("principal-tag-mismatch", IMPLICIT, tags={"team": "blue"},
         identity=lambda w: [allow("sqs:*", Condition={"StringEquals": {"aws:PrincipalTag/team": "red"}})]),
    Case("principal-tag-variable", ALLOWED, tags={"team": "alice"},
         identity=lambda w: [allow("sqs:*", "arn:aws:sqs:*:*:${aws:PrincipalTag/team}-q")]),
    Case("username-variable", ALLOWED, identity=lambda w: [allow("sqs:*", "arn:aws:sqs:*:*:${aws:username}-q")]),
    Case("principal-arn-like", ALLOWED,
         identity=lambda w: [allow("sqs:*", Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/ali*"}})]),
    Case("if-exists-absent-key", ALLOWED,
         identity=lambda w: [allow("sqs:*", Condition={"StringEqualsIfExists": {"aws:RequestTag/env": "prod"}})]),
    Case("request-tag", ALLOWED, target="sqs-tag",
         identity=lambda w: [allow("sqs:TagQueue", Condition={"StringEquals": {"aws:RequestTag/env": "prod"}})]),
    Case("tag-keys-for-all-values", IMPLICIT, target="sqs-tag",
         identity=lambda w: [allow("sqs:TagQueue", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}})]),
    Case("tag-keys-for-any-value", ALLOWED, target="sqs-tag",
         identity=lambda w: [allow("sqs:TagQueue", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}})]),
    Case("resource-tag-owner", ALLOWED, queue_tags={"owner": "alice"},
         identity=lambda w: [allow("sqs:*", Condition={"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}})]),
    Case("resource-tag-other-owner", IMPLICIT, queue_tags={"owner": "bob"},
         identity=lambda w: [allow("sqs:*", Condition={"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}})]),
    # -- permissions boundaries -----------------------------------------------------------------------------------
    Case("boundary-allows", ALLOWED, identity=lambda w: [allow("sqs:*")], boundary=lambda w: [allow("sqs:Send*")]),
    Case("boundary-excludes", IMPLICIT, identity=lambda w: [allow("sqs:*")],
         boundary=lambda w: [allow("sqs:ReceiveMessage")],
         reason="because no permissions boundary allows the sqs:sendmessage action"),
    Case("boundary-alone-grants-nothing", IMPLICIT, boundary=lambda w: [allow()]),
    Case("boundary-explicit-deny", EXPLICIT, identity=lambda w: [allow()],
         boundary=lambda w: [allow(), deny("sqs:SendMessage")], reason="with an explicit deny in a permissions boundary"),
    Case("role-boundary-excludes", IMPLICIT, who="role", identity=lambda w: [allow("sqs:*")],
         boundary=lambda w: [allow("iam:*")]),
    # -- role sessions and session policies --------------------------------------------------------------------
    Case("role-allows", ALLOWED, who="role", identity=lambda w: [allow("sqs:SendMessage", Q(w))]),
    Case("role-denies", IMPLICIT, who="role", identity=lambda w: [allow("sqs:ReceiveMessage", Q(w))]),
    Case("session-policy-allows", ALLOWED, who="role", identity=lambda w: [allow("sqs:*")],
         session=lambda w: [allow("sqs:SendMessage", Q(w))]),
    Case("session-policy-excludes", IMPLICIT, who="role", identity=lambda w: [allow("sqs:*")],
         session=lambda w: [allow("sqs:ReceiveMessage")],
         reason="because no session policy allows the sqs:sendmessage action"),
    Case("session-cannot-widen-role", IMPLICIT, who="role", identity=lambda w: [allow("sqs:ReceiveMessage")],
         session=lambda w: [allow("sqs:*")]),
    Case("session-explicit-deny", EXPLICIT, who="role", identity=lambda w: [allow()],
         session=lambda w: [allow(), deny("sqs:SendMessage")], reason="with an explicit deny in a session policy"),
    Case("federated-session-allows", ALLOWED, who="federated",
         identity=lambda w: [allow(["sqs:*", "sts:GetFederationToken"])],
         session=lambda w: [allow("sqs:SendMessage")]),
    Case("federated-without-session-policy", IMPLICIT, who="federated",
         identity=lambda w: [allow(["sqs:*", "sts:GetFederationToken"])]),
    # -- resource-based policies ----------------------------------------------------------------------------------
    Case("queue-policy-names-user", ALLOWED,
         queue_policy=lambda w: [allow("sqs:SendMessage", Q(w), Principal={"AWS": f"arn:aws:iam::{w.a}:user/alice"})]),
    Case("queue-policy-names-account", IMPLICIT,
         queue_policy=lambda w: [allow("sqs:SendMessage", Q(w), Principal={"AWS": w.a})]),
    Case("queue-policy-denies", EXPLICIT, identity=lambda w: [allow()],
         queue_policy=lambda w: [deny("sqs:SendMessage", Q(w), Principal={"AWS": "*"})],
         reason="with an explicit deny in a resource-based policy"),
    Case("cross-account-granted", ALLOWED, cross=True, identity=lambda w: [allow("sqs:SendMessage")],
         queue_policy=lambda w: [allow("sqs:SendMessage", Q(w), Principal={"AWS": f"arn:aws:iam::{w.b}:root"})]),
    Case("cross-account-no-resource-policy", IMPLICIT, cross=True, identity=lambda w: [allow("sqs:SendMessage")],
         reason="because no resource-based policy allows the sqs:sendmessage action"),
    Case("cross-account-no-identity-policy", IMPLICIT, cross=True,
         queue_policy=lambda w: [allow("sqs:SendMessage", Q(w), Principal={"AWS": w.b})]),
    Case("cross-account-other-principal", IMPLICIT, cross=True, identity=lambda w: [allow("sqs:*")],
         queue_policy=lambda w: [allow("sqs:SendMessage", Q(w), Principal={"AWS": f"arn:aws:iam::{w.b}:user/carol"})]),
    Case("cross-account-topic-granted", ALLOWED, cross=True, target="sns-publish-x",
         identity=lambda w: [allow("sns:Publish")]),
    Case("cross-account-topic-default-policy", IMPLICIT, cross=True, target="sns-publish-default",
         identity=lambda w: [allow("sns:Publish")]),
    Case("cross-account-function-granted", ALLOWED, cross=True, target="lambda-invoke-x",
         identity=lambda w: [allow("lambda:InvokeFunction")]),
    Case("cross-account-function-not-granted", IMPLICIT, cross=True, target="lambda-invoke-none",
         identity=lambda w: [allow("lambda:InvokeFunction")],
         reason="because no resource-based policy allows the lambda:InvokeFunction action"),
    # -- role trust policies (the resource policy of sts:AssumeRole) -----------------------------------------------
    Case("trust-account-with-identity", ALLOWED, target="assume", identity=lambda w: [allow("sts:AssumeRole")],
         trust=lambda w: {"AWS": w.a}),
    Case("trust-account-without-identity", IMPLICIT, target="assume", trust=lambda w: {"AWS": w.a}),
    Case("trust-names-user", ALLOWED, target="assume", trust=lambda w: {"AWS": f"arn:aws:iam::{w.a}:user/alice"}),
    Case("trust-names-someone-else", IMPLICIT, target="assume", identity=lambda w: [allow("sts:AssumeRole")],
         trust=lambda w: {"AWS": f"arn:aws:iam::{w.a}:user/zed"}),
    # -- passing a role to a service needs iam:PassRole on it ---------------------------------------------------
    Case("pass-role-not-allowed", IMPLICIT, target="lambda-create", identity=lambda w: [allow("lambda:CreateFunction")],
         reason="because no identity-based policy allows the iam:PassRole action"),
    Case("pass-role-to-lambda", ALLOWED, target="lambda-create", identity=lambda w: [
        allow("lambda:CreateFunction"),
        allow("iam:PassRole", f"arn:aws:iam::{w.a}:role/fn-exec",
              Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}})]),
    Case("pass-role-to-another-service", IMPLICIT, target="lambda-create", identity=lambda w: [
        allow("lambda:CreateFunction"),
        allow("iam:PassRole", Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}})]),
    # -- other services ------------------------------------------------------------------------------------------
    Case("iam-self-by-variable", ALLOWED, target="iam-get-self",
         identity=lambda w: [allow("iam:GetUser", "arn:aws:iam::*:user/${aws:username}")]),
    Case("ec2-describe-denied", IMPLICIT, target="ec2-describe", identity=lambda w: [allow("ec2:RunInstances")]),
    Case("ec2-describe-wildcard", ALLOWED, target="ec2-describe", identity=lambda w: [allow("ec2:Describe*")]),
]


# -- the runner -------------------------------------------------------------------------------------------------


class Row:
    def __init__(self, iam_server, case: Case):
        self.iam_server, self.case = iam_server, case
        self.w = World(iam_server, region=case.region)
        self.caller_account = self.w.b if case.cross else self.w.a
        self.root_a = lambda svc, region=None: client(iam_server, svc, self.w.a, region=region or case.region)
        self.root_c = lambda svc: client(iam_server, svc, self.caller_account)
        self.resource_policy: str | None = None

    # -- resources in account A ---------------------------------------------------------------------------------
    def setup_resources(self):
        c, w = self.case, self.w
        if c.target in ("sqs-send", "sqs-tag"):
            sqs = self.root_a("sqs")
            sqs.create_queue(QueueName=w.queue_name, tags=c.queue_tags)
            if c.queue_policy:
                self.resource_policy = doc(*c.queue_policy(w))
                sqs.set_queue_attributes(QueueUrl=w.queue_url, Attributes={"Policy": self.resource_policy})
        elif c.target.startswith("sns-"):
            sns = self.root_a("sns")
            sns.create_topic(Name="topic")
            if c.target == "sns-publish-x":
                self.resource_policy = doc(allow("sns:Publish", w.topic_arn, Principal={"AWS": w.b}))
                sns.set_topic_attributes(TopicArn=w.topic_arn, AttributeName="Policy",
                                         AttributeValue=self.resource_policy)
            else:
                self.resource_policy = sns.get_topic_attributes(TopicArn=w.topic_arn)["Attributes"]["Policy"]
        elif c.target == "lambda-create":
            from tests.lambda_.conftest import TRUST

            self.root_a("iam").create_role(RoleName="fn-exec", AssumeRolePolicyDocument=TRUST)
        elif c.target.startswith("lambda-"):
            from tests.lambda_.conftest import TRUST, wait_active, zip_of

            role = self.root_a("iam").create_role(RoleName="fn-exec", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
            lam = self.root_a("lambda")
            lam.create_function(FunctionName="fn", Runtime="python3.12", Role=role,
                                Handler="lambda_function.handler",
                                Code={"ZipFile": zip_of({"lambda_function.py":
                                                         "def handler(event, context):\n    return 'hi'\n"})})
            wait_active(lam, "fn")
            if c.target == "lambda-invoke-x":
                lam.add_permission(FunctionName="fn", StatementId="b", Action="lambda:InvokeFunction",
                                   Principal=w.b)
                self.resource_policy = lam.get_policy(FunctionName="fn")["Policy"]
        elif c.target == "assume":
            trust = doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": c.trust(w)})
            self.resource_policy = trust
            self.root_a("iam").create_role(RoleName="target", AssumeRolePolicyDocument=trust)

    def cleanup(self):
        lam = self.root_a("lambda")
        for fn in lam.list_functions()["Functions"] if self.case.target.startswith("lambda-") else []:
            lam.delete_function(FunctionName=fn["FunctionName"])

    # -- the principal ------------------------------------------------------------------------------------------
    def setup_principal(self):
        c, w = self.case, self.w
        iam = self.root_c("iam")
        boundary_arn = None
        if c.boundary:
            boundary_arn = iam.create_policy(PolicyName="boundary",
                                             PolicyDocument=doc(*c.boundary(w)))["Policy"]["Arn"]
        managed_arn = None
        if isinstance(c.managed, str):
            managed_arn = f"arn:aws:iam::aws:policy/{c.managed}"
        elif c.managed:
            managed_arn = iam.create_policy(PolicyName="managed", PolicyDocument=doc(*c.managed(w)))["Policy"]["Arn"]
        tags = [{"Key": k, "Value": v} for k, v in c.tags.items()]
        if c.who == "role":
            trust = doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": self.caller_account}})
            iam.create_role(RoleName="worker", AssumeRolePolicyDocument=trust, Tags=tags,
                            **({"PermissionsBoundary": boundary_arn} if boundary_arn else {}))
            self.entity_arn = f"arn:aws:iam::{self.caller_account}:role/worker"
            if c.identity:
                iam.put_role_policy(RoleName="worker", PolicyName="inline", PolicyDocument=doc(*c.identity(w)))
            if managed_arn:
                iam.attach_role_policy(RoleName="worker", PolicyArn=managed_arn)
            kw = {"Policy": doc(*c.session(w))} if c.session else {}
            creds = self.root_c("sts").assume_role(RoleArn=self.entity_arn, RoleSessionName="s1", **kw)["Credentials"]
            self.creds = (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
            return
        iam.create_user(UserName=w.name, Tags=tags)
        self.entity_arn = f"arn:aws:iam::{self.caller_account}:user/{w.name}"
        if boundary_arn:
            iam.put_user_permissions_boundary(UserName=w.name, PermissionsBoundary=boundary_arn)
        if c.identity:
            iam.put_user_policy(UserName=w.name, PolicyName="inline", PolicyDocument=doc(*c.identity(w)))
        if managed_arn:
            iam.attach_user_policy(UserName=w.name, PolicyArn=managed_arn)
        key = iam.create_access_key(UserName=w.name)["AccessKey"]
        self.creds = (key["AccessKeyId"], key["SecretAccessKey"], None)
        if c.who == "federated":
            sts = client(self.iam_server, "sts", key["AccessKeyId"], key["SecretAccessKey"])
            kw = {"Policy": doc(*c.session(w))} if c.session else {}
            creds = sts.get_federation_token(Name="fed", **kw)["Credentials"]
            self.creds = (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])

    # -- the call ------------------------------------------------------------------------------------------------
    def call(self) -> tuple[str, str, ClientError | None]:
        """(action, resource, error or None) of the row's real request."""
        c, w = self.case, self.w
        key, secret, token = self.creds

        def me(svc):
            return client(self.iam_server, svc, key, secret, token, region=c.region)

        calls = {
            "sqs-send": ("sqs:SendMessage", w.queue_arn,
                         lambda: me("sqs").send_message(QueueUrl=w.queue_url, MessageBody="hi")),
            "sqs-list": ("sqs:ListQueues", "*", lambda: me("sqs").list_queues()),
            "sqs-tag": ("sqs:TagQueue", w.queue_arn,
                        lambda: me("sqs").tag_queue(QueueUrl=w.queue_url, Tags={"env": "prod", "owner": "me"})),
            "sns-publish-x": ("sns:Publish", w.topic_arn, lambda: me("sns").publish(TopicArn=w.topic_arn, Message="m")),
            "sns-publish-default": ("sns:Publish", w.topic_arn,
                                    lambda: me("sns").publish(TopicArn=w.topic_arn, Message="m")),
            "lambda-invoke-x": ("lambda:InvokeFunction", w.function_arn,
                                lambda: me("lambda").invoke(FunctionName=w.function_arn)),
            "lambda-invoke-none": ("lambda:InvokeFunction", w.function_arn,
                                   lambda: me("lambda").invoke(FunctionName=w.function_arn)),
            "assume": ("sts:AssumeRole", f"arn:aws:iam::{w.a}:role/target",
                       lambda: me("sts").assume_role(RoleArn=f"arn:aws:iam::{w.a}:role/target", RoleSessionName="xx")),
            "lambda-create": ("iam:PassRole", f"arn:aws:iam::{w.a}:role/fn-exec", lambda: me("lambda").create_function(
                FunctionName="made", Runtime="python3.12", Role=f"arn:aws:iam::{w.a}:role/fn-exec",
                Handler="lambda_function.handler", Code={"ZipFile": _zip()})),
            "iam-get-self": ("iam:GetUser", self.entity_arn, lambda: me("iam").get_user()),
            "ec2-describe": ("ec2:DescribeInstances", "*", lambda: me("ec2").describe_instances()),
        }
        action, resource, fn = calls[c.target]
        try:
            fn()
        except ClientError as exc:
            return action, resource, exc
        return action, resource, None

    def context_entries(self) -> list[dict]:
        c, w = self.case, self.w
        entries = [
            {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["127.0.0.1"], "ContextKeyType": "ip"},
            {"ContextKeyName": "aws:CurrentTime", "ContextKeyValues": [w.now()], "ContextKeyType": "date"},
            {"ContextKeyName": "aws:EpochTime", "ContextKeyValues": [str(int(self.iam_server.kumo.clock.now()))],
             "ContextKeyType": "numeric"},
            {"ContextKeyName": "aws:RequestedRegion", "ContextKeyValues": [c.region], "ContextKeyType": "string"},
            {"ContextKeyName": "aws:SecureTransport", "ContextKeyValues": ["false"], "ContextKeyType": "boolean"},
        ]
        entries += [{"ContextKeyName": f"aws:PrincipalTag/{k}", "ContextKeyValues": [v], "ContextKeyType": "string"}
                    for k, v in c.tags.items()]
        entries += [{"ContextKeyName": f"aws:ResourceTag/{k}", "ContextKeyValues": [v], "ContextKeyType": "string"}
                    for k, v in c.queue_tags.items()]
        if c.target == "lambda-create":
            entries.append({"ContextKeyName": "iam:PassedToService", "ContextKeyValues": ["lambda.amazonaws.com"],
                            "ContextKeyType": "string"})
        if c.target == "sqs-tag":
            entries += [{"ContextKeyName": "aws:RequestTag/env", "ContextKeyValues": ["prod"],
                         "ContextKeyType": "string"},
                        {"ContextKeyName": "aws:RequestTag/owner", "ContextKeyValues": ["me"],
                         "ContextKeyType": "string"},
                        {"ContextKeyName": "aws:TagKeys", "ContextKeyValues": ["env", "owner"],
                         "ContextKeyType": "stringList"}]
        return entries

    def simulate(self, action: str, resource: str) -> dict:
        c = self.case
        kw: dict = {"PolicySourceArn": self.entity_arn, "ActionNames": [action],
                    "ContextEntries": self.context_entries()}
        if resource != "*":
            kw["ResourceArns"] = [resource]
        if self.resource_policy:
            kw["ResourcePolicy"] = self.resource_policy
        if c.who in ("role", "federated") and not c.boundary:
            # The session policy limits like a boundary does (see the module's docstring).
            session = doc(*c.session(self.w)) if c.session else doc()
            if c.session or c.who == "federated":
                kw["PermissionsBoundaryPolicyInputList"] = [session]
        return self.root_c("iam").simulate_principal_policy(**kw)["EvaluationResults"][0]


def _zip() -> bytes:
    from tests.lambda_.conftest import zip_of

    return zip_of({"lambda_function.py": "def handler(event, context):\n    return 1\n"})


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_policy_case(iam_server, case):
    row = Row(iam_server, case)
    row.setup_resources()
    try:
        row.setup_principal()
        if case.advance:
            iam_server.advance(case.advance)
        action, resource, error = row.call()
        sim = row.simulate(action, resource)
    finally:
        row.cleanup()
    if case.expected == ALLOWED:
        assert error is None, f"{case.id}: expected success, got {error}"
    else:
        assert error is not None, f"{case.id}: expected AccessDenied, the call succeeded"
        code = error.response["Error"]["Code"]
        text = error.response["Error"]["Message"]
        assert code in DENIED_CODES, f"{case.id}: {code}: {text}"
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        expected_words = "with an explicit deny" if case.expected == EXPLICIT else "because no "
        if case.target != "assume":
            assert expected_words in text, text
        if case.reason:
            assert case.reason in text, text
    assert sim["EvalDecision"] == case.expected, f"{case.id}: simulator said {sim}"
    assert sim["EvalActionName"] == action and sim["EvalResourceName"] == resource


def test_the_table_has_forty_cases_or_more():
    assert len(CASES) >= 40
    assert {c.expected for c in CASES} == {ALLOWED, EXPLICIT, IMPLICIT}
