"""Logs resource policies, destinations, data protection and index policies, deletion protection (boto3)."""

import json

import pytest
from botocore.exceptions import ClientError


def code_of(call) -> str:
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


@pytest.fixture
def logs(aws):
    return aws("logs")


POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "route53.amazonaws.com"},
    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "arn:aws:logs:*:*:log-group:/r53/*"}]})


def test_resource_policies(logs):
    first = logs.put_resource_policy(policyName="r53", policyDocument=POLICY)["resourcePolicy"]
    assert first["policyName"] == "r53" and first["policyDocument"] == POLICY
    listed = logs.describe_resource_policies()["resourcePolicies"]
    assert [p["policyName"] for p in listed] == ["r53"]
    assert code_of(lambda: logs.put_resource_policy(policyName="bad", policyDocument="{not json")) == \
        "InvalidParameterException"
    for i in range(9):
        logs.put_resource_policy(policyName=f"p{i}", policyDocument=POLICY)
    assert code_of(lambda: logs.put_resource_policy(policyName="eleventh", policyDocument=POLICY)) == \
        "LimitExceededException"
    logs.put_resource_policy(policyName="r53", policyDocument=POLICY)  # replacing one is not a new one
    logs.delete_resource_policy(policyName="r53")
    assert code_of(lambda: logs.delete_resource_policy(policyName="r53")) == "ResourceNotFoundException"


def test_destinations(logs, account):
    target = f"arn:aws:kinesis:us-east-1:{account}:stream/central"
    role = f"arn:aws:iam::{account}:role/CWLtoKinesis"
    dest = logs.put_destination(destinationName="central", targetArn=target, roleArn=role)["destination"]
    assert dest["arn"] == f"arn:aws:logs:us-east-1:{account}:destination:central" and dest["targetArn"] == target
    access = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "logs:PutSubscriptionFilter",
        "Resource": dest["arn"]}]})
    logs.put_destination_policy(destinationName="central", accessPolicy=access)
    found = logs.describe_destinations(DestinationNamePrefix="cen")["destinations"]
    assert [(d["destinationName"], d["accessPolicy"]) for d in found] == [("central", access)]
    assert code_of(lambda: logs.put_destination(destinationName="x", targetArn="arn:aws:sqs:us-east-1:1:q",
                                                roleArn=role)) == "InvalidParameterException"
    # A subscription to it is refused as AWS refuses a Kinesis stream that is not ACTIVE (kumo has no Kinesis).
    logs.create_log_group(logGroupName="/dest/src")
    with pytest.raises(ClientError) as e:
        logs.put_subscription_filter(logGroupName="/dest/src", filterName="f", filterPattern="",
                                     destinationArn=dest["arn"])
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    logs.delete_destination(destinationName="central")
    assert logs.describe_destinations()["destinations"] == []
    assert code_of(lambda: logs.delete_destination(destinationName="central")) == "ResourceNotFoundException"
    assert code_of(lambda: logs.put_destination_policy(destinationName="central", accessPolicy=access)) == \
        "ResourceNotFoundException"


DATA_POLICY = json.dumps({"Name": "pii", "Version": "2021-06-01", "Statement": [
    {"Sid": "audit", "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/EmailAddress"],
     "Operation": {"Audit": {"FindingsDestination": {}}}},
    {"Sid": "redact", "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/EmailAddress"],
     "Operation": {"Deidentify": {"MaskConfig": {}}}}]})


def test_data_protection_index_policies_and_deletion_protection(logs, kumo_server):
    now_ms = int(kumo_server.kumo.clock.now() * 1000)
    logs.create_log_group(logGroupName="/dp/app")
    logs.create_log_stream(logGroupName="/dp/app", logStreamName="s")
    assert "policyDocument" not in logs.get_data_protection_policy(logGroupIdentifier="/dp/app")
    logs.put_data_protection_policy(logGroupIdentifier="/dp/app", policyDocument=DATA_POLICY)
    assert logs.get_data_protection_policy(logGroupIdentifier="/dp/app")["policyDocument"] == DATA_POLICY
    group = logs.describe_log_groups(logGroupNamePrefix="/dp/app")["logGroups"][0]
    assert group["dataProtectionStatus"] == "ACTIVATED"
    assert code_of(lambda: logs.put_data_protection_policy(logGroupIdentifier="/dp/app",
                                                           policyDocument='{"Statement": 1}')) == \
        "InvalidParameterException"
    logs.delete_data_protection_policy(logGroupIdentifier="/dp/app")
    assert code_of(lambda: logs.delete_data_protection_policy(logGroupIdentifier="/dp/app")) == \
        "ResourceNotFoundException"

    logs.put_log_events(logGroupName="/dp/app", logStreamName="s",
                        logEvents=[{"timestamp": now_ms, "message": '{"requestId": "r1"}'}])
    logs.put_index_policy(logGroupIdentifier="/dp/app", policyDocument=json.dumps({"Fields": ["requestId"]}))
    policies = logs.describe_index_policies(logGroupIdentifiers=["/dp/app"])["indexPolicies"]
    assert [json.loads(p["policyDocument"]) for p in policies] == [{"Fields": ["requestId"]}]
    indexes = logs.describe_field_indexes(logGroupIdentifiers=["/dp/app"])["fieldIndexes"]
    assert [(i["fieldIndexName"], i["firstEventTime"]) for i in indexes] == [("requestId", now_ms)]
    logs.delete_index_policy(logGroupIdentifier="/dp/app")
    assert logs.describe_index_policies(logGroupIdentifiers=["/dp/app"])["indexPolicies"] == []

    logs.put_log_group_deletion_protection(logGroupIdentifier="/dp/app", deletionProtectionEnabled=True)
    assert code_of(lambda: logs.delete_log_group(logGroupName="/dp/app")) == "OperationAbortedException"
    logs.put_log_group_deletion_protection(logGroupIdentifier="/dp/app", deletionProtectionEnabled=False)
    logs.delete_log_group(logGroupName="/dp/app")
