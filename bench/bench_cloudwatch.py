"""CloudWatch benchmark: kumo beside moto's server, in the same run.

Measures, through stock boto3 (which resolves CloudWatch to its json protocol; kumo answers CBOR and
query the same way):

* PutMetricData throughput: sequential calls of 20 datapoints each (20 metrics of one namespace);
* GetMetricStatistics latency over one day of 1-minute data (1,440 datapoints, five statistics);
* GetMetricData with one metric-math expression, AVG(METRICS()), over 10 metrics of one day of
  1-minute data each, at a 5-minute period.

Each result is checked: a server that answers without the right numbers is reported as such.

    python bench/bench_cloudwatch.py [--calls 300] [--no-record]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import kumo, moto, record, summary, timed  # noqa: E402

DAY = 86400


def load_day(cw, namespace: str, names: list[str], end: float) -> None:
    """One value a minute for a day, for each metric (value = minute index)."""
    start = end - DAY
    for name in names:
        points = [{"MetricName": name, "Timestamp": start + i * 60, "Value": float(i % 100)} for i in range(1440)]
        for k in range(0, len(points), 50):  # under botocore's 10 KB gzip threshold: moto fails on gzip bodies
            cw.put_metric_data(Namespace=namespace, MetricData=points[k:k + 50])


def put_throughput(cw, calls: int) -> tuple[list[float], float]:
    batch = [{"MetricName": f"put-{i}", "Value": float(i), "Dimensions": [{"Name": "Host", "Value": "h1"}]}
             for i in range(20)]
    for _ in range(20):  # warm up
        cw.put_metric_data(Namespace="BenchPut", MetricData=batch)
    t = time.perf_counter()
    lat = timed(lambda: cw.put_metric_data(Namespace="BenchPut", MetricData=batch), calls)
    elapsed = time.perf_counter() - t
    return lat, calls * len(batch) / elapsed


def gms(cw, end: float, calls: int) -> tuple[list[float], str]:
    start = (end - DAY) // 60 * 60 + 60

    def call():
        return cw.get_metric_statistics(Namespace="BenchDay", MetricName="day-0", StartTime=start,
                                        EndTime=start + DAY, Period=60,
                                        Statistics=["SampleCount", "Average", "Sum", "Minimum", "Maximum"])
    points = call()["Datapoints"]
    check = "ok" if len(points) >= 1400 and all(p.get("SampleCount") == 1.0 for p in points) else \
        f"wrong: {len(points)} datapoints"
    for _ in range(10):
        call()
    return timed(call, calls), check


def gmd(cw, end: float, calls: int) -> tuple[list[float], str]:
    start = (end - DAY) // 300 * 300 + 300
    queries = [{"Id": f"m{i}", "ReturnData": False,
                "MetricStat": {"Metric": {"Namespace": "BenchDay", "MetricName": f"day-{i}"}, "Period": 300,
                               "Stat": "Average"}} for i in range(10)]
    queries.append({"Id": "avg", "Expression": "AVG(METRICS())", "Label": "mean of ten"})

    def call():
        return cw.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=start + DAY - 300)
    results = call()["MetricDataResults"]
    values = results[0]["Values"] if results else []
    check = "ok" if len(values) >= 280 else f"wrong: {len(values)} values for the expression"
    for _ in range(5):
        call()
    return timed(call, calls), check


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()

    results = {}
    for name, make in (("kumo", kumo), ("moto", moto)):
        server = make().start()
        try:
            cw = server.client("cloudwatch")
            end = time.time() // 60 * 60
            put_lat, put_rate = put_throughput(cw, args.calls)
            t = time.perf_counter()
            load_day(cw, "BenchDay", [f"day-{i}" for i in range(10)], end)
            load_s = time.perf_counter() - t
            gms_lat, gms_check = gms(cw, end, args.calls)
            gmd_lat, gmd_check = gmd(cw, end, max(20, args.calls // 3))
            results[name] = dict(put_lat=put_lat, put_rate=put_rate, load_s=load_s, gms=gms_lat,
                                 gms_check=gms_check, gmd=gmd_lat, gmd_check=gmd_check, rss=server.rss_mib())
        finally:
            server.stop()

    k, m = results["kumo"], results["moto"]
    rows = [
        ("PutMetricData, 20 datapoints a call: datapoints/s", f"{k['put_rate']:.0f}", f"{m['put_rate']:.0f}",
         f"{k['put_rate'] / m['put_rate']:.2f}"),
        ("PutMetricData call: median / p99 (ms)", summary(k["put_lat"]), summary(m["put_lat"]), ""),
        ("loading 10 metrics x 1 day of 1-minute data (s)", f"{k['load_s']:.1f}", f"{m['load_s']:.1f}", ""),
        ("GetMetricStatistics, 1 day at 60 s, 5 statistics: median / p99 (ms)", summary(k["gms"]),
         summary(m["gms"]), ""),
        ("GetMetricData, AVG(METRICS()) over 10 metrics, 1 day at 300 s: median / p99 (ms)", summary(k["gmd"]),
         summary(m["gmd"]), ""),
        ("RSS after the run (MiB)", f"{k['rss']:.1f}", f"{m['rss']:.1f}", ""),
    ]
    table = ["| measure | kumo | moto server | kumo / moto |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    notes = [
        f"- GetMetricStatistics result check: kumo {k['gms_check']}, moto {m['gms_check']}",
        f"- GetMetricData expression result check: kumo {k['gmd_check']}, moto {m['gmd_check']}",
        "- kumo ran durable (SQLite WAL, every PutMetricData committed before its response); moto keeps "
        "everything in memory.",
        "- Latency is measured from the boto3 client (stock botocore picks the json protocol for CloudWatch), "
        "so it includes boto3's own work. A check that says wrong means that server answered without the right "
        "numbers (moto returns an empty series for metric-math expressions).",
    ]
    body = "\n".join(table) + "\n\n" + "\n".join(notes)
    print(body)
    if not args.no_record:
        record("CloudWatch: kumo vs moto server", "python bench/bench_cloudwatch.py", body)


if __name__ == "__main__":
    main()
