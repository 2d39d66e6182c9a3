"""What roles, users and instance profiles share: lookup, tags, and inline and attached policies.

Each entity kind is one ``Entities`` object; its bound methods are IAM
handlers (``tag_role = ROLES.tag``), so the logic lives once.
"""

from __future__ import annotations

from ...aws.errors import AwsError
from .model import (
    AWS_MANAGED_PREFIX, GROUP, POLICY, PROFILE, ROLE, USER, check_inline_size, check_name, check_policy_document,
    encode_document, invalid,
    no_such, page, policy_name_from_arn, table, tags_in, untag,
)

MAX_ATTACHED = 10


class Entities:
    def __init__(self, kind: str, name_member: str, label: str, quota: str = ""):
        self.kind = kind
        self.name_member = name_member
        self.label = label
        self.quota = quota

    def table(self, ctx):
        return table(ctx.store, ctx.account, self.kind)

    def find(self, ctx, name: str) -> dict:
        record = self.table(ctx).get(name)
        if record is None:
            raise no_such(self.label, name)
        return record

    def save(self, ctx, record: dict) -> None:
        self.table(ctx).put(record[self.name_member], record)

    def _of(self, ctx, p: dict) -> dict:
        return self.find(ctx, p[self.name_member])

    def _modifiable(self, record: dict) -> None:
        if self.kind == ROLE:
            from .service_roles import refuse_if_service_linked

            refuse_if_service_linked(record)

    # -- tags ------------------------------------------------------------------------
    def tag(self, ctx, p):
        record = self._of(ctx, p)
        record["Tags"] = tags_in(p, record.get("Tags"))
        self.save(ctx, record)
        return {}

    def untag(self, ctx, p):
        record = self._of(ctx, p)
        record["Tags"] = untag(record.get("Tags"), p["TagKeys"])
        self.save(ctx, record)
        return {}

    def list_tags(self, ctx, p):
        record = self._of(ctx, p)
        return page(list(record.get("Tags") or []), p, lambda t: t["Key"], "Tags", record["Arn"])

    # -- inline policies -----------------------------------------------------------------
    def put_inline(self, ctx, p):
        record = self._of(ctx, p)
        self._modifiable(record)
        check_name(p["PolicyName"], "policyName")
        record["_inline"][p["PolicyName"]] = check_policy_document(p["PolicyDocument"], "inline")
        check_inline_size(record["_inline"], self.label, record[self.name_member])
        self.save(ctx, record)
        return {}

    def get_inline(self, ctx, p):
        record = self._of(ctx, p)
        doc = record["_inline"].get(p["PolicyName"])
        if doc is None:
            raise no_such(f"{self.label} policy", p["PolicyName"])
        return {self.name_member: record[self.name_member], "PolicyName": p["PolicyName"],
                "PolicyDocument": encode_document(doc)}

    def delete_inline(self, ctx, p):
        record = self._of(ctx, p)
        if p["PolicyName"] not in record["_inline"]:
            raise no_such(f"{self.label} policy", p["PolicyName"])
        del record["_inline"][p["PolicyName"]]
        self.save(ctx, record)
        return {}

    def list_inline(self, ctx, p):
        record = self._of(ctx, p)
        return page(sorted(record["_inline"]), p, lambda n: n, "PolicyNames", record["Arn"])

    # -- permissions boundary ----------------------------------------------------------------
    def put_boundary(self, ctx, p):
        record = self._of(ctx, p)
        customer_policy(ctx, p["PermissionsBoundary"])  # must exist (AWS managed ones are taken as named)
        record["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                         "PermissionsBoundaryArn": p["PermissionsBoundary"]}
        self.save(ctx, record)
        return {}

    def delete_boundary(self, ctx, p):
        record = self._of(ctx, p)
        record.pop("PermissionsBoundary", None)
        self.save(ctx, record)
        return {}

    # -- attached managed policies --------------------------------------------------------
    def attach(self, ctx, p):
        record = self._of(ctx, p)
        self._modifiable(record)
        policy_arn = p["PolicyArn"]
        policy = customer_policy(ctx, policy_arn)
        if policy_arn in record["_attached"]:
            return {}
        if len(record["_attached"]) >= MAX_ATTACHED:
            raise AwsError("LimitExceeded", f"Cannot exceed quota for {self.quota}: {MAX_ATTACHED}")
        record["_attached"].append(policy_arn)
        self.save(ctx, record)
        if policy is not None:
            _count_attachment(ctx, policy, +1)
        return {}

    def detach(self, ctx, p):
        record = self._of(ctx, p)
        policy_arn = p["PolicyArn"]
        if policy_arn not in record["_attached"]:
            raise AwsError("NoSuchEntity", f"Policy {policy_arn} was not found.")
        record["_attached"].remove(policy_arn)
        self.save(ctx, record)
        if not policy_arn.startswith(AWS_MANAGED_PREFIX + "/"):
            policy = table(ctx.store, policy_arn.split(":")[4], POLICY).get(policy_arn)
            if policy is not None:
                _count_attachment(ctx, policy, -1)
        return {}

    def list_attached(self, ctx, p):
        record = self._of(ctx, p)
        items = [{"PolicyName": policy_name_from_arn(a), "PolicyArn": a} for a in record["_attached"]]
        prefix = p.get("PathPrefix")
        if prefix:
            items = [i for i in items if _policy_path(i["PolicyArn"]).startswith(prefix)]
        return page(items, p, lambda i: i["PolicyArn"], "AttachedPolicies", record["Arn"])


def _policy_path(policy_arn: str) -> str:
    resource = policy_arn.split(":", 5)[-1]  # policy/<path><name>
    return "/" + resource.split("/", 1)[1].rsplit("/", 1)[0] + "/" if resource.count("/") > 1 else "/"


def _count_attachment(ctx, policy: dict, delta: int) -> None:
    policy["AttachmentCount"] = max(0, policy.get("AttachmentCount", 0) + delta)
    table(ctx.store, policy["Arn"].split(":")[4], POLICY).put(policy["Arn"], policy)


def customer_policy(ctx, policy_arn: str) -> dict | None:
    """The customer managed policy behind an ARN, or None for an AWS managed one.

    AWS managed ARNs outside kumo's catalogue are still taken (they grant nothing when evaluated), so
    templates attaching policies kumo does not carry keep working (docs/iam.md)."""
    if policy_arn.startswith(AWS_MANAGED_PREFIX + "/"):
        return None
    parts = policy_arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("policy/"):
        raise invalid(f"ARN {policy_arn} is not valid.")
    policy = table(ctx.store, parts[4], POLICY).get(policy_arn)
    if policy is None:
        raise AwsError("NoSuchEntity", f"Policy {policy_arn} does not exist or is not attachable.")
    return policy


ROLES = Entities(ROLE, "RoleName", "role", "PoliciesPerRole")
USERS = Entities(USER, "UserName", "user", "PoliciesPerUser")
PROFILES = Entities(PROFILE, "InstanceProfileName", "instance profile")
GROUPS = Entities(GROUP, "GroupName", "group", "PoliciesPerGroup")
