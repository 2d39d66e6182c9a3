"""Subscription filters: Put/Describe/DeleteSubscriptionFilter, and delivery to Lambda as events arrive.

Delivery is AWS's: one asynchronous invocation per stored batch and filter, whose event is
``{"awslogs": {"data": base64(gzip(json))}}`` with messageType DATA_MESSAGE, owner, logGroup, logStream,
subscriptionFilters and logEvents [{id, timestamp, message}].  Before accepting a Lambda destination AWS
checks that Logs may invoke it (the function's resource policy must allow logs.amazonaws.com); so does
kumo.  Kinesis and Firehose destinations (directly, or behind a Logs destination) are refused as AWS
refuses a stream that does not exist: kumo has neither service.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging

from ...aws.errors import AwsError
from . import patterns
from .model import invalid, need_group
from .policies import account_subscription_filters

KIND = "logs.subscription"
MAX_PER_GROUP = 2
log = logging.getLogger("kumo.logs")


def _table(store, scope: str):
    return store.table(scope, KIND)


def _lambda_allows_logs(kumo, arn: str) -> bool:
    try:  # through kumo.functions: Logs need not bring Lambda up (no function exists before it is)
        policy = kumo.functions.resource_policy(arn)
    except LookupError:
        return False
    if not policy:
        return False
    for st in json.loads(policy).get("Statement", []):
        principal = st.get("Principal")
        services = principal.get("Service") if isinstance(principal, dict) else principal
        services = services if isinstance(services, list) else [services]
        actions = st.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        if st.get("Effect") == "Allow" and any(s in ("*", "logs.amazonaws.com") or
                                                 (isinstance(s, str) and s.startswith("logs.") and
                                                  s.endswith(".amazonaws.com")) for s in services) and \
                any(a in ("lambda:InvokeFunction", "lambda:*", "*") for a in actions):
            return True
    return False


def check_destination(ctx, arn: str) -> None:
    parts = arn.split(":")
    service = parts[2] if len(parts) > 5 and parts[0] == "arn" else ""
    if service == "lambda":
        if parts[4] != ctx.account:  # AWS delivers to a function of the filter's own account only
            raise invalid("The Lambda function must belong to the same account as the subscription filter.")
        if not _lambda_allows_logs(ctx.kumo, arn):
            raise invalid("Could not execute the lambda function. Make sure you have given CloudWatch Logs "
                          "permission to execute your function.")
        return
    if service == "kinesis":
        raise invalid("Could not deliver test message to specified Kinesis stream. Check if the given kinesis "
                      "stream is in ACTIVE state.")
    if service == "firehose":
        raise invalid("Could not deliver test message to specified Firehose stream. Check if the given Firehose "
                      "stream is in ACTIVE state.")
    if service == "logs" and parts[5].startswith("destination"):
        from .destinations import lookup

        dest = lookup(ctx.kumo, arn)
        if dest is None:
            raise AwsError("ResourceNotFoundException", "The specified destination does not exist.")
        check_destination(ctx, dest["targetArn"])
        return
    raise invalid(f"Invalid destination ARN: {arn}")


def put_subscription_filter(ctx, p):
    name = p["logGroupName"]
    need_group(ctx, name)
    try:
        patterns.compile(p["filterPattern"])
    except patterns.PatternError as exc:
        raise invalid(f"Invalid subscription filter pattern: {exc}")
    table = _table(ctx.store, ctx.scope)
    key = f"{name}:{p['filterName']}"
    mine = [k for k in table.keys() if k.startswith(f"{name}:")]
    if key not in table and len(mine) >= MAX_PER_GROUP:
        raise AwsError("LimitExceededException", "Resource limit exceeded.")
    check_destination(ctx, p["destinationArn"])
    old = table.get(key)
    record = {"filterName": p["filterName"], "logGroupName": name, "filterPattern": p["filterPattern"],
              "destinationArn": p["destinationArn"], "distribution": p.get("distribution") or "ByLogStream",
              "creationTime": old["creationTime"] if old else int(ctx.now() * 1000),
              "applyOnTransformedLogs": bool(p.get("applyOnTransformedLogs"))}
    if p.get("roleArn"):
        record["roleArn"] = p["roleArn"]
    table.put(key, record)
    return {}


def delete_subscription_filter(ctx, p):
    name = p["logGroupName"]
    need_group(ctx, name)
    table = _table(ctx.store, ctx.scope)
    key = f"{name}:{p['filterName']}"
    if key not in table:
        raise AwsError("ResourceNotFoundException", "The specified subscription filter does not exist.")
    table.delete(key)
    return {}


def describe_subscription_filters(ctx, p):
    name, prefix = p["logGroupName"], p.get("filterNamePrefix") or ""
    need_group(ctx, name)
    items = sorted((f for k, f in _table(ctx.store, ctx.scope).items()
                    if k.startswith(f"{name}:") and f["filterName"].startswith(prefix)),
                   key=lambda f: f["filterName"])
    return {"subscriptionFilters": [dict(f) for f in items]}


def payload(owner: str, group: str, stream: str, filter_name: str, events: list[tuple[int, int, str]]) -> dict:
    body = {"messageType": "DATA_MESSAGE", "owner": owner, "logGroup": group, "logStream": stream,
            "subscriptionFilters": [filter_name],
            "logEvents": [{"id": f"{eid:056d}", "timestamp": ts, "message": msg} for eid, ts, msg in events]}
    data = base64.b64encode(gzip.compress(json.dumps(body, separators=(",", ":")).encode())).decode()
    return {"awslogs": {"data": data}}


def deliver(kumo, scope: str, group: str, stream: str, events: list[tuple[int, int, str]]) -> None:
    filters = [f for k, f in _table(kumo.store, scope).items() if k.startswith(f"{group}:")]
    filters += account_subscription_filters(kumo.store, scope, group)
    account = scope.split("/", 1)[0]
    for f in filters:
        try:
            extract = patterns.cached(f["filterPattern"])
        except patterns.PatternError:
            continue
        chosen = [e for e in events if extract(e[2]) is not None]
        if not chosen or f["destinationArn"].split(":")[2] != "lambda":
            continue
        try:
            kumo.functions.queue(f["destinationArn"], payload(account, group, stream, f["filterName"], chosen),
                                 source_arn=f"arn:aws:logs:{scope.split('/', 1)[1]}:{account}:log-group:{group}:*")
        except LookupError:
            # The function was deleted after the filter was made: AWS drops the delivery (and retries
            # for a while); kumo logs it.
            log.warning("subscription filter %s of %s: function %s is gone", f["filterName"], group,
                        f["destinationArn"])


def drop_group(store, scope: str, group: str) -> None:
    table = _table(store, scope)
    for key in [k for k in table.keys() if k.startswith(f"{group}:")]:
        table.delete(key)
