"""S3 benchmark: PUT and GET throughput for 1 KiB, 1 MiB and 100 MiB objects, and the small-object p50 latency,
for kumo beside moto's server in the same run, and beside the disk's own copy speed (``cp`` of the same file).

Clients: boto3 (one client, sequential calls, as an application would) for every size; for the 100 MiB GET
also curl on a presigned URL, a client that is not the bottleneck, since the target (100 MiB GET at >= 50%
of the disk's copy speed) is about kumo's read path.  kumo runs durable (bodies fsynced, metadata committed
before the answer), moto keeps objects in memory.

    python bench/bench_s3.py [--small 300] [--medium 30] [--large 3] [--no-record]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).parent))
from common import kumo, moto, pct, record  # noqa: E402

KiB, MiB = 1024, 1024 * 1024


def _file(path: Path, size: int) -> Path:
    with open(path, "wb") as f:
        for _ in range(size // MiB):
            f.write(os.urandom(MiB))
    return path


def disk_copy(src: Path, runs: int = 5) -> float:
    """MiB/s of copying the 100 MiB file on the same file system, as cp does (copy_file_range, in the kernel),
    timed in-process so no process start is counted (median of runs; the file is in the page cache, as the
    object's blob is when kumo serves it)."""
    speeds = []
    for i in range(runs):
        dst = src.with_name(f"copy-{i}")
        t = time.perf_counter()  # real-time measurement
        shutil.copyfile(src, dst)
        speeds.append(src.stat().st_size / MiB / (time.perf_counter() - t))
        dst.unlink()
    return statistics.median(speeds)


def small(s3, bucket: str, n: int) -> dict:
    body = os.urandom(KiB)
    put, get = [], []
    for i in range(n):
        t = time.perf_counter()  # real-time measurement
        s3.put_object(Bucket=bucket, Key=f"small/{i}", Body=body)
        put.append((time.perf_counter() - t) * 1000)
    for i in range(n):
        t = time.perf_counter()  # real-time measurement
        s3.get_object(Bucket=bucket, Key=f"small/{i}")["Body"].read()
        get.append((time.perf_counter() - t) * 1000)
    return {"put_p50": statistics.median(put), "put_p99": pct(put, 99), "get_p50": statistics.median(get),
            "get_p99": pct(get, 99), "put_ops": n / (sum(put) / 1000), "get_ops": n / (sum(get) / 1000)}


def throughput(s3, bucket: str, path: Path, n: int) -> tuple[float, float]:
    """(PUT MiB/s, GET MiB/s) of n sequential single PUTs and GETs of the file."""
    size = path.stat().st_size
    key = f"t/{size}"
    t = time.perf_counter()  # real-time measurement
    for i in range(n):
        with open(path, "rb") as f:
            s3.put_object(Bucket=bucket, Key=key, Body=f)
    put = n * size / MiB / (time.perf_counter() - t)
    t = time.perf_counter()  # real-time measurement
    for i in range(n):
        stream = s3.get_object(Bucket=bucket, Key=key)["Body"]
        got = 0
        for chunk in stream.iter_chunks(1 << 20):
            got += len(chunk)
        assert got == size
    get = n * size / MiB / (time.perf_counter() - t)
    return put, get


def curl_get(s3, bucket: str, key: str, size: int, n: int) -> float:
    """Median MiB/s of n GETs by curl of a presigned URL, as curl measures them (its start not counted)."""
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    speeds = []
    for _ in range(n):
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{speed_download}", url],
                             capture_output=True, text=True, check=True).stdout.split()
        assert int(out[0]) == size, out
        speeds.append(float(out[1]) / MiB)
    return statistics.median(speeds)


def _client(server):
    # kumo's documented root pair: presigned URLs are verified against its secret.
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))


def run(server, files: dict, args) -> dict:
    s3 = _client(server)
    bucket = "bench-s3"
    s3.create_bucket(Bucket=bucket)
    out = {"small": small(s3, bucket, args.small)}
    out["1MiB"] = throughput(s3, bucket, files["1MiB"], args.medium)
    out["100MiB"] = throughput(s3, bucket, files["100MiB"], args.large)
    out["100MiB_curl"] = curl_get(s3, bucket, f"t/{100 * MiB}", 100 * MiB, max(args.large, 5))
    out["rss"] = server.rss_mib()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=300)
    parser.add_argument("--medium", type=int, default=30)
    parser.add_argument("--large", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-s3-"))
    files = {"1MiB": _file(tmp / "one", MiB), "100MiB": _file(tmp / "hundred", 100 * MiB)}
    disk = disk_copy(files["100MiB"])
    results = {}
    for make in (kumo, moto):
        server = make().start()
        try:
            results[server.name] = run(server, files, args)
        finally:
            server.stop()
    for f in files.values():
        f.unlink()
    tmp.rmdir()

    k, m = results["kumo"], results["moto"]
    lines = [
        f"Disk copy speed (the 100 MiB file copied as cp does, in the kernel, same file system): **{disk:.0f} MiB/s**.",
        "",
        "| | kumo | moto |",
        "| --- | --- | --- |",
        f"| 1 KiB PUT p50 / p99 (ms) | {k['small']['put_p50']:.2f} / {k['small']['put_p99']:.2f} | "
        f"{m['small']['put_p50']:.2f} / {m['small']['put_p99']:.2f} |",
        f"| 1 KiB GET p50 / p99 (ms) | {k['small']['get_p50']:.2f} / {k['small']['get_p99']:.2f} | "
        f"{m['small']['get_p50']:.2f} / {m['small']['get_p99']:.2f} |",
        f"| 1 KiB PUT / GET (ops/s) | {k['small']['put_ops']:.0f} / {k['small']['get_ops']:.0f} | "
        f"{m['small']['put_ops']:.0f} / {m['small']['get_ops']:.0f} |",
        f"| 1 MiB PUT / GET (MiB/s) | {k['1MiB'][0]:.0f} / {k['1MiB'][1]:.0f} | "
        f"{m['1MiB'][0]:.0f} / {m['1MiB'][1]:.0f} |",
        f"| 100 MiB PUT / GET, boto3 (MiB/s) | {k['100MiB'][0]:.0f} / {k['100MiB'][1]:.0f} | "
        f"{m['100MiB'][0]:.0f} / {m['100MiB'][1]:.0f} |",
        f"| 100 MiB GET, curl (MiB/s) | {k['100MiB_curl']:.0f} ({k['100MiB_curl'] / disk:.0%} of disk copy) | "
        f"{m['100MiB_curl']:.0f} ({m['100MiB_curl'] / disk:.0%}) |",
        f"| server RSS after the run (MiB) | {k['rss']:.0f} | {m['rss']:.0f} |",
        "",
        f"Small objects: {args.small} sequential calls; 1 MiB: {args.medium}; 100 MiB: {args.large} (single PUTs).",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_record:
        record("S3 throughput", "python bench/bench_s3.py " + " ".join(sys.argv[1:]), body)


if __name__ == "__main__":
    main()
