"""PutMetricAlarm and PutCompositeAlarm: validation as AWS does it, then the alarm record."""

from __future__ import annotations

import copy

from ...aws.errors import AwsError
from ...core import tags as tagging
from . import actions as acts
from . import alarm_eval, alarm_rule, anomaly, queries
from .evaluator import KIND, STATE_ACTIONS
from .metric_api import combination, dims_dict, invalid
from .runtime import service
from .stats import parse_extended

HIGH_RES_ALARM_PERIODS = (10, 20, 30)
ALARM_FIELDS = ("AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions",
                "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
                "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
                "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId")
COMPOSITE_FIELDS = ("AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions",
                    "AlarmRule", "ActionsSuppressor", "ActionsSuppressorWaitPeriod",
                    "ActionsSuppressorExtensionPeriod")


def validation(message: str) -> AwsError:
    return AwsError("ValidationError", message, status=400)


def alarm_arn(ctx, name: str) -> str:
    return ctx.arn(f"alarm:{name}", service="cloudwatch")


def camel(value):
    """Alarm configuration as AWS writes it inside history JSON (camelCase keys)."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: camel(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def _check_period(period: int, where: str = "Period") -> None:
    if period not in HIGH_RES_ALARM_PERIODS and period % 60:
        raise invalid(f"The parameter {where} must be 10, 20, 30 or a multiple of 60.")


def _check_actions(ctx, p: dict, *, composite: bool, math: bool, dims: dict) -> None:
    for field in STATE_ACTIONS.values():
        arns = p.get(field) or []
        if len(arns) > 5:
            raise invalid(f"The collection {field} must not have a size greater than 5.")
        for arn in arns:
            problem = acts.check(arn, ctx.region, composite=composite, math=math, dims=dims)
            if problem:
                raise validation(problem)


def _check_metric_alarm(ctx, p: dict) -> None:
    single = [k for k in ("MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period",
                          "Unit") if p.get(k) is not None]
    op = p.get("ComparisonOperator")
    if op is None:
        raise AwsError("MissingParameter", "The parameter ComparisonOperator is required.")
    band_id = p.get("ThresholdMetricId")
    if (op in alarm_eval.ANOMALY_OPERATORS) != bool(band_id):
        raise invalid("ThresholdMetricId and the anomaly detection comparison operators (LessThanLowerOr"
                      "GreaterThanUpperThreshold, LessThanLowerThreshold, GreaterThanUpperThreshold) go together.")
    if band_id:
        if p.get("Threshold") is not None:
            raise combination("The parameters Threshold and ThresholdMetricId are mutually exclusive.")
        if not p.get("Metrics"):
            raise AwsError("MissingParameter", "The parameter Metrics is required with ThresholdMetricId.")
        target = next((q for q in p["Metrics"] if q["Id"] == band_id), None)
        if target is None or not anomaly.band_of(target.get("Expression") or ""):
            raise validation(f"Invalid metrics list: ThresholdMetricId {band_id} must name an "
                             "ANOMALY_DETECTION_BAND expression of Metrics.")
    if p.get("EvaluationCriteria"):
        raise invalid("PromQL alarms (EvaluationCriteria) are not supported by kumo.")
    if p.get("Threshold") is None and not band_id:
        raise AwsError("MissingParameter", "The parameter Threshold is required.")
    if p.get("Metrics"):
        if single:
            raise combination(f"The parameters Metrics and {single[0]} are mutually exclusive.")
        checked = queries.check_queries(p["Metrics"], "Metrics", alarm=True, threshold_id=band_id)
        periods = {q["MetricStat"]["Period"] for q in checked if q.get("MetricStat")}
        if len(periods) > 1:
            raise validation("Invalid metrics list: all metrics of an alarm must use the same period.")
        for q in checked:
            if q.get("MetricStat"):
                _check_period(q["MetricStat"]["Period"], "Metrics.MetricStat.Period")
        period = acts._period(p)
        # What the alarm watches must be one time series: try the queries on a short range.
        now = ctx.now()
        results = queries.run(service(ctx).metrics, ctx.scope, checked, now - period, now)
        watched = next(q["Id"] for q in checked if q.get("ReturnData", True) and q["Id"] != band_id)
        if band_id:
            base = next(q for q in checked if q["Id"] == anomaly.band_of(
                next(b for b in checked if b["Id"] == band_id)["Expression"])[0])
            anomaly.ensure_detector(ctx, base["MetricStat"]["Metric"], base["MetricStat"]["Stat"])
        if isinstance(results[watched], list):
            raise validation(f"Invalid metrics list: the expression {watched} returns an array of time series; "
                             "an alarm watches a single time series.")
    else:
        for required in ("MetricName", "Namespace", "Period"):
            if p.get(required) is None:
                raise AwsError("MissingParameter", f"The parameter {required} is required.")
        if bool(p.get("Statistic")) == bool(p.get("ExtendedStatistic")):
            raise combination("Exactly one of the parameters Statistic and ExtendedStatistic must be specified.")
        if p.get("ExtendedStatistic") and parse_extended(p["ExtendedStatistic"]) is None:
            raise invalid(f"The value {p['ExtendedStatistic']} for parameter ExtendedStatistic is invalid.")
        _check_period(p["Period"])
        period = p["Period"]
    n = p["EvaluationPeriods"]
    if p.get("DatapointsToAlarm") is not None and p["DatapointsToAlarm"] > n:
        raise validation("DatapointsToAlarm must be less than or equal to EvaluationPeriods.")
    limit = 86400 if period < 3600 else 604800
    if period * n > limit:
        raise validation(f"The evaluation period (Period x EvaluationPeriods) of an alarm with a period of {period} "
                         f"seconds can't be more than {limit} seconds.")
    treat = p.get("TreatMissingData")
    if treat is not None and treat not in alarm_eval.TREATMENTS:
        raise invalid(f"The value {treat} for parameter TreatMissingData is invalid.")
    low = p.get("EvaluateLowSampleCountPercentile")
    if low is not None:
        if low not in ("evaluate", "ignore"):
            raise invalid(f"The value {low} for parameter EvaluateLowSampleCountPercentile is invalid.")
        if not (p.get("ExtendedStatistic") or "").startswith("p"):
            raise combination("EvaluateLowSampleCountPercentile can be set only with a percentile ExtendedStatistic.")
    _check_actions(ctx, p, composite=False, math=bool(p.get("Metrics")), dims=dims_dict(p.get("Dimensions")))


def _tags(p: dict) -> dict:
    found = tagging.to_dict(p.get("Tags"))
    try:
        tagging.validate(found)
    except tagging.TagError as exc:
        raise invalid(str(exc))
    return found


def _store(ctx, p: dict, alarm_type: str, fields: tuple) -> dict:
    cw = service(ctx)
    table = ctx.table("alarm")
    name = p["AlarmName"]
    now = ctx.now()
    old = table.get(name)
    if old is not None and old["_type"] != alarm_type:
        raise validation(f"An alarm named {name} already exists as a {old['_type']}.")
    record = {"AlarmName": name, "AlarmArn": alarm_arn(ctx, name), "AlarmConfigurationUpdatedTimestamp": now,
              "ActionsEnabled": p.get("ActionsEnabled", True), "OKActions": [], "AlarmActions": [],
              "InsufficientDataActions": [], "_type": alarm_type}
    for field in fields:
        if p.get(field) is not None:
            record[field] = copy.deepcopy(p[field])
    if alarm_type == "MetricAlarm" and not p.get("Metrics"):
        record.setdefault("Dimensions", [])
    if old is None:
        record.update({"StateValue": "INSUFFICIENT_DATA", "StateReason": "Unchecked: Initial alarm creation",
                       "StateUpdatedTimestamp": now, "StateTransitionedTimestamp": now, "_tags": _tags(p)})
        summary, data = f'Alarm "{name}" created', {"version": "1.0", "type": "Create",
                                                     "createdAlarm": camel(record)}
    else:
        for key in ("StateValue", "StateReason", "StateReasonData", "StateUpdatedTimestamp",
                    "StateTransitionedTimestamp", "_tags"):
            if key in old:
                record[key] = old[key]
        changed = {k: old.get(k) for k in set(old) | set(record)
                   if not k.startswith("_") and not k.startswith("State") and k != "AlarmConfigurationUpdatedTimestamp"
                   and old.get(k) != record.get(k)}
        summary, data = f'Alarm "{name}" updated', {"version": "1.0", "type": "Update",
                                                     "updatedAlarm": camel(record),
                                                     "originalUpdatedFields": camel(changed)}
    for key in ("AlarmConfigurationUpdatedTimestamp", "StateUpdatedTimestamp", "StateTransitionedTimestamp"):
        for part in (data.get("createdAlarm"), data.get("updatedAlarm")):
            if part and key[:1].lower() + key[1:] in part:
                part[key[:1].lower() + key[1:]] = alarm_eval.iso_ms(record[key])
    if alarm_type == "CompositeAlarm":
        record["_children"] = alarm_rule.parse(record["AlarmRule"]).alarms
    table.put(name, record)
    cw.evaluator.history.add(ctx.scope, name, alarm_type, now, "ConfigurationUpdate", summary, data)
    return record


def put_metric_alarm(ctx, p):
    store_metric_alarm(ctx, p)
    return {}


def store_metric_alarm(ctx, p: dict) -> dict:
    """Check and store a metric alarm from PutMetricAlarm's members; returns its record."""
    _check_metric_alarm(ctx, p)
    alarm = _store(ctx, p, "MetricAlarm", ALARM_FIELDS)
    service(ctx).evaluator.rearm()
    return alarm


def put_composite_alarm(ctx, p):
    try:
        rule = alarm_rule.parse(p["AlarmRule"])
    except alarm_rule.RuleError as exc:
        raise validation(f"Error in alarm rule: {exc}")
    if len(set(rule.alarms)) > 100:
        raise validation("An alarm rule can reference at most 100 alarms.")
    prefix = alarm_arn(ctx, "")
    if p["AlarmName"] in rule.alarms or prefix + p["AlarmName"] in rule.alarms:
        raise validation("A composite alarm cannot reference itself in its rule.")
    _check_actions(ctx, p, composite=True, math=False, dims={})
    record = _store(ctx, p, "CompositeAlarm", COMPOSITE_FIELDS)
    service(ctx).evaluator.evaluate_composite(ctx.scope, record, ctx.now())
    return {}


__all__ = ["put_metric_alarm", "put_composite_alarm", "KIND"]
