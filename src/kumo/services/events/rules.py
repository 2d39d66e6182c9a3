"""Rules and their targets: PutRule, DescribeRule, Enable/Disable, ListRules, PutTargets and friends.

A rule is a record (kind ``events.rule``) keyed ``<bus>|<name>``; its targets
live in it.  Scheduled rules are fired by the ``events-schedules`` controller
(scheduler.py); handlers only record the rule and ask it to look.
"""

from __future__ import annotations

import json
import re

from ...aws.errors import AwsError
from ...core import schedules
from ...core.arns import parse_arn
from . import buses, patterns, targets

MAX_TARGETS = 5
_NAME = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
_TARGET_ID = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
SCHEDULER = "events-schedules"


def rule_arn(account: str, region: str, bus: str, name: str) -> str:
    resource = f"rule/{name}" if bus == buses.DEFAULT else f"rule/{bus}/{name}"
    return buses.events_arn(account, region, resource)


def _rules(ctx):
    return ctx.table("rule")


def find(ctx, name: str, bus_name: str | None) -> dict:
    bus = buses.name_of(bus_name)
    rule = _rules(ctx).get(f"{bus}|{name}")
    if rule is None:
        raise buses.not_found(f"Rule {name} does not exist on EventBus {bus}.")
    return rule


def view(rule: dict) -> dict:
    return {k: v for k, v in rule.items() if not k.startswith("_") and k != "Tags"}


def check_pattern(text: str) -> None:
    try:
        patterns.parse(text)
    except patterns.PatternError as exc:
        raise AwsError("InvalidEventPatternException", f"Event pattern is not valid. Reason: {exc}")


def put_rule(ctx, p):
    name = p["Name"]
    if not _NAME.match(name):
        raise AwsError("ValidationException", f"Rule name {name} is not valid.")
    pattern, schedule = p.get("EventPattern"), p.get("ScheduleExpression")
    if not pattern and not schedule:
        raise AwsError("ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be specified.")
    if pattern:
        check_pattern(pattern)
    bus = buses.find(ctx.store, ctx.account, ctx.region, p.get("EventBusName"), ctx.now())
    if schedule:
        if bus["Name"] != buses.DEFAULT:
            raise AwsError("ValidationException", "ScheduleExpression is supported only on the default event bus.")
        try:
            schedules.parse(schedule)
        except schedules.ScheduleError:
            raise AwsError("ValidationException", "Parameter ScheduleExpression is not valid.")
    key = f"{bus['Name']}|{name}"
    rules = _rules(ctx)
    existing = rules.get(key)
    rule = existing or {"Name": name, "Arn": rule_arn(ctx.account, ctx.region, bus["Name"], name),
                        "EventBusName": bus["Name"], "CreatedBy": ctx.account, "Tags": {},
                        "_targets": [], "_created": ctx.now()}
    for field in ("EventPattern", "ScheduleExpression", "Description", "RoleArn"):
        if p.get(field) is not None:
            rule[field] = p[field]
        elif existing is None or field in ("EventPattern", "ScheduleExpression"):
            rule.pop(field, None)
    rule["State"] = p.get("State") or (existing or {}).get("State") or "ENABLED"
    if existing is None:
        rule["Tags"] = buses.tags_in(p.get("Tags"))
    if schedule and (existing is None or existing.get("ScheduleExpression") != schedule):
        rule["_since"] = ctx.now()  # rate() periods count from here
        rule.pop("_next", None)
    rules.put(key, rule)
    ctx.controllers.enqueue(SCHEDULER, (ctx.scope, key))
    return {"RuleArn": rule["Arn"]}


def describe_rule(ctx, p):
    return view(find(ctx, p["Name"], p.get("EventBusName")))


def delete_rule(ctx, p):
    bus = buses.name_of(p.get("EventBusName"))
    rule = _rules(ctx).get(f"{bus}|{p['Name']}")
    if rule is None:
        return {}
    if rule["_targets"] and not p.get("Force"):
        raise AwsError("ValidationException", "Rule can't be deleted since it has targets.")
    _rules(ctx).delete(f"{bus}|{p['Name']}")
    return {}


def _set_state(ctx, p, state: str):
    rule = find(ctx, p["Name"], p.get("EventBusName"))
    rule["State"] = state
    key = f"{rule['EventBusName']}|{rule['Name']}"
    _rules(ctx).put(key, rule)
    ctx.controllers.enqueue(SCHEDULER, (ctx.scope, key))
    return {}


def enable_rule(ctx, p):
    return _set_state(ctx, p, "ENABLED")


def disable_rule(ctx, p):
    return _set_state(ctx, p, "DISABLED")


def list_rules(ctx, p):
    bus = buses.find(ctx.store, ctx.account, ctx.region, p.get("EventBusName"), ctx.now())["Name"]
    prefix = p.get("NamePrefix") or ""
    found = sorted((r for r in _rules(ctx).values() if r["EventBusName"] == bus and r["Name"].startswith(prefix)),
                   key=lambda r: r["Name"])
    page, token = buses.paginate(found, p, lambda r: r["Name"], f"rules|{bus}|{prefix}")
    out = {"Rules": [view(r) for r in page]}
    if token:
        out["NextToken"] = token
    return out


def list_rule_names_by_target(ctx, p):
    bus = buses.name_of(p.get("EventBusName"))
    found = sorted(r["Name"] for r in _rules(ctx).values()
                   if r["EventBusName"] == bus and any(t["Arn"] == p["TargetArn"] for t in r["_targets"]))
    page, token = buses.paginate(found, p, lambda n: n, f"names|{bus}|{p['TargetArn']}")
    out = {"RuleNames": page}
    if token:
        out["NextToken"] = token
    return out


# -- targets -----------------------------------------------------------------------------------


def _target_problem(target: dict) -> str | None:
    if not _TARGET_ID.match(target["Id"]):
        return f"Target id {target['Id']} is not valid."
    if parse_arn(target["Arn"]) is None:
        return f"Parameter {target['Arn']} is not valid. Reason: Provided Arn is not in correct format."
    retry = target.get("RetryPolicy") or {}
    if not 0 <= retry.get("MaximumRetryAttempts", 0) <= 185:
        return "RetryPolicy.MaximumRetryAttempts must be between 0 and 185."
    if not 60 <= retry.get("MaximumEventAgeInSeconds", 60) <= 86400:
        return "RetryPolicy.MaximumEventAgeInSeconds must be between 60 and 86400."
    dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
    if dlq is not None and (parse_arn(dlq) is None or parse_arn(dlq).service != "sqs"):
        return f"Parameter DeadLetterConfig.Arn is not valid: {dlq}. It must be the ARN of an SQS queue."
    given = [k for k in ("Input", "InputPath", "InputTransformer") if target.get(k) is not None]
    if len(given) > 1:
        return "Only one of Input, InputPath, or InputTransformer may be provided."
    if target.get("Input") is not None:
        try:
            json.loads(target["Input"])
        except ValueError:
            return "Input is not valid JSON text."
    transformer = target.get("InputTransformer") or {}
    for path in [target.get("InputPath") or "$", *(transformer.get("InputPathsMap") or {}).values()]:
        try:
            targets.json_path({}, path)
        except targets.TransformError:
            return f"InputPath {path} is not valid JSONPath."
    return None


def put_targets(ctx, p):
    rule = find(ctx, p["Rule"], p.get("EventBusName"))
    by_id = {t["Id"]: t for t in rule["_targets"]}
    failed = []
    for target in p["Targets"]:
        problem = _target_problem(target)
        if problem is None and target["Id"] not in by_id and len(by_id) >= MAX_TARGETS:
            raise AwsError("LimitExceededException", f"The requested resource exceeds the maximum number allowed: "
                                                     f"rule {rule['Name']} may have at most {MAX_TARGETS} targets.")
        if problem is not None:
            failed.append({"TargetId": target["Id"], "ErrorCode": "ValidationException", "ErrorMessage": problem})
            continue
        by_id[target["Id"]] = target
    rule["_targets"] = list(by_id.values())
    _rules(ctx).put(f"{rule['EventBusName']}|{rule['Name']}", rule)
    return {"FailedEntryCount": len(failed), "FailedEntries": failed}


def remove_targets(ctx, p):
    rule = find(ctx, p["Rule"], p.get("EventBusName"))
    present = {t["Id"] for t in rule["_targets"]}
    failed = [{"TargetId": i, "ErrorCode": "ResourceNotFoundException",
               "ErrorMessage": f"Target {i} does not exist on rule {rule['Name']}."} for i in p["Ids"]
              if i not in present]
    rule["_targets"] = [t for t in rule["_targets"] if t["Id"] not in set(p["Ids"])]
    _rules(ctx).put(f"{rule['EventBusName']}|{rule['Name']}", rule)
    return {"FailedEntryCount": len(failed), "FailedEntries": failed}


def list_targets_by_rule(ctx, p):
    rule = find(ctx, p["Rule"], p.get("EventBusName"))
    page, token = buses.paginate(rule["_targets"], p, lambda t: t["Id"], f"targets|{rule['Arn']}")
    out = {"Targets": page}
    if token:
        out["NextToken"] = token
    return out
