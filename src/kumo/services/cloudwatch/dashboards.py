"""Dashboards (stored, per account as on AWS: their ARNs carry no region) and resource tags."""

from __future__ import annotations

import json
import re

from ...aws.errors import AwsError
from ...core import pagination
from ...core import tags as tagging
from ...core.arns import parse_arn

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
KIND = "cloudwatch.dashboard"


def _table(ctx):
    return ctx.store.table(ctx.account, KIND)


def _invalid_input(message: str, messages: list | None = None) -> AwsError:
    return AwsError("InvalidParameterInput", message, fields={"dashboardValidationMessages": messages or []})


def put_dashboard(ctx, p):
    name = p["DashboardName"]
    if not _NAME.match(name):
        raise _invalid_input("The value for field DashboardName contains invalid characters. It can only contain "
                             "alphanumerics, dash (-) and underscore (_).")
    try:
        body = json.loads(p["DashboardBody"])
    except ValueError:
        raise _invalid_input("The field DashboardBody must be a valid JSON object",
                             [{"DataPath": "/", "Message": "Should be an object"}])
    if not isinstance(body, dict):
        raise _invalid_input("The field DashboardBody must be a valid JSON object",
                             [{"DataPath": "/", "Message": "Should be an object"}])
    if "widgets" in body and not isinstance(body["widgets"], list):
        raise _invalid_input("The dashboard body is invalid, there are 1 validation errors",
                             [{"DataPath": "/widgets", "Message": "Should be array"}])
    table = _table(ctx)
    old = table.get(name)
    record = {"DashboardName": name, "DashboardArn": f"arn:aws:cloudwatch::{ctx.account}:dashboard/{name}",
              "DashboardBody": p["DashboardBody"], "LastModified": ctx.now(),
              "Size": len(p["DashboardBody"].encode()),
              "_tags": old["_tags"] if old else tagging.to_dict(p.get("Tags"))}
    table.put(name, record)
    return {"DashboardValidationMessages": []}


def get_dashboard(ctx, p):
    record = _table(ctx).get(p["DashboardName"])
    if record is None:
        raise AwsError("ResourceNotFound", "Dashboard " + p["DashboardName"] + " does not exist")
    return {k: record[k] for k in ("DashboardArn", "DashboardBody", "DashboardName")}


def list_dashboards(ctx, p):
    prefix = p.get("DashboardNamePrefix") or ""
    items = sorted((d for d in _table(ctx).values() if d["DashboardName"].startswith(prefix)),
                   key=lambda d: d["DashboardName"])
    try:
        page, token = pagination.paginate(items, 1000, p.get("NextToken"), key=lambda d: d["DashboardName"],
                                          context=prefix)
    except pagination.InvalidToken:
        raise AwsError("InvalidNextToken", "The service cannot complete the request because the NextToken is invalid.")
    out = {"DashboardEntries": [{k: d[k] for k in ("DashboardName", "DashboardArn", "LastModified", "Size")}
                                for d in page]}
    if token:
        out["NextToken"] = token
    return out


def delete_dashboards(ctx, p):
    table = _table(ctx)
    missing = [n for n in p["DashboardNames"] if n not in table]
    if missing:
        raise AwsError("ResourceNotFound", "The specified dashboard does not exist. " + ", ".join(missing))
    for name in p["DashboardNames"]:
        table.delete(name)
    return {}


# -- tags of alarms and dashboards --------------------------------------------------------------


def _resource(ctx, arn: str):
    parsed = parse_arn(arn)
    if parsed is None or parsed.service != "cloudwatch" or parsed.account != ctx.account:
        raise AwsError("InvalidParameterValue", f"The value {arn} for parameter ResourceARN is invalid.")
    if parsed.resource.startswith("alarm:"):
        table = ctx.store.table(f"{ctx.account}/{parsed.region}", "cloudwatch.alarm")
        key = parsed.resource[len("alarm:"):]
    elif parsed.resource.startswith("metric-stream/"):
        table = ctx.store.table(f"{ctx.account}/{parsed.region}", "cloudwatch.metricstream")
        key = parsed.resource[len("metric-stream/"):]
    elif parsed.resource.startswith("dashboard/"):
        table = _table(ctx)
        key = parsed.resource[len("dashboard/"):]
    else:
        raise AwsError("InvalidParameterValue", f"The value {arn} for parameter ResourceARN is invalid.")
    record = table.get(key)
    if record is None:
        raise AwsError("ResourceNotFoundException", f"The resource {arn} does not exist.")
    return table, key, record


def tag_resource(ctx, p):
    table, key, record = _resource(ctx, p["ResourceARN"])
    new = tagging.to_dict(p["Tags"])
    try:
        tagging.validate(new, record.get("_tags", {}))
    except tagging.TagError as exc:
        raise AwsError("InvalidParameterValue", str(exc))
    record["_tags"] = {**record.get("_tags", {}), **new}
    table.put(key, record)
    return {}


def untag_resource(ctx, p):
    table, key, record = _resource(ctx, p["ResourceARN"])
    record["_tags"] = {k: v for k, v in record.get("_tags", {}).items() if k not in set(p["TagKeys"])}
    table.put(key, record)
    return {}


def list_tags_for_resource(ctx, p):
    _table_, _key, record = _resource(ctx, p["ResourceARN"])
    return {"Tags": tagging.to_list(record.get("_tags", {}))}
