"""Bus permissions (PutPermission, RemovePermission, DescribeEventBus's Policy) and cross-account delivery."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Clients, new_account
from tests.sqs.util import drain, queue_with_arn


def test_put_and_remove_permission_shape_the_bus_policy(aws, account):
    events = aws("events")
    other = new_account()
    events.create_event_bus(Name="shared")
    events.put_permission(EventBusName="shared", Action="events:PutEvents", Principal=other, StatementId="other")
    events.put_permission(EventBusName="shared", Action="events:PutEvents", Principal="*", StatementId="org",
                          Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-abc"})
    desc = events.describe_event_bus(Name="shared")
    policy = json.loads(desc["Policy"])
    arn = f"arn:aws:events:us-east-1:{account}:event-bus/shared"
    assert policy["Statement"][0] == {"Sid": "other", "Effect": "Allow",
                                      "Principal": {"AWS": f"arn:aws:iam::{other}:root"},
                                      "Action": "events:PutEvents", "Resource": arn}
    assert policy["Statement"][1]["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}
    events.remove_permission(EventBusName="shared", StatementId="org")
    assert [s["Sid"] for s in json.loads(events.describe_event_bus(Name="shared")["Policy"])["Statement"]] == ["other"]
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.remove_permission(EventBusName="shared", StatementId="org")
    for bad in ({"Principal": "12345"}, {"Action": "events:DeleteRule"}):
        with pytest.raises(ClientError) as e:
            events.put_permission(**{"EventBusName": "shared", "Action": "events:PutEvents", "Principal": other,
                                     "StatementId": "bad", **bad})
        assert e.value.response["Error"]["Code"] == "ValidationException"
    events.put_permission(Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "all", "Effect": "Allow", "Principal": "*", "Action": "events:PutEvents", "Resource": "*"}]}))
    assert "all" in events.describe_event_bus()["Policy"]
    events.remove_permission(RemoveAllPermissions=True, EventBusName="shared")
    assert "Policy" not in events.describe_event_bus(Name="shared")


def test_rule_delivers_to_another_accounts_bus_only_when_its_policy_allows(endpoint, account):
    sender, receiver = Clients(endpoint, account), Clients(endpoint, new_account())
    sqs = receiver("sqs")
    url, queue_arn = queue_with_arn(sqs, "central")
    r_events, s_events = receiver("events"), sender("events")
    r_events.create_event_bus(Name="central")
    bus_arn = r_events.describe_event_bus(Name="central")["Arn"]
    r_events.put_rule(Name="collect", EventBusName="central", EventPattern=json.dumps({"source": ["app"]}))
    r_events.put_targets(Rule="collect", EventBusName="central", Targets=[{"Id": "q", "Arn": queue_arn}])

    dlq_url, dlq_arn = queue_with_arn(sender("sqs"), "forward-dlq")
    s_events.put_rule(Name="forward", EventPattern=json.dumps({"source": ["app"]}))
    s_events.put_targets(Rule="forward", Targets=[{"Id": "central", "Arn": bus_arn,
                                                   "DeadLetterConfig": {"Arn": dlq_arn}}])
    s_events.put_events(Entries=[{"Source": "app", "DetailType": "t", "Detail": "{}"}])
    assert drain(sqs, url) == []  # no permission yet: refused, to the dead-letter queue
    [dead] = drain(sender("sqs"), dlq_url)
    assert dead["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "NO_PERMISSIONS"

    r_events.put_permission(EventBusName="central", Action="events:PutEvents", Principal=account,
                            StatementId="sender")
    s_events.put_events(Entries=[{"Source": "app", "DetailType": "t", "Detail": json.dumps({"k": 1})}])
    [msg] = drain(sqs, url)
    event = json.loads(msg["Body"])
    assert event["account"] == account and event["detail"] == {"k": 1} and "_forwarded" not in event


def test_put_events_on_another_accounts_bus_by_arn(endpoint, account):
    owner = Clients(endpoint, new_account())
    sqs, events = owner("sqs"), owner("events")
    url, queue_arn = queue_with_arn(sqs, "inbox")
    events.create_event_bus(Name="inbox")
    bus_arn = events.describe_event_bus(Name="inbox")["Arn"]
    events.put_rule(Name="all", EventBusName="inbox", EventPattern=json.dumps({"source": ["far"]}))
    events.put_targets(Rule="all", EventBusName="inbox", Targets=[{"Id": "q", "Arn": queue_arn}])
    sender = Clients(endpoint, account)("events")
    entry = {"Source": "far", "DetailType": "t", "Detail": "{}", "EventBusName": bus_arn}
    out = sender.put_events(Entries=[entry])
    assert out["FailedEntryCount"] == 1 and out["Entries"][0]["ErrorCode"] == "AccessDeniedException"
    assert drain(sqs, url) == []
    events.put_permission(EventBusName="inbox", Action="events:PutEvents", Principal=account, StatementId="s")
    assert sender.put_events(Entries=[entry])["FailedEntryCount"] == 0
    [msg] = drain(sqs, url)
    assert json.loads(msg["Body"])["account"] == account
