"""Account-wide IAM: the account alias, the credential report, the account summary and authorization details."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

from ...aws.errors import AwsError
from .logins import ACCOUNT
from .model import ACCESS_KEY, GROUP, POLICY, PROFILE, ROLE, USER, encode_document, table

REPORT_LIFETIME = 4 * 3600  # a report older than this is expired and a new one is generated
COLUMNS = ["user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
           "password_next_rotation", "mfa_active", "access_key_1_active", "access_key_1_last_rotated",
           "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
           "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
           "access_key_2_last_used_region", "access_key_2_last_used_service", "cert_1_active", "cert_1_last_rotated",
           "cert_2_active", "cert_2_last_rotated"]


# -- alias -------------------------------------------------------------------------------------------------------


def create_account_alias(ctx, p):
    alias = p["AccountAlias"]
    for scope, key, value in ctx.store.all(ACCOUNT):
        if key == "alias" and value == alias and scope != ctx.account:
            raise AwsError("EntityAlreadyExists", f"The account alias {alias} already exists.")
    table(ctx.store, ctx.account, ACCOUNT).put("alias", alias)  # one per account: a new alias replaces the old
    return {}


def delete_account_alias(ctx, p):
    accounts = table(ctx.store, ctx.account, ACCOUNT)
    if accounts.get("alias") != p["AccountAlias"]:
        raise AwsError("NoSuchEntity", f"The account alias {p['AccountAlias']} cannot be found.")
    accounts.delete("alias")
    return {}


def list_account_aliases(ctx, p):
    alias = table(ctx.store, ctx.account, ACCOUNT).get("alias")
    return {"AccountAliases": [alias] if alias else [], "IsTruncated": False}


# -- credential report -------------------------------------------------------------------------------------------


def _iso(epoch) -> str:
    if epoch is None:
        return "N/A"
    return datetime.fromtimestamp(float(epoch), timezone.utc).isoformat(timespec="seconds")


def _report(ctx) -> bytes:
    from .certificates import SIGNING
    from .logins import password_policy

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerow(["<root_account>", f"arn:aws:iam::{ctx.account}:root", _iso(ctx.kumo.started_at), "not_supported",
                     "no_information", "not_supported", "not_supported", "false", "false", "N/A", "N/A", "N/A", "N/A",
                     "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "false", "N/A"])
    max_age = (password_policy(ctx.store, ctx.account) or {}).get("MaxPasswordAge")
    keys = table(ctx.store, ctx.account, ACCESS_KEY).values()
    certs = table(ctx.store, ctx.account, SIGNING).values()
    for user in sorted(table(ctx.store, ctx.account, USER).values(), key=lambda u: u["UserName"]):
        login = user.get("_login")
        row = [user["UserName"], user["Arn"], _iso(user["CreateDate"]), "true" if login else "false",
               "no_information" if login else "N/A",
               _iso(login.get("PasswordLastChanged")) if login else "N/A",
               _iso(login["PasswordLastChanged"] + max_age * 86400) if login and max_age else "N/A",
               "true" if user.get("_mfa") else "false"]
        mine = sorted((k for k in keys if k["UserName"] == user["UserName"]), key=lambda k: k["CreateDate"])[:2]
        for i in range(2):
            k = mine[i] if i < len(mine) else None
            row += ["true" if k and k["Status"] == "Active" else "false", _iso(k["CreateDate"]) if k else "N/A",
                    "N/A", "N/A", "N/A"]
        cs = sorted((c for c in certs if c["UserName"] == user["UserName"]), key=lambda c: c["UploadDate"])[:2]
        for i in range(2):
            c = cs[i] if i < len(cs) else None
            row += ["true" if c and c["Status"] == "Active" else "false", _iso(c["UploadDate"]) if c else "N/A"]
        writer.writerow(row)
    return out.getvalue().encode()


def generate_credential_report(ctx, p):
    accounts = table(ctx.store, ctx.account, ACCOUNT)
    report = accounts.get("credential-report")
    if report is not None and ctx.now() - report["GeneratedTime"] < REPORT_LIFETIME:
        return {"State": "COMPLETE"}
    # The report is built now, inside this request; IAM says STARTED for a new report, COMPLETE afterwards.
    accounts.put("credential-report", {"GeneratedTime": ctx.now(), "Content": _report(ctx).decode()})
    return {"State": "STARTED", "Description": "No report exists. Starting a new report generation task"}


def get_credential_report(ctx, p):
    report = table(ctx.store, ctx.account, ACCOUNT).get("credential-report")
    if report is None:
        raise AwsError("ReportNotPresent", "Credential report does not exist. Use GenerateCredentialReport to "
                                           "generate a credential report.", status=410)
    if ctx.now() - report["GeneratedTime"] >= REPORT_LIFETIME:
        raise AwsError("ReportExpired", "The request was rejected because the most recent credential report has "
                                        "expired. To generate a new credential report, use GenerateCredentialReport.",
                       status=410)
    return {"Content": report["Content"].encode(), "ReportFormat": "text/csv", "GeneratedTime": report["GeneratedTime"]}


# -- summary and authorization details --------------------------------------------------------------------------------


QUOTAS = {"UsersQuota": 5000, "GroupsQuota": 300, "RolesQuota": 1000, "PoliciesQuota": 1500,
          "InstanceProfilesQuota": 1000, "ServerCertificatesQuota": 20, "GroupsPerUserQuota": 10,
          "AttachedPoliciesPerUserQuota": 10, "AttachedPoliciesPerRoleQuota": 10,
          "AttachedPoliciesPerGroupQuota": 10, "PolicySizeQuota": 6144, "PolicyVersionsInUseQuota": 10000,
          "VersionsPerPolicyQuota": 5, "AccessKeysPerUserQuota": 2, "SigningCertificatesPerUserQuota": 2,
          "UserPolicySizeQuota": 2048, "GroupPolicySizeQuota": 5120, "AssumeRolePolicySizeQuota": 2048,
          "GlobalEndpointTokenVersion": 1}


def get_account_summary(ctx, p):
    from .certificates import SERVER
    from .mfa import MFA
    from .providers import OIDC, SAML

    def count(kind):
        return len(table(ctx.store, ctx.account, kind))

    policies = table(ctx.store, ctx.account, POLICY).values()
    attached = {a for kind in (ROLE, USER, GROUP) for e in table(ctx.store, ctx.account, kind).values()
                for a in e["_attached"]}
    summary = dict(QUOTAS)
    summary.update({
        "Users": count(USER), "Groups": count(GROUP), "Roles": count(ROLE), "Policies": len(policies),
        "InstanceProfiles": count(PROFILE), "ServerCertificates": count(SERVER), "MFADevices": count(MFA),
        "MFADevicesInUse": sum(1 for d in table(ctx.store, ctx.account, MFA).values() if d.get("_user")),
        "AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0, "AccountSigningCertificatesPresent": 0,
        "Providers": count(OIDC) + count(SAML),
        "GlobalEndpointTokenVersion": table(ctx.store, ctx.account, ACCOUNT).get("sts-token-version", 1),
        "PolicyVersionsInUse": sum(1 for pol in policies if pol["Arn"] in attached) + len(
            [a for a in attached if a.startswith("arn:aws:iam::aws:")]),
    })
    return {"SummaryMap": summary}


def _plain(record: dict, drop=()) -> dict:
    return {k: v for k, v in record.items() if not k.startswith("_") and k not in drop}


def _attached(record) -> list[dict]:
    return [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in record["_attached"]]


def _inline(record, member: str) -> list[dict]:
    return [{"PolicyName": n, "PolicyDocument": encode_document(d)} for n, d in sorted(record["_inline"].items())]


def get_account_authorization_details(ctx, p):
    from .profiles import view as profile_view
    from .roles import view as role_view

    wanted = set(p.get("Filter") or ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"])
    out: dict = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": [],
                 "IsTruncated": False}
    if "User" in wanted:
        for u in sorted(table(ctx.store, ctx.account, USER).values(), key=lambda u: u["UserName"]):
            out["UserDetailList"].append({**_plain(u), "UserPolicyList": _inline(u, "UserPolicyList"),
                                          "GroupList": list(u.get("_groups", [])),
                                          "AttachedManagedPolicies": _attached(u)})
    if "Group" in wanted:
        for g in sorted(table(ctx.store, ctx.account, GROUP).values(), key=lambda g: g["GroupName"]):
            out["GroupDetailList"].append({**_plain(g), "GroupPolicyList": _inline(g, "GroupPolicyList"),
                                           "AttachedManagedPolicies": _attached(g)})
    if "Role" in wanted:
        for r in sorted(table(ctx.store, ctx.account, ROLE).values(), key=lambda r: r["RoleName"]):
            profiles = [profile_view(ctx, i, listing=True) for i in table(ctx.store, ctx.account, PROFILE).values()
                        if r["RoleName"] in i["_roles"]]
            out["RoleDetailList"].append({**role_view(r), "RolePolicyList": _inline(r, "RolePolicyList"),
                                          "AttachedManagedPolicies": _attached(r),
                                          "InstanceProfileList": profiles})
    if "AWSManagedPolicy" in wanted:  # those attached in the account, as IAM lists them
        from .aws_managed import catalogue

        attached = {a for kind in (ROLE, USER, GROUP) for e in table(ctx.store, ctx.account, kind).values()
                    for a in e["_attached"]}
        for arn, pol in sorted(catalogue().items()):
            if arn in attached:
                version = {"VersionId": pol["DefaultVersionId"], "Document": encode_document(pol["_document"]),
                           "IsDefaultVersion": True, "CreateDate": pol["CreateDate"]}
                out["Policies"].append({**_plain(pol), "PolicyVersionList": [version]})
    if "LocalManagedPolicy" in wanted:
        for pol in sorted(table(ctx.store, ctx.account, POLICY).values(), key=lambda x: x["PolicyName"]):
            versions = [{**v, "Document": encode_document(v["Document"])} for v in pol["_versions"]]
            out["Policies"].append({**_plain(pol, ("Tags",)), "PolicyVersionList": versions})
    return out
