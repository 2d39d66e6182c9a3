"""Alarm actions: which ARNs PutMetricAlarm accepts, and what a fired action is told.

Action ARNs are checked against the shapes AWS accepts and refused with
ValidationError when malformed; a well-formed ARN is accepted even if no kumo
service handles it yet.  When an alarm changes state, each ARN of the new
state's list goes to ``kumo.actions.dispatch(arn, context)``.  ``context`` is
the alarm notification as SNS publishes it (AlarmName, NewStateValue,
Trigger ... with AWS's key names and formats), plus one key ``kumo`` holding
what other handlers need (account, region, alarm record).  An SNS handler
sends ``{k: v for k, v in context.items() if k != "kumo"}`` as the message.
"""

from __future__ import annotations

import re

from .alarm_eval import iso_ms

_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d"
_ACCOUNT = r"\d{12}"
ACTION_PATTERNS = [
    ("ec2", re.compile(rf"^arn:aws:automate:({_REGION}):ec2:(stop|terminate|reboot|recover)$")),
    ("ec2", re.compile(rf"^arn:aws:swf:({_REGION}):{_ACCOUNT}:action/actions/AWS_EC2\.InstanceId\."
                       r"(Stop|Terminate|Reboot)/1\.0$")),
    ("sns", re.compile(rf"^arn:aws:sns:({_REGION}):{_ACCOUNT}:[A-Za-z0-9_-]{{1,256}}(?:\.fifo)?$")),
    ("autoscaling", re.compile(rf"^arn:aws:autoscaling:({_REGION}):{_ACCOUNT}:scalingPolicy:[0-9a-f-]{{36}}:"
                               r"autoScalingGroupName/[^:]{1,255}:policyName/[^:]{1,255}$")),
    ("lambda", re.compile(rf"^arn:aws:lambda:({_REGION}):{_ACCOUNT}:function:[A-Za-z0-9_-]{{1,64}}"
                          r"(?::[A-Za-z0-9_$-]{1,128})?$")),
    ("ssm", re.compile(rf"^arn:aws:ssm:({_REGION}):{_ACCOUNT}:opsitem:[1-4](?:#CATEGORY=[A-Za-z]+)?$")),
    ("ssm-incidents", re.compile(rf"^arn:aws:ssm-incidents::{_ACCOUNT}:responseplan/[A-Za-z0-9_-]{{1,200}}$")),
    ("aiops", re.compile(rf"^arn:aws:aiops:({_REGION}):{_ACCOUNT}:investigation-group/[A-Za-z0-9]{{1,64}}$")),
]

REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)", "eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)", "eu-central-1": "EU (Frankfurt)", "eu-north-1": "EU (Stockholm)",
    "ap-northeast-1": "Asia Pacific (Tokyo)", "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-southeast-1": "Asia Pacific (Singapore)", "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-south-1": "Asia Pacific (Mumbai)", "sa-east-1": "South America (Sao Paulo)",
    "ca-central-1": "Canada (Central)",
}


def kind_of(arn: str) -> str | None:
    for kind, pattern in ACTION_PATTERNS:
        if pattern.match(arn):
            return kind
    return None


def check(arn: str, region: str, *, composite: bool, math: bool, dims: dict) -> str | None:
    """Why AWS would refuse ``arn`` as an action of this alarm (None: accepted)."""
    for kind, pattern in ACTION_PATTERNS:
        m = pattern.match(arn)
        if not m:
            continue
        if m.groups() and m.group(1) != region:
            return f"Invalid region {m.group(1)} specified. Only {region} is supported."
        if kind == "ec2":
            if composite or math:
                return f"The action {arn} is not supported for this alarm: EC2 actions need an alarm on a single metric."
            if "InstanceId" not in dims:
                return f"The action {arn} needs the alarm's metric to have an InstanceId dimension."
        if kind == "autoscaling" and composite:
            return f"Composite alarms cannot perform Auto Scaling actions: {arn}"
        return None
    return f"Invalid arn syntax: {arn}" if arn.startswith("arn:") else f"Invalid action: {arn}"


def trigger(alarm: dict) -> dict:
    """The Trigger object of AWS's alarm notification."""
    if alarm.get("Metrics"):
        metrics = []
        for q in alarm["Metrics"]:
            item = {"id": q["Id"], "returnData": q.get("ReturnData", True)}
            if q.get("Label"):
                item["label"] = q["Label"]
            if q.get("Expression"):
                item["expression"] = q["Expression"]
            if q.get("MetricStat"):
                stat = q["MetricStat"]
                item["metricStat"] = {
                    "metric": {"dimensions": [{"value": d["Value"], "name": d["Name"]}
                                              for d in stat["Metric"].get("Dimensions", [])],
                               "metricName": stat["Metric"].get("MetricName"),
                               "namespace": stat["Metric"].get("Namespace")},
                    "period": stat["Period"], "stat": stat["Stat"]}
                if stat.get("Unit"):
                    item["metricStat"]["unit"] = stat["Unit"]
            metrics.append(item)
        out = {"Metrics": metrics, "Period": _period(alarm)}
    else:
        extended = alarm.get("ExtendedStatistic")
        out = {"MetricName": alarm.get("MetricName"), "Namespace": alarm.get("Namespace"),
               "StatisticType": "ExtendedStatistic" if extended else "Statistic",
               "Statistic": extended if extended else alarm.get("Statistic", "").upper(),
               "Unit": alarm.get("Unit"),
               "Dimensions": [{"value": d["Value"], "name": d["Name"]} for d in alarm.get("Dimensions", [])],
               "Period": alarm.get("Period")}
    out.update({"EvaluationPeriods": alarm.get("EvaluationPeriods"),
                "DatapointsToAlarm": alarm.get("DatapointsToAlarm", alarm.get("EvaluationPeriods")),
                "ComparisonOperator": alarm.get("ComparisonOperator"), "Threshold": alarm.get("Threshold"),
                "TreatMissingData": alarm.get("TreatMissingData", "missing"),
                "EvaluateLowSampleCountPercentile": alarm.get("EvaluateLowSampleCountPercentile", "")})
    return out


def _period(alarm: dict) -> int:
    if alarm.get("Period"):
        return alarm["Period"]
    for q in alarm.get("Metrics") or []:
        if q.get("MetricStat"):
            return q["MetricStat"]["Period"]
        if q.get("Period"):
            return q["Period"]
    return 60


def notification(alarm: dict, old_state: str, account: str, region: str) -> dict:
    """What an alarm's action is told: AWS's SNS alarm message, and kumo's own details under ``kumo``."""
    message = {
        "AlarmName": alarm["AlarmName"],
        "AlarmDescription": alarm.get("AlarmDescription"),
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": iso_ms(alarm["AlarmConfigurationUpdatedTimestamp"]),
        "NewStateValue": alarm["StateValue"],
        "NewStateReason": alarm["StateReason"],
        "StateChangeTime": iso_ms(alarm["StateUpdatedTimestamp"]),
        "Region": REGION_NAMES.get(region, region),
        "AlarmArn": alarm["AlarmArn"],
        "OldStateValue": old_state,
        "OKActions": list(alarm.get("OKActions", [])),
        "AlarmActions": list(alarm.get("AlarmActions", [])),
        "InsufficientDataActions": list(alarm.get("InsufficientDataActions", [])),
    }
    if alarm.get("_type") == "CompositeAlarm":
        message["AlarmRule"] = alarm.get("AlarmRule")
    else:
        message["Trigger"] = trigger(alarm)
    message["kumo"] = {"account": account, "region": region, "alarm_type": alarm.get("_type", "MetricAlarm"),
                       "alarm": {k: v for k, v in alarm.items() if not k.startswith("_")}}
    return message


def event_detail(alarm: dict, previous: dict) -> dict:
    """The detail of a "CloudWatch Alarm State Change" event."""
    detail = {
        "alarmName": alarm["AlarmName"],
        "state": {"value": alarm["StateValue"], "reason": alarm["StateReason"],
                  "timestamp": iso_ms(alarm["StateUpdatedTimestamp"])},
        "previousState": {"value": previous["StateValue"], "reason": previous.get("StateReason", ""),
                          "timestamp": iso_ms(previous["StateUpdatedTimestamp"])},
    }
    if alarm.get("StateReasonData"):
        detail["state"]["reasonData"] = alarm["StateReasonData"]
    if previous.get("StateReasonData"):
        detail["previousState"]["reasonData"] = previous["StateReasonData"]
    config: dict = {"description": alarm.get("AlarmDescription", "")}
    if alarm.get("_type") == "CompositeAlarm":
        config["alarmRule"] = alarm.get("AlarmRule")
        if alarm.get("ActionsSuppressor"):
            config["actionsSuppressor"] = alarm["ActionsSuppressor"]
    else:
        t = trigger(alarm)
        if "Metrics" in t:
            config["metrics"] = t["Metrics"]
        else:
            stat = {"metric": {"namespace": alarm.get("Namespace"), "name": alarm.get("MetricName"),
                               "dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}},
                    "period": alarm.get("Period"),
                    "stat": alarm.get("ExtendedStatistic") or alarm.get("Statistic")}
            config["metrics"] = [{"id": "m1", "metricStat": stat, "returnData": True}]
    detail["configuration"] = config
    return detail
