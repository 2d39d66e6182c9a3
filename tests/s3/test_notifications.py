"""S3 event notifications through boto3 against a real kumo: SQS, SNS, Lambda and EventBridge destinations,
filters, the test event, and the destination checks."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from ..lambda_.conftest import Functions, TRUST, wait_active, zip_of


def _queue(aws, name=None):
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=name or f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, url, arn


def _bodies(sqs, url, count=1):
    out = []
    for _ in range(20):
        for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, MaxNumberOfMessages=10).get("Messages", []):
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if len(out) >= count:
            return out
    raise AssertionError(f"expected {count} messages, got {out}")


def test_object_created_to_sqs_with_aws_event_shape_and_filters(aws, s3, bucket):
    sqs, url, arn = _queue(aws)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [{
        "Id": "images", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "img/"}, {"Name": "suffix", "Value": ".jpg"}]}},
    }]})
    test = _bodies(sqs, url)[0]
    assert test["Service"] == "Amazon S3" and test["Event"] == "s3:TestEvent" and test["Bucket"] == bucket
    s3.put_object(Bucket=bucket, Key="img/skipped.png", Body=b"no")
    put = s3.put_object(Bucket=bucket, Key="img/a b.jpg", Body=b"hello")
    record = _bodies(sqs, url)[0]["Records"][0]
    assert record["eventVersion"] == "2.1" and record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put" and record["awsRegion"] == "us-east-1"
    assert record["s3"]["configurationId"] == "images"
    assert record["s3"]["bucket"]["name"] == bucket and record["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    obj = record["s3"]["object"]
    assert obj["key"] == "img/a+b.jpg" and obj["size"] == 5 and obj["eTag"] == put["ETag"].strip('"')
    assert len(obj["sequencer"]) >= 16
    assert record["eventTime"].endswith("Z")
    assert "Messages" not in sqs.receive_message(QueueUrl=url)  # the .png was filtered out
    conf = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert conf["QueueConfigurations"][0]["QueueArn"] == arn


def test_deletes_and_delete_markers_are_notified(aws, s3, bucket):
    sqs, url, arn = _queue(aws)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [{
        "QueueArn": arn, "Events": ["s3:ObjectRemoved:*"]}]})
    _bodies(sqs, url)  # the test event
    version = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=version)
    records = [b["Records"][0] for b in _bodies(sqs, url, 2)]
    assert [r["eventName"] for r in records] == ["ObjectRemoved:DeleteMarkerCreated", "ObjectRemoved:Delete"]
    assert records[0]["s3"]["object"]["versionId"] == marker
    assert records[1]["s3"]["object"]["versionId"] == version and "size" not in records[1]["s3"]["object"]


def test_object_created_invokes_lambda_with_the_event(aws, s3, bucket):
    iam, lam = aws("iam"), aws("lambda")
    role = iam.create_role(RoleName="s3-notified", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    sqs, url, out_arn = _queue(aws)
    fns = Functions(lam, role)
    try:
        fn = fns.python("on-upload", "def handler(event, context):\n    return {'keys': "
                        "[r['s3']['object']['key'] for r in event['Records']]}\n")
        lam.put_function_event_invoke_config(FunctionName="on-upload",
                                             DestinationConfig={"OnSuccess": {"Destination": out_arn}})
        lam.add_permission(FunctionName="on-upload", StatementId="s3", Action="lambda:InvokeFunction",
                           Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{bucket}")
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"Id": "fn", "LambdaFunctionArn": fn["FunctionArn"],
                                              "Events": ["s3:ObjectCreated:Put"]}]})
        s3.put_object(Bucket=bucket, Key="uploads/report.csv", Body=b"a,b\n")
        outcome = _bodies(sqs, url)[0]
        event = outcome["requestPayload"]
        record = event["Records"][0]
        assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
        assert record["s3"]["bucket"]["name"] == bucket and record["s3"]["configurationId"] == "fn"
        assert record["s3"]["object"]["key"] == "uploads/report.csv" and record["s3"]["object"]["size"] == 4
        assert outcome["responsePayload"] == {"keys": ["uploads/report.csv"]}
    finally:
        lam.delete_function(FunctionName="on-upload")


def test_sns_destination_and_eventbridge(aws, s3, bucket):
    sqs, url, arn = _queue(aws)
    sns, events = aws("sns"), aws("events")
    topic = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:8]}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    events.put_rule(Name="s3-created", EventPattern=json.dumps({"source": ["aws.s3"],
                                                                "detail-type": ["Object Created"]}))
    bus_url = aws("sqs").create_queue(QueueName=f"eb-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    bus_arn = sqs.get_queue_attributes(QueueUrl=bus_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_targets(Rule="s3-created", Targets=[{"Id": "q", "Arn": bus_arn}])
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}],
        "EventBridgeConfiguration": {}})
    envelope = _bodies(sqs, url)[0]
    assert envelope["Subject"] == "Amazon S3 Notification"
    assert json.loads(envelope["Message"])["Event"] == "s3:TestEvent"
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"abc")
    message = json.loads(_bodies(sqs, url)[0]["Message"])
    assert message["Records"][0]["s3"]["object"]["key"] == "doc.txt"
    event = _bodies(sqs, bus_url)[0]
    assert event["source"] == "aws.s3" and event["detail-type"] == "Object Created"
    assert event["resources"] == [f"arn:aws:s3:::{bucket}"]
    assert event["detail"]["bucket"] == {"name": bucket}
    assert event["detail"]["object"]["key"] == "doc.txt" and event["detail"]["object"]["size"] == 3
    assert event["detail"]["reason"] == "PutObject"
    assert "EventBridgeConfiguration" in s3.get_bucket_notification_configuration(Bucket=bucket)


def test_destination_and_overlap_checks(aws, s3, bucket, account):
    missing = f"arn:aws:sqs:us-east-1:{account}:nope"
    with pytest.raises(ClientError) as err:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": missing, "Events": ["s3:ObjectCreated:*"]}]})
    assert err.value.response["Error"]["Code"] == "InvalidArgument"
    assert err.value.response["Error"]["Message"] == "Unable to validate the following destination configurations"
    _sqs, _url, arn = _queue(aws)
    with pytest.raises(ClientError) as err:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]},
            {"QueueArn": arn, "Events": ["s3:ObjectCreated:Put"],
             "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a/"}]}}}]})
    assert "overlap" in err.value.response["Error"]["Message"]
    assert s3.get_bucket_notification_configuration(Bucket=bucket).get("QueueConfigurations") is None
