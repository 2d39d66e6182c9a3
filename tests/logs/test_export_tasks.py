"""CloudWatch Logs export tasks writing a group's events to S3 (<prefix>/<taskId>/<stream>/000000.gz)."""

from __future__ import annotations

import gzip
import time
import uuid

import pytest
from botocore.exceptions import ClientError


def _finished(logs, task_id, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        task = logs.describe_export_tasks(taskId=task_id)["exportTasks"][0]
        if task["status"]["code"] not in ("PENDING", "RUNNING"):
            return task
        assert time.monotonic() < deadline, task
        time.sleep(0.05)


def test_export_task_writes_each_stream_gzipped(aws, kumo_server):
    logs, s3 = aws("logs"), aws("s3")
    bucket = f"exports-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    now = int(kumo_server.kumo.clock.now() * 1000)
    logs.create_log_group(logGroupName="/app/web")
    for stream, messages in (("a", ["one", "two"]), ("b", ["three"]), ("c-late", ["late"])):
        logs.create_log_stream(logGroupName="/app/web", logStreamName=stream)
        offset = 10_000_000 if stream == "c-late" else 0
        logs.put_log_events(logGroupName="/app/web", logStreamName=stream, logEvents=[
            {"timestamp": now + offset + i, "message": m} for i, m in enumerate(messages)])
    with pytest.raises(ClientError) as err:
        logs.create_export_task(logGroupName="/app/web", fromTime=now, to=now + 1000,
                                destination=f"missing-{uuid.uuid4().hex[:8]}")
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    task_id = logs.create_export_task(taskName="nightly", logGroupName="/app/web", fromTime=now - 1,
                                      to=now + 1000, destination=bucket, destinationPrefix="exported")["taskId"]
    task = _finished(logs, task_id)
    assert task["status"]["code"] == "COMPLETED" and task["taskName"] == "nightly"
    assert task["destination"] == bucket and task["destinationPrefix"] == "exported"
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == sorted(["exported/aws-logs-write-test", f"exported/{task_id}/a/000000.gz",
                           f"exported/{task_id}/b/000000.gz"])
    lines = gzip.decompress(s3.get_object(Bucket=bucket, Key=f"exported/{task_id}/a/000000.gz")["Body"].read())
    lines = lines.decode().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["one", "two"]
    assert lines[0].split(" ")[0].endswith("Z") and "T" in lines[0].split(" ")[0]
    with pytest.raises(ClientError) as err:
        logs.cancel_export_task(taskId=task_id)
    assert err.value.response["Error"]["Code"] == "InvalidOperationException"
    assert [t["taskId"] for t in logs.describe_export_tasks(statusCode="COMPLETED")["exportTasks"]] == [task_id]
