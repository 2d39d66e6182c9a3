"""What the load balancers publish to CloudWatch each minute, from the workers' merged counters (sans-IO).

AWS/ApplicationELB and AWS/NetworkELB carry the ``LoadBalancer`` dimension
(``app/<name>/<id>``, ``net/<name>/<id>``) and ``TargetGroup`` per group;
Classic load balancers publish AWS/ELB with ``LoadBalancerName``, as AWS does.
"""

from __future__ import annotations

from typing import Callable

from ...core.hub import Datapoint


def lb_dimension(arn: str) -> tuple[str, str, str, str]:
    """(account, region, namespace, dimension value) of a load balancer ARN.

    ELBv2 resources are ``loadbalancer/app|net/<name>/<id>``; Classic ones ``loadbalancer/<name>``, and a
    Classic name cannot hold a slash, so a Classic load balancer named "app" stays Classic."""
    parts = arn.split(":", 5)
    resource = parts[5] if len(parts) == 6 else ""
    dim = resource.split("loadbalancer/", 1)[-1]
    kind = dim.split("/", 1)[0] if "/" in dim else ""
    namespace = {"app": "AWS/ApplicationELB", "net": "AWS/NetworkELB"}.get(kind, "AWS/ELB")
    return parts[4] if len(parts) > 4 else "", parts[3] if len(parts) > 3 else "", namespace, dim


def tg_dimension(arn: str) -> str:
    return arn.split(":", 5)[-1]


def datapoints(totals: dict, groups_by_lb: dict[str, list[dict]], active: Callable[[str], int],
               target_state: Callable[[dict, dict], tuple], ts: float) -> list[Datapoint]:
    """One minute's datapoints; ``totals`` are the merged worker counters per load balancer ARN."""
    points: list[Datapoint] = []
    for lb in set(groups_by_lb) | set(totals):
        account, region, namespace, dim = lb_dimension(lb)
        entry = totals.get(lb)
        key = "LoadBalancerName" if namespace == "AWS/ELB" else "LoadBalancer"

        def put(name, value, unit="Count", extra=None):
            dims = {key: dim, **(extra or {})}
            points.append(Datapoint(account, region, namespace, name, float(value), ts, dims, unit))

        groups = groups_by_lb.get(lb, [])
        if namespace == "AWS/ELB":
            _classic(put, entry, groups, target_state)
            continue
        if namespace == "AWS/ApplicationELB":
            if entry:
                put("RequestCount", entry["requests"])
                put("HTTPCode_ELB_5XX_Count", entry["elb_5xx"])
                put("HTTPCode_ELB_4XX_Count", entry["elb_4xx"])
                for code in ("502", "503", "504"):
                    if entry[f"elb_{code}"]:
                        put(f"HTTPCode_ELB_{code}_Count", entry[f"elb_{code}"])
                put("NewConnectionCount", entry["new_connections"])
                put("TargetConnectionErrorCount", entry["target_connection_errors"])
                put("ProcessedBytes", entry["processed_bytes"], "Bytes")
            put("ActiveConnectionCount", active(lb))
        elif entry:
            put("NewFlowCount", entry["new_flows"])
            put("ProcessedBytes", entry["processed_bytes"], "Bytes")
            put("ActiveFlowCount", active(lb))
        for g in groups:
            tg_dim = {"TargetGroup": tg_dimension(g["arn"])}
            states = [target_state(g, t)[0] for t in g["targets"]]
            healthy = sum(1 for s in states if s in ("healthy", "unavailable"))
            put("HealthyHostCount", healthy, extra=tg_dim)
            put("UnHealthyHostCount", sum(1 for s in states if s == "unhealthy"), extra=tg_dim)
            ge = (entry or {}).get("groups", {}).get(g["arn"])
            if namespace == "AWS/ApplicationELB" and ge:
                put("RequestCount", ge["requests"], extra=tg_dim)
                put("RequestCountPerTarget", ge["requests"] / max(1, healthy), extra=tg_dim)
                for cls in ("2xx", "3xx", "4xx", "5xx"):
                    put(f"HTTPCode_Target_{cls.upper()}_Count", ge[cls], extra=tg_dim)
                if ge["requests"]:
                    put("TargetResponseTime", ge["time"] / ge["requests"], "Seconds", extra=tg_dim)
    return points


def _classic(put, entry: dict | None, groups: list[dict], target_state) -> None:
    """AWS/ELB: host counts from the health checks, traffic summed over the listeners."""
    for g in groups:
        if (g.get("health_check") or {}).get("enabled", True):  # the group the health checks run on
            states = [target_state(g, t)[0] for t in g["targets"]]
            put("HealthyHostCount", sum(1 for s in states if s == "healthy"))
            put("UnHealthyHostCount", sum(1 for s in states if s not in ("healthy", "draining")))
    if not entry:
        return
    backend = {"2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0}
    served = seconds = 0.0
    for g in entry.get("groups", {}).values():
        for cls in backend:
            backend[cls] += g[cls]
        served += g["requests"]
        seconds += g["time"]
    # On a TCP listener each connection counts as a request, as AWS counts them.
    put("RequestCount", entry["requests"] + entry["new_flows"])
    put("HTTPCode_ELB_4XX", entry["elb_4xx"])
    put("HTTPCode_ELB_5XX", entry["elb_5xx"])
    for cls, n in backend.items():
        put(f"HTTPCode_Backend_{cls.upper()}", n)
    if served:
        put("Latency", seconds / served, "Seconds")
    put("BackendConnectionErrors", entry["target_connection_errors"])
    put("EstimatedProcessedBytes", entry["processed_bytes"], "Bytes")
