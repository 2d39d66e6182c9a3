"""Metric streams through boto3: stored with AWS's checks, started and stopped, tagged."""

import pytest
from botocore.exceptions import ClientError


def code_of(call) -> str:
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


def test_metric_streams(cw, account):
    firehose = f"arn:aws:firehose:us-east-1:{account}:deliverystream/metrics"
    role = f"arn:aws:iam::{account}:role/stream"
    arn = cw.put_metric_stream(Name="all-ec2", FirehoseArn=firehose, RoleArn=role, OutputFormat="json",
                               IncludeFilters=[{"Namespace": "AWS/EC2", "MetricNames": ["CPUUtilization"]}],
                               Tags=[{"Key": "team", "Value": "obs"}])["Arn"]
    assert arn == f"arn:aws:cloudwatch:us-east-1:{account}:metric-stream/all-ec2"
    got = cw.get_metric_stream(Name="all-ec2")
    assert got["State"] == "running" and got["IncludeFilters"][0]["Namespace"] == "AWS/EC2"
    assert got["OutputFormat"] == "json" and got["FirehoseArn"] == firehose
    cw.stop_metric_streams(Names=["all-ec2"])
    assert cw.get_metric_stream(Name="all-ec2")["State"] == "stopped"
    cw.start_metric_streams(Names=["all-ec2"])
    assert [(e["Name"], e["State"]) for e in cw.list_metric_streams()["Entries"]] == [("all-ec2", "running")]
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "obs"}]

    assert code_of(lambda: cw.put_metric_stream(Name="x", FirehoseArn=firehose, RoleArn=role, OutputFormat="json",
                                                IncludeFilters=[{"Namespace": "A"}],
                                                ExcludeFilters=[{"Namespace": "B"}])) == "InvalidParameterCombination"
    assert code_of(lambda: cw.put_metric_stream(Name="x", FirehoseArn="arn:aws:s3:::bucket", RoleArn=role,
                                                OutputFormat="json")) == "InvalidParameterValue"
    assert code_of(lambda: cw.put_metric_stream(Name="bad name", FirehoseArn=firehose, RoleArn=role,
                                                OutputFormat="json")) == "InvalidParameterValue"
    cw.delete_metric_stream(Name="all-ec2")
    assert code_of(lambda: cw.get_metric_stream(Name="all-ec2")) == "ResourceNotFoundException"
    assert cw.list_metric_streams()["Entries"] == []
