"""Bucket features survive kill -9: configurations are durable, and a restarted kumo's lifecycle controller
still expires objects, and its notifications still deliver."""

from __future__ import annotations

import json
import urllib.request


def _advance(proc, seconds: float) -> None:
    req = urllib.request.Request(proc.endpoint + "/_kumo/clock", data=json.dumps({"advance": seconds}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(req, timeout=60).read()


def test_lifecycle_and_notifications_after_kill_9(kumo_process):
    first = kumo_process().start()
    s3, sqs = first.client("s3"), first.client("sqs")
    s3.create_bucket(Bucket="durable-features")
    url = sqs.create_queue(QueueName="events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_lifecycle_configuration(Bucket="durable-features", LifecycleConfiguration={"Rules": [
        {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}]})
    s3.put_bucket_notification_configuration(Bucket="durable-features", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectRemoved:*", "s3:LifecycleExpiration:*"]}]})
    s3.put_bucket_cors(Bucket="durable-features", CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]})
    s3.put_object(Bucket="durable-features", Key="tmp/a", Body=b"1")
    first.kill9()
    second = kumo_process(like=first).start()
    s3, sqs = second.client("s3"), second.client("sqs")
    assert s3.get_bucket_cors(Bucket="durable-features")["CORSRules"][0]["AllowedMethods"] == ["GET"]
    _advance(second, 2 * 86400)
    assert "Contents" not in s3.list_objects_v2(Bucket="durable-features")
    bodies = []
    for _ in range(10):
        bodies += [json.loads(m["Body"]) for m in sqs.receive_message(
            QueueUrl=url, WaitTimeSeconds=2, MaxNumberOfMessages=10).get("Messages", [])]
        if any("Records" in b for b in bodies):
            break
    records = [b["Records"][0] for b in bodies if "Records" in b]
    assert [r["eventName"] for r in records] == ["LifecycleExpiration:Delete"]
    assert records[0]["s3"]["object"]["key"] == "tmp/a"
