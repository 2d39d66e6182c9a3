"""Metric streams: Put/Get/List/Delete/Start/StopMetricStreams, checked as AWS checks them.

A stream delivers to a Kinesis Data Firehose delivery stream; kumo has no Firehose, so streams are kept
(with their state, running or stopped, and their filters) and deliver nothing until a destination exists.
docs/cloudwatch.md says so.
"""

from __future__ import annotations

import re

from ...aws.errors import AwsError
from ...core import pagination
from ...core import tags as tagging
from .metric_api import combination, invalid

KIND = "metricstream"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_FIREHOSE = re.compile(r"^arn:aws[a-z-]*:firehose:[a-z0-9-]+:\d{12}:deliverystream/[A-Za-z0-9_.-]{1,64}$")
_ROLE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
MAX_FILTERS = 1000
STATS_FORMATS = ("json", "opentelemetry0.7", "opentelemetry1.0")
FIELDS = ("Arn", "Name", "IncludeFilters", "ExcludeFilters", "FirehoseArn", "RoleArn", "State", "CreationDate",
          "LastUpdateDate", "OutputFormat", "StatisticsConfigurations", "IncludeLinkedAccountsMetrics")


def _check_filters(filters: list, where: str) -> None:
    if len(filters) > MAX_FILTERS:
        raise invalid(f"The collection {where} must not have a size greater than {MAX_FILTERS}.")
    for f in filters:
        if f.get("MetricNames") and not f.get("Namespace"):
            raise invalid(f"{where}: MetricNames can only be given with a Namespace.")


def put_metric_stream(ctx, p):
    name = p["Name"]
    if not _NAME.match(name):
        raise invalid(f"The value {name} for parameter Name is invalid: it can contain only letters, numbers, "
                      "dash (-) and underscore (_).")
    include, exclude = p.get("IncludeFilters") or [], p.get("ExcludeFilters") or []
    if include and exclude:
        raise combination("The parameters IncludeFilters and ExcludeFilters are mutually exclusive.")
    _check_filters(include, "IncludeFilters")
    _check_filters(exclude, "ExcludeFilters")
    if not _FIREHOSE.match(p["FirehoseArn"]):
        raise invalid(f"The value {p['FirehoseArn']} for parameter FirehoseArn is invalid.")
    if not _ROLE.match(p["RoleArn"]):
        raise invalid(f"The value {p['RoleArn']} for parameter RoleArn is invalid.")
    for config in p.get("StatisticsConfigurations") or []:
        if p["OutputFormat"] == "json" and any(s not in ("SampleCount", "Sum", "Minimum", "Maximum", "Average")
                                               and not s.startswith("p") for s in config["AdditionalStatistics"]):
            raise invalid("The json output format supports only percentile additional statistics.")
    tags = tagging.to_dict(p.get("Tags"))
    try:
        tagging.validate(tags)
    except tagging.TagError as exc:
        raise invalid(str(exc))
    table = ctx.table(KIND)
    old = table.get(name)
    now = ctx.now()
    record = {"Arn": ctx.arn(f"metric-stream/{name}", service="cloudwatch"), "Name": name, "IncludeFilters": include,
              "ExcludeFilters": exclude, "FirehoseArn": p["FirehoseArn"], "RoleArn": p["RoleArn"],
              "State": old["State"] if old else "running", "CreationDate": old["CreationDate"] if old else now,
              "LastUpdateDate": now, "OutputFormat": p["OutputFormat"],
              "StatisticsConfigurations": p.get("StatisticsConfigurations") or [],
              "IncludeLinkedAccountsMetrics": bool(p.get("IncludeLinkedAccountsMetrics")),
              "_tags": old["_tags"] if old else tags}
    table.put(name, record)
    return {"Arn": record["Arn"]}


def get_metric_stream(ctx, p):
    record = ctx.table(KIND).get(p["Name"])
    if record is None:
        raise AwsError("ResourceNotFoundException", f"The metric stream {p['Name']} does not exist.", status=404)
    return {k: record[k] for k in FIELDS}


def list_metric_streams(ctx, p):
    items = sorted(ctx.table(KIND).values(), key=lambda r: r["Name"])
    try:
        page, token = pagination.paginate(items, p.get("MaxResults") or 100, p.get("NextToken"),
                                          key=lambda r: r["Name"], context="metric-streams")
    except pagination.InvalidToken:
        raise AwsError("InvalidNextToken", "The service cannot complete the request because the NextToken is "
                                           "invalid.")
    out = {"Entries": [{k: r[k] for k in ("Arn", "CreationDate", "LastUpdateDate", "Name", "FirehoseArn", "State",
                                          "OutputFormat")} for r in page]}
    if token:
        out["NextToken"] = token
    return out


def delete_metric_stream(ctx, p):
    table = ctx.table(KIND)
    if p["Name"] in table:
        table.delete(p["Name"])
    return {}


def _set_state(ctx, names: list[str], state: str) -> dict:
    table = ctx.table(KIND)
    for name in names:
        record = table.get(name)
        if record is not None and record["State"] != state:
            record["State"] = state
            record["LastUpdateDate"] = ctx.now()
            table.put(name, record)
    return {}


def start_metric_streams(ctx, p):
    return _set_state(ctx, p["Names"], "running")


def stop_metric_streams(ctx, p):
    return _set_state(ctx, p["Names"], "stopped")
