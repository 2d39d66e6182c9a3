"""Archives keep a bus's events as they arrive; replays send a window of them again to the bus's rules."""

import datetime as dt
import json

import pytest
from botocore.exceptions import ClientError

from tests.sqs.util import drain, queue_with_arn

from .frozen import endpoint, kumo_server  # noqa: F401  (a kumo on a frozen clock for this module)


@pytest.fixture
def events(aws):
    return aws("events")


@pytest.fixture
def sqs(aws):
    return aws("sqs")


def _now(kumo_server):
    return dt.datetime.fromtimestamp(kumo_server.kumo.clock.now(), dt.timezone.utc)


def _put(events, n, source="shop", bus=None):
    entries = [{"Source": source, "DetailType": "order", "Detail": json.dumps({"n": i}),
                **({"EventBusName": bus} if bus else {})} for i in range(n)]
    assert events.put_events(Entries=entries)["FailedEntryCount"] == 0


def test_archive_lifecycle_and_pattern(events, account):
    bus = f"arn:aws:events:us-east-1:{account}:event-bus/default"
    out = events.create_archive(ArchiveName="shop", EventSourceArn=bus, Description="all shop events",
                                EventPattern=json.dumps({"source": ["shop"]}), RetentionDays=7)
    assert out["ArchiveArn"] == f"arn:aws:events:us-east-1:{account}:archive/shop" and out["State"] == "ENABLED"
    _put(events, 3)
    _put(events, 2, source="other")  # not matched by the archive's pattern
    got = events.describe_archive(ArchiveName="shop")
    assert got["EventCount"] == 3 and got["SizeBytes"] > 0 and got["RetentionDays"] == 7
    assert got["EventPattern"] == json.dumps({"source": ["shop"]}) and got["Description"] == "all shop events"
    events.update_archive(ArchiveName="shop", Description="changed", RetentionDays=30)
    assert events.describe_archive(ArchiveName="shop")["Description"] == "changed"
    listed = events.list_archives(EventSourceArn=bus)["Archives"]
    assert [a["ArchiveName"] for a in listed] == ["shop"] and listed[0]["EventCount"] == 3
    assert events.list_archives(NamePrefix="nope")["Archives"] == []
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException):
        events.create_archive(ArchiveName="shop", EventSourceArn=bus)
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.create_archive(ArchiveName="bad", EventSourceArn=bus, EventPattern=json.dumps({"source": "x"}))
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.create_archive(ArchiveName="x", EventSourceArn=f"arn:aws:events:us-east-1:{account}:event-bus/nope")
    events.delete_archive(ArchiveName="shop")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_archive(ArchiveName="shop")


def test_replay_redelivers_the_window_to_the_rules_with_replay_name(events, sqs, kumo_server, account):
    url, arn = queue_with_arn(sqs, "replayed")
    events.create_event_bus(Name="orders")
    bus = events.describe_event_bus(Name="orders")["Arn"]
    archive = events.create_archive(ArchiveName="orders-all", EventSourceArn=bus)["ArchiveArn"]
    before = _now(kumo_server)
    _put(events, 2, bus="orders")
    kumo_server.advance(120)
    middle = _now(kumo_server)
    _put(events, 1, source="late", bus="orders")
    kumo_server.advance(60)
    # The rule exists only now: the archived events reach it through the replay alone.
    events.put_rule(Name="to-queue", EventBusName="orders", EventPattern=json.dumps({"source": ["shop", "late"]}))
    events.put_targets(Rule="to-queue", EventBusName="orders", Targets=[{"Id": "q", "Arn": arn}])
    out = events.start_replay(ReplayName="first-two", EventSourceArn=archive, EventStartTime=before,
                              EventEndTime=middle, Destination={"Arn": bus})
    assert out["State"] == "STARTING"
    assert drain(sqs, url) == []
    kumo_server.advance(10)
    got = [json.loads(m["Body"]) for m in drain(sqs, url)]
    assert sorted(e["detail"]["n"] for e in got) == [0, 1]
    assert all(e["replay-name"] == "first-two" and e["source"] == "shop" for e in got)
    desc = events.describe_replay(ReplayName="first-two")
    assert desc["State"] == "COMPLETED" and desc["Destination"] == {"Arn": bus}
    assert desc["EventSourceArn"] == archive and "EventLastReplayedTime" in desc and "ReplayEndTime" in desc
    assert [r["ReplayName"] for r in events.list_replays(EventSourceArn=archive)["Replays"]] == ["first-two"]
    assert events.list_replays(State="RUNNING")["Replays"] == []
    # Replayed events are not archived again.
    assert events.describe_archive(ArchiveName="orders-all")["EventCount"] == 3
    with pytest.raises(ClientError) as e:
        events.cancel_replay(ReplayName="first-two")
    assert e.value.response["Error"]["Code"] == "IllegalStatusException"


def test_replay_filter_arns_cancel_and_validation(events, sqs, kumo_server, account):
    url, arn = queue_with_arn(sqs, "filtered")
    url2, arn2 = queue_with_arn(sqs, "other-rule")
    bus = f"arn:aws:events:us-east-1:{account}:event-bus/default"
    archive = events.create_archive(ArchiveName="all", EventSourceArn=bus)["ArchiveArn"]
    start = _now(kumo_server)
    _put(events, 1)
    kumo_server.advance(5)
    end = _now(kumo_server)
    rule_a = events.put_rule(Name="a", EventPattern=json.dumps({"source": ["shop"]}))["RuleArn"]
    events.put_rule(Name="b", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="a", Targets=[{"Id": "q", "Arn": arn}])
    events.put_targets(Rule="b", Targets=[{"Id": "q", "Arn": arn2}])
    events.start_replay(ReplayName="only-a", EventSourceArn=archive, EventStartTime=start, EventEndTime=end,
                        Destination={"Arn": bus, "FilterArns": [rule_a]})
    kumo_server.advance(10)
    assert len(drain(sqs, url)) == 1 and drain(sqs, url2) == []
    events.start_replay(ReplayName="cancelled", EventSourceArn=archive, EventStartTime=start, EventEndTime=end,
                        Destination={"Arn": bus})
    assert events.cancel_replay(ReplayName="cancelled")["State"] == "CANCELLING"
    kumo_server.advance(10)
    assert events.describe_replay(ReplayName="cancelled")["State"] == "CANCELLED"
    assert drain(sqs, url) == []
    with pytest.raises(ClientError) as e:
        events.start_replay(ReplayName="backwards", EventSourceArn=archive, EventStartTime=end, EventEndTime=start,
                            Destination={"Arn": bus})
    assert e.value.response["Error"]["Code"] == "ValidationException"
    events.create_event_bus(Name="elsewhere")
    with pytest.raises(ClientError) as e:
        events.start_replay(ReplayName="cross", EventSourceArn=archive, EventStartTime=start, EventEndTime=end,
                            Destination={"Arn": events.describe_event_bus(Name="elsewhere")["Arn"]})
    assert "Cross event bus replay" in e.value.response["Error"]["Message"]
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException):
        events.start_replay(ReplayName="only-a", EventSourceArn=archive, EventStartTime=start, EventEndTime=end,
                            Destination={"Arn": bus})
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_replay(ReplayName="nope")


def test_retention_drops_old_events_on_kumo_clock(events, kumo_server, account):
    bus = f"arn:aws:events:us-east-1:{account}:event-bus/default"
    events.create_archive(ArchiveName="short", EventSourceArn=bus, RetentionDays=1)
    _put(events, 2)
    kumo_server.advance(12 * 3600)
    _put(events, 1)
    assert events.describe_archive(ArchiveName="short")["EventCount"] == 3
    kumo_server.advance(13 * 3600)  # the first two are now older than a day, the third is not
    assert events.describe_archive(ArchiveName="short")["EventCount"] == 1
