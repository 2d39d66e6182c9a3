"""Partner event sources: a partner account's events reach a customer's partner bus once it takes the source."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Clients, new_account
from tests.sqs.util import drain, queue_with_arn

NAME = "aws.partner/saas.example.com/12345/orders"


def test_partner_source_lifecycle_and_delivery(endpoint, account):
    partner, customer = Clients(endpoint, new_account())("events"), Clients(endpoint, account)
    events, sqs = customer("events"), customer("sqs")
    arn = partner.create_partner_event_source(Name=NAME, Account=account)["EventSourceArn"]
    assert arn == f"arn:aws:events:us-east-1::event-source/{NAME}"
    described = partner.describe_partner_event_source(Name=NAME)
    assert (described["Arn"], described["Name"]) == (arn, NAME)
    assert [s["Name"] for s in partner.list_partner_event_sources(NamePrefix="aws.partner/saas")[
        "PartnerEventSources"]] == [NAME]
    [row] = partner.list_partner_event_source_accounts(EventSourceName=NAME)["PartnerEventSourceAccounts"]
    assert row["Account"] == account and row["State"] == "PENDING"

    seen = events.describe_event_source(Name=NAME)
    assert seen["State"] == "PENDING" and seen["CreatedBy"] == "saas.example.com" and "ExpirationTime" in seen
    assert [s["Name"] for s in events.list_event_sources(NamePrefix="aws.partner/")["EventSources"]] == [NAME]
    with pytest.raises(ClientError) as e:
        events.activate_event_source(Name=NAME)
    assert e.value.response["Error"]["Code"] == "InvalidStateException"

    # Events before the customer takes the source are dropped.
    entry = {"Source": NAME, "DetailType": "order", "Detail": json.dumps({"id": 1})}
    assert partner.put_partner_events(Entries=[entry])["FailedEntryCount"] == 0
    bus = events.create_event_bus(Name=NAME, EventSourceName=NAME)["EventBusArn"]
    assert events.describe_event_source(Name=NAME)["State"] == "ACTIVE"
    url, queue = queue_with_arn(sqs, "partner-orders")
    events.put_rule(Name="orders", EventBusName=NAME, EventPattern=json.dumps({"source": [NAME]}))
    events.put_targets(Rule="orders", EventBusName=NAME, Targets=[{"Id": "q", "Arn": queue}])
    out = partner.put_partner_events(Entries=[dict(entry, Detail=json.dumps({"id": 2})),
                                              dict(entry, Detail="not json")])
    assert out["FailedEntryCount"] == 1 and out["Entries"][1]["ErrorCode"] == "MalformedDetail"
    [msg] = drain(sqs, url)
    event = json.loads(msg["Body"])
    assert event["detail"] == {"id": 2} and event["account"] == account and event["source"] == NAME
    assert bus.endswith(f":event-bus/{NAME}")

    events.deactivate_event_source(Name=NAME)
    assert events.describe_event_source(Name=NAME)["State"] == "DISABLED"
    partner.put_partner_events(Entries=[entry])
    assert drain(sqs, url) == []
    events.activate_event_source(Name=NAME)
    partner.put_partner_events(Entries=[entry])
    assert len(drain(sqs, url)) == 1

    partner.delete_partner_event_source(Name=NAME, Account=account)
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_event_source(Name=NAME)
    out = partner.put_partner_events(Entries=[entry])
    assert out["FailedEntryCount"] == 1
    with pytest.raises(ClientError) as e:
        partner.create_partner_event_source(Name="not-a-partner-name", Account=account)
    assert e.value.response["Error"]["Code"] == "ValidationException"
