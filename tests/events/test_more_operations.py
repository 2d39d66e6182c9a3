"""EventBridge operations no other test reaches: ListTargetsByRule and UpdateEventBus."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.sqs.util import queue_with_arn


def _code(call) -> str:
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


def test_list_targets_by_rule_on_its_bus_in_pages(aws):
    events, sqs = aws("events"), aws("sqs")
    _url, queue = queue_with_arn(sqs, "list-targets")
    events.create_event_bus(Name="orders")
    events.put_rule(Name="paid", EventBusName="orders", EventPattern=json.dumps({"source": ["shop"]}))
    targets = [{"Id": "t1", "Arn": queue},
               {"Id": "t2", "Arn": queue, "Input": json.dumps({"fixed": True})},
               {"Id": "t3", "Arn": queue, "RetryPolicy": {"MaximumRetryAttempts": 3,
                                                          "MaximumEventAgeInSeconds": 120}}]
    assert events.put_targets(Rule="paid", EventBusName="orders", Targets=targets)["FailedEntryCount"] == 0

    listed = events.list_targets_by_rule(Rule="paid", EventBusName="orders")["Targets"]
    assert sorted(listed, key=lambda t: t["Id"]) == targets

    seen, token = [], None
    for _ in range(5):
        page = events.list_targets_by_rule(Rule="paid", EventBusName="orders", Limit=2,
                                           **({"NextToken": token} if token else {}))
        assert len(page["Targets"]) <= 2
        seen += [t["Id"] for t in page["Targets"]]
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == ["t1", "t2", "t3"]

    bus_arn = events.describe_event_bus(Name="orders")["Arn"]
    by_arn = events.list_targets_by_rule(Rule="paid", EventBusName=bus_arn)["Targets"]
    assert {t["Id"] for t in by_arn} == {"t1", "t2", "t3"}

    events.remove_targets(Rule="paid", EventBusName="orders", Ids=["t2"])
    assert {t["Id"] for t in events.list_targets_by_rule(Rule="paid", EventBusName="orders")["Targets"]} == {
        "t1", "t3"}
    events.put_rule(Name="bare", EventBusName="orders", EventPattern=json.dumps({"source": ["x"]}))
    assert events.list_targets_by_rule(Rule="bare", EventBusName="orders")["Targets"] == []

    # The rule lives on "orders": on the default bus there is no such rule.
    assert _code(lambda: events.list_targets_by_rule(Rule="paid")) == "ResourceNotFoundException"
    assert _code(lambda: events.list_targets_by_rule(Rule="nope", EventBusName="orders")) == \
        "ResourceNotFoundException"
    assert _code(lambda: events.list_targets_by_rule(Rule="paid", EventBusName="orders",
                                                     NextToken="garbage")) == "ValidationException"


def test_update_event_bus_changes_description_and_dead_letter_queue(aws, kumo_server):
    events, sqs = aws("events"), aws("sqs")
    _url, dlq = queue_with_arn(sqs, "bus-dlq")
    arn = events.create_event_bus(Name="billing", Description="first")["EventBusArn"]
    before = events.describe_event_bus(Name="billing")
    assert before["Description"] == "first"

    kumo_server.advance(60)
    out = events.update_event_bus(Name="billing", Description="second", DeadLetterConfig={"Arn": dlq})
    assert out["Arn"] == arn and out["Name"] == "billing"
    assert out["Description"] == "second" and out["DeadLetterConfig"] == {"Arn": dlq}
    after = events.describe_event_bus(Name="billing")
    assert after["Description"] == "second" and after["DeadLetterConfig"] == {"Arn": dlq}
    assert after["CreationTime"] == before["CreationTime"]
    assert (after["LastModifiedTime"] - before["LastModifiedTime"]).total_seconds() >= 60

    # Without a name it is the default bus that changes.
    out = events.update_event_bus(Description="the default")
    assert out["Name"] == "default"
    assert events.describe_event_bus()["Description"] == "the default"

    assert _code(lambda: events.update_event_bus(Name="missing", Description="x")) == "ResourceNotFoundException"
    # A dead-letter queue is an SQS queue.
    assert _code(lambda: events.update_event_bus(
        Name="billing", DeadLetterConfig={"Arn": "arn:aws:sns:us-east-1:123456789012:topic"})) == \
        "ValidationException"
    assert events.describe_event_bus(Name="billing")["DeadLetterConfig"] == {"Arn": dlq}
