"""Pagination tokens, filters, tags, ARNs, timestamps, URI templates."""

import pytest

from kumo.aws.errors import ProtocolError
from kumo.aws.protocols.base import iso8601, parse_timestamp, rfc822
from kumo.aws.protocols.rest import UriTemplate
from kumo.core import filters, pagination, tags
from kumo.core.arns import parse_arn


def test_pagination_walks_every_item_once():
    items = [f"k{i:02d}" for i in range(25)]
    seen, token = [], None
    while True:
        page, token = pagination.paginate(items, 10, token, key=lambda x: x, context="c")
        seen += page
        if not token:
            break
    assert seen == items


def test_pagination_survives_deletion_of_the_last_seen_item():
    items = ["a", "b", "c", "d"]
    page, token = pagination.paginate(items, 2, None, key=lambda x: x)
    assert page == ["a", "b"]
    page, _ = pagination.paginate(["a", "c", "d"], 2, token, key=lambda x: x)
    assert page == ["c", "d"]


def test_pagination_refuses_foreign_and_garbage_tokens():
    _, token = pagination.paginate(["a", "b", "c"], 1, None, key=lambda x: x, context="one")
    with pytest.raises(pagination.InvalidToken):
        pagination.paginate(["a", "b"], 1, token, key=lambda x: x, context="two")
    with pytest.raises(pagination.InvalidToken):
        pagination.paginate(["a"], 1, "!!!", key=lambda x: x)


def test_filters_wildcards_and_tags():
    records = [
        {"Id": "i-1", "State": "running", "Tags": [{"Key": "Name", "Value": "web-1"}]},
        {"Id": "i-2", "State": "stopped", "Tags": [{"Key": "Name", "Value": "db"}]},
        {"Id": "i-3", "State": "running", "Tags": []},
    ]
    acc = {"state": lambda r: r["State"], "id": lambda r: r["Id"]}
    assert [r["Id"] for r in filters.apply(records, [{"Name": "state", "Values": ["running"]}], acc)] == ["i-1", "i-3"]
    assert [r["Id"] for r in filters.apply(records, [{"Name": "tag:Name", "Values": ["web-*"]}], acc)] == ["i-1"]
    assert [r["Id"] for r in filters.apply(records, [{"Name": "tag-key", "Values": ["Name"]}], acc)] == ["i-1", "i-2"]
    assert [r["Id"] for r in filters.apply(records, [{"Name": "id", "Values": ["i-?"]},
                                                     {"Name": "state", "Values": ["stopped", "x"]}], acc)] == ["i-2"]
    with pytest.raises(filters.UnknownFilter):
        filters.apply(records, [{"Name": "nope", "Values": ["x"]}], acc)
    assert filters.value_matches("a*b", ["a\\*b"]) and not filters.value_matches("axb", ["a\\*b"])


def test_tag_rules():
    tags.validate({"a": "b"})
    with pytest.raises(tags.TagError):
        tags.validate({"aws:x": "y"})
    with pytest.raises(tags.TagError):
        tags.validate({f"k{i}": "v" for i in range(51)})
    with pytest.raises(tags.TagError):
        tags.validate({"k": "v" * 257})
    assert tags.to_list(tags.to_dict([{"Key": "a", "Value": "1"}])) == [{"Key": "a", "Value": "1"}]


def test_arn_parsing():
    arn = parse_arn("arn:aws:iam::123456789012:role/path/name")
    assert arn.service == "iam" and arn.account == "123456789012" and arn.resource == "role/path/name"
    assert parse_arn("not-an-arn") is None


def test_timestamps_round_trip():
    assert parse_timestamp("2014-04-29T18:30:38Z", None) == 1398796238
    assert parse_timestamp("2014-04-29T18:30:38.123456789Z", None) == pytest.approx(1398796238.123456)
    assert parse_timestamp("Tue, 29 Apr 2014 18:30:38 GMT", None) == 1398796238
    assert parse_timestamp("1398796238.5", None) == 1398796238.5
    assert iso8601(1398796238) == "2014-04-29T18:30:38Z"
    assert iso8601(1398796238.25) == "2014-04-29T18:30:38.250Z"
    assert rfc822(1398796238) == "Tue, 29 Apr 2014 18:30:38 GMT"
    with pytest.raises(ProtocolError):
        parse_timestamp("yesterday", "iso8601")


def test_uri_templates():
    t = UriTemplate("/2015-03-31/functions/{FunctionName}/invocations")
    assert t.match("/2015-03-31/functions/my%20fn/invocations", set()) == {"FunctionName": "my fn"}
    assert t.match("/2015-03-31/functions/a/b/invocations", set()) is None
    greedy = UriTemplate("/{Bucket}/{Key+}?uploads")
    assert greedy.match("/b/a/b/c", {"uploads"}) == {"Bucket": "b", "Key": "a/b/c"}
    assert greedy.match("/b/a/b/c", set()) is None


def test_request_ids_are_version_4_uuids_in_their_text_form():
    import uuid

    from kumo.core.ids import request_id

    seen = set()
    for _ in range(500):
        rid = request_id()
        parsed = uuid.UUID(rid)
        assert str(parsed) == rid and parsed.version == 4 and parsed.variant == uuid.RFC_4122
        seen.add(rid)
    assert len(seen) == 500
