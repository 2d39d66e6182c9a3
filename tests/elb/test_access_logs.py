"""Classic Load Balancer access logs written to S3 per EmitInterval of kumo's clock, uncompressed."""

from __future__ import annotations

import time
import uuid

import pytest
from botocore.exceptions import ClientError

from .conftest import get, nodes


def test_classic_access_log_every_five_minutes(aws, account, endpoint, kumo_server):
    elb, s3 = aws("elb"), aws("s3")
    bucket = f"clb-logs-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    elb.create_load_balancer(LoadBalancerName="logged", AvailabilityZones=["us-east-1a"], Listeners=[
        {"Protocol": "HTTP", "LoadBalancerPort": 8811, "InstanceProtocol": "HTTP", "InstancePort": 8080}])
    with pytest.raises(ClientError) as err:
        elb.modify_load_balancer_attributes(LoadBalancerName="logged", LoadBalancerAttributes={"AccessLog": {
            "Enabled": True, "S3BucketName": f"missing-{uuid.uuid4().hex[:8]}", "EmitInterval": 5}})
    assert err.value.response["Error"]["Code"] == "InvalidConfigurationRequest"
    elb.modify_load_balancer_attributes(LoadBalancerName="logged", LoadBalancerAttributes={"AccessLog": {
        "Enabled": True, "S3BucketName": bucket, "S3BucketPrefix": "clb", "EmitInterval": 5}})
    s3.head_object(Bucket=bucket, Key=f"clb/AWSLogs/{account}/ELBAccessLogTestFile")
    ip = nodes(endpoint, "logged", account)["us-east-1a"]
    deadline = time.monotonic() + 10
    while True:  # the listener serves once the workers have the new config
        try:
            status = get(ip, 8811, "/nobody-home")[0]
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert status == 503  # no instance registered
    kumo_server.advance(300)
    prefix = f"clb/AWSLogs/{account}/elasticloadbalancing/us-east-1/"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    assert len(keys) == 1 and keys[0].endswith(".log") and f"_elasticloadbalancing_us-east-1_logged_" in keys[0]
    line = s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read().decode().strip()
    fields = line.split(" ")
    assert fields[1] == "logged" and fields[3] == "-" and fields[7:9] == ["503", "-"]
    assert f'"GET http://{ip}:8811/nobody-home HTTP/1.1"' in line
