"""Log group and stream records, their names and ARNs, and Logs' errors."""

from __future__ import annotations

import re

from ...aws.errors import AwsError
from .runtime import GROUP_KIND, STREAM_KIND

GROUP_NAME = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
STREAM_NAME = re.compile(r"^[^:*]{1,512}$")
# The model's pattern for logGroupIdentifier (AWS checks it at the front door; '*' is outside it, so the
# ``arn`` of DescribeLogGroups, which ends in ':*', is refused as an identifier).
GROUP_IDENTIFIER = re.compile(r"^[\w#+=/:,.@-]*$")
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)


def invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


def not_found(message: str) -> AwsError:
    return AwsError("ResourceNotFoundException", message)


def groups(ctx):
    return ctx.table("group") if ctx.spec.name == "logs" else ctx.store.table(ctx.scope, GROUP_KIND)


def streams(ctx):
    return ctx.store.table(ctx.scope, STREAM_KIND)


def stream_key(group: str, stream: str) -> str:
    return f"{group}:{stream}"


def group_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:logs:{region}:{account}:log-group:{name}"


def group_name(ctx, p: dict, required: bool = True) -> str | None:
    """The group a request names, by logGroupName or logGroupIdentifier (a name or an ARN)."""
    name, ident = p.get("logGroupName"), p.get("logGroupIdentifier")
    if name and ident:
        raise invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if ident:
        if not GROUP_IDENTIFIER.match(ident):
            raise invalid(f"1 validation error detected: Value '{ident}' at 'logGroupIdentifier' failed to "
                          "satisfy constraint: Member must satisfy regular expression pattern: [\\w#+=/:,.@-]*")
        if ident.startswith("arn:"):
            parts = ident.split(":")
            if len(parts) < 7 or parts[5] != "log-group":
                raise invalid(f"Invalid log group identifier {ident}.")
            if parts[4] != ctx.account or parts[3] != ctx.region:
                raise not_found("The specified log group does not exist.")
            name = parts[6]
        else:
            name = ident
    if not name and required:
        raise invalid("Either logGroupName or logGroupIdentifier must be specified.")
    return name


def need_group(ctx, name: str) -> dict:
    group = groups(ctx).get(name)
    if group is None:
        raise not_found("The specified log group does not exist.")
    return group


def need_stream(ctx, group: str, stream: str) -> dict:
    record = streams(ctx).get(stream_key(group, stream))
    if record is None:
        raise not_found("The specified log stream does not exist.")
    return record


def new_group(region: str, account: str, name: str, now_ms: int, **extra) -> dict:
    arn = group_arn(region, account, name)
    record = {"logGroupName": name, "creationTime": now_ms, "metricFilterCount": 0, "arn": f"{arn}:*",
              "storedBytes": 0, "logGroupClass": "STANDARD", "logGroupArn": arn, "_tags": {}}
    record.update({k: v for k, v in extra.items() if v is not None})
    return record


def new_stream(region: str, account: str, group: str, name: str, now_ms: int) -> dict:
    return {"logStreamName": name, "creationTime": now_ms, "storedBytes": 0,
            "arn": f"{group_arn(region, account, group)}:log-stream:{name}"}
