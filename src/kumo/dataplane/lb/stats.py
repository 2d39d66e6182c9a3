"""Counters a worker keeps between reports, and their merge in the control plane."""

from __future__ import annotations

from collections import defaultdict


def _lb() -> dict:
    return {"requests": 0, "elb_4xx": 0, "elb_5xx": 0, "elb_502": 0, "elb_503": 0, "elb_504": 0,
            "active": 0, "new_connections": 0, "processed_bytes": 0, "target_connection_errors": 0,
            "active_flows": 0, "new_flows": 0, "targets": {}, "groups": {}}


_CLASSES = {2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}


class Stats:
    def __init__(self):
        self.lbs: dict[str, dict] = defaultdict(_lb)
        self.active: dict[str, int] = defaultdict(int)
        # Target responses per (lb, group, target): [count, -, 2xx, 3xx, 4xx, 5xx, seconds].  Flat, since
        # it is counted once per proxied request; drain() files it under the load balancer's groups.
        self.responses: dict[tuple[str, str, str], list] = {}

    def connection(self, lb: str, delta: int) -> None:
        self.active[lb] += delta
        if delta > 0:
            self.lbs[lb]["new_connections"] += 1

    def flow(self, lb: str, delta: int) -> None:
        self.active[lb] += delta
        if delta > 0:
            self.lbs[lb]["new_flows"] += 1

    def request(self, lb: str) -> None:
        self.lbs[lb]["requests"] += 1

    def processed(self, lb: str, n: int) -> None:
        self.lbs[lb]["processed_bytes"] += n

    def elb_status(self, lb: str, status: int) -> None:
        if 400 <= status < 500:
            self.lbs[lb]["elb_4xx"] += 1
        elif status >= 500:
            self.lbs[lb]["elb_5xx"] += 1

    def elb_error(self, lb: str, status: int) -> None:
        self.elb_status(lb, status)
        key = f"elb_{status}"
        if key in self.lbs[lb]:
            self.lbs[lb][key] += 1

    def target_connection_error(self, lb: str) -> None:
        self.lbs[lb]["target_connection_errors"] += 1

    def target_response(self, lb: str, group: str, target: str, status: int, seconds: float) -> None:
        key = (lb, group, target)
        counts = self.responses.get(key)
        if counts is None:
            counts = self.responses[key] = [0, 0, 0, 0, 0, 0, 0.0]
        counts[0] += 1
        counts[6] += seconds
        if 200 <= status < 600:
            counts[status // 100] += 1

    def _file_responses(self) -> None:
        for (lb, group, target), counts in self.responses.items():
            groups = self.lbs[lb]["groups"]
            g = groups.get(group)
            if g is None:
                g = groups[group] = {"requests": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, "time": 0.0,
                                     "targets": {}}
            g["requests"] += counts[0]
            g["time"] += counts[6]
            for cls in (2, 3, 4, 5):
                g[_CLASSES[cls]] += counts[cls]
            g["targets"][target] = g["targets"].get(target, 0) + counts[0]
        self.responses = {}

    def drain(self) -> dict:
        self._file_responses()
        out = {}
        for lb in set(self.lbs) | set(self.active):
            entry = self.lbs.get(lb) or _lb()
            entry["active"] = self.active.get(lb, 0)
            entry["active_flows"] = self.active.get(lb, 0)
            out[lb] = entry
        self.lbs = defaultdict(_lb)
        return {k: v for k, v in out.items() if any(
            v[key] for key in ("requests", "active", "new_connections", "processed_bytes", "elb_5xx", "elb_4xx",
                               "new_flows")) or v["groups"]}


def merge(into: dict, report: dict) -> None:
    """Add one worker's report into the control plane's per-minute totals."""
    for lb, entry in report.items():
        acc = into.setdefault(lb, _lb())
        for key, value in entry.items():
            if key == "groups":
                for garn, g in value.items():
                    ga = acc["groups"].setdefault(garn, {"requests": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0,
                                                         "time": 0.0, "targets": {}})
                    for k, v in g.items():
                        if k == "targets":
                            for t, n in v.items():
                                ga["targets"][t] = ga["targets"].get(t, 0) + n
                        else:
                            ga[k] += v
            elif key in ("active", "active_flows"):
                acc[key] = max(acc.get(key, 0), value)
            elif key != "targets":
                acc[key] = acc.get(key, 0) + value
