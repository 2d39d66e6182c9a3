"""GetMetricData: MetricStat queries and metric-math expressions, with ScanBy and pagination."""

from __future__ import annotations

from ...aws.errors import AwsError
from ...core import pagination
from . import queries as q_
from .mathexpr import Series
from .metric_api import invalid, round_start
from .runtime import service

DEFAULT_MAX_DATAPOINTS = 100_800


def get_metric_data(ctx, p):
    queries = q_.check_queries(p["MetricDataQueries"])
    start, end = p["StartTime"], p["EndTime"]
    if start >= end:
        raise invalid("The parameter StartTime must be less than the parameter EndTime.")
    start = round_start(start, ctx.now())
    descending = p.get("ScanBy", "TimestampDescending") == "TimestampDescending"
    limit = p.get("MaxDatapoints") or DEFAULT_MAX_DATAPOINTS
    if limit < 1:
        raise invalid("The parameter MaxDatapoints must be greater than 0.")
    results = q_.run(service(ctx).metrics, ctx.scope, queries, start, end)

    series: list[tuple[dict, Series]] = []
    for q in queries:
        if not q.get("ReturnData", True):
            continue
        value = results[q["Id"]]
        for s in value if isinstance(value, list) else [value]:
            series.append((q, s))

    context = repr(sorted((k, repr(v)) for k, v in p.items() if k != "NextToken"))
    offset = 0
    if p.get("NextToken"):
        try:
            offset = int(pagination.decode(p["NextToken"], context))
        except (pagination.InvalidToken, ValueError):
            raise AwsError("InvalidNextToken", "The service cannot complete the request because the NextToken "
                                               "is invalid.")
    out, position = [], 0
    for q, s in series:
        points = sorted(s.values.items(), reverse=descending)
        lo, hi = max(offset - position, 0), min(offset + limit - position, len(points))
        if lo < hi or (not points and offset == 0):
            page = points[lo:hi]
            out.append({"Id": q["Id"], "Label": s.label, "Timestamps": [t for t, _ in page],
                        "Values": [v for _, v in page], "StatusCode": "Complete", "Messages": []})
        position += len(points)
    result = {"MetricDataResults": out, "Messages": []}
    if offset + limit < position:
        result["NextToken"] = pagination.encode(str(offset + limit), context)
        for item in out:
            item["StatusCode"] = "PartialData" if item is out[-1] else item["StatusCode"]
    return result
