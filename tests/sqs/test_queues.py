"""SQS queue administration through boto3 and the aws CLI: create, find, list, attributes, tags, purge, delete."""

import json

import pytest
from botocore.exceptions import ClientError


def error_of(exc_info):
    return exc_info.value.response["Error"]["Code"], exc_info.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_create_queue_url_uses_the_request_host(sqs, endpoint, account):
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    assert url == f"{endpoint}/{account}/orders"
    assert sqs.get_queue_url(QueueName="orders")["QueueUrl"] == url
    # Any host form of the URL finds the queue.
    for other in (f"https://sqs.us-east-1.amazonaws.com/{account}/orders", f"http://localhost:4566/{account}/orders"):
        assert sqs.get_queue_attributes(QueueUrl=other, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"] == \
            f"arn:aws:sqs:us-east-1:{account}:orders"


def test_default_attributes(sqs, account):
    url = sqs.create_queue(QueueName="plain")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "30"
    assert attrs["MessageRetentionPeriod"] == "345600"
    assert attrs["MaximumMessageSize"] == "1048576"
    assert attrs["DelaySeconds"] == "0" and attrs["ReceiveMessageWaitTimeSeconds"] == "0"
    assert attrs["SqsManagedSseEnabled"] == "true"
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["QueueArn"] == f"arn:aws:sqs:us-east-1:{account}:plain"
    assert "FifoQueue" not in attrs
    only = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    assert only == {"VisibilityTimeout": "30"}
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url)


def test_fifo_queue_attributes_and_names(sqs):
    url = sqs.create_queue(QueueName="jobs.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["FifoQueue"] == "true" and attrs["ContentBasedDeduplication"] == "false"
    assert attrs["DeduplicationScope"] == "queue" and attrs["FifoThroughputLimit"] == "perQueue"
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName="nofifo", Attributes={"FifoQueue": "true"})
    assert error_of(e) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName="standard.fifo")
    assert error_of(e) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "false"})
    assert error_of(e) == ("InvalidAttributeValue", 400)


def test_create_is_idempotent_only_with_the_same_attributes(sqs):
    url = sqs.create_queue(QueueName="idem", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    assert sqs.create_queue(QueueName="idem", Attributes={"VisibilityTimeout": "60"})["QueueUrl"] == url
    with pytest.raises(sqs.exceptions.QueueNameExists) as e:
        sqs.create_queue(QueueName="idem", Attributes={"VisibilityTimeout": "61"})
    assert error_of(e) == ("QueueAlreadyExists", 400)


def test_bad_attribute_values(sqs):
    for attrs in ({"VisibilityTimeout": "43201"}, {"MessageRetentionPeriod": "59"}, {"DelaySeconds": "x"},
                  {"MaximumMessageSize": "1023"}, {"Policy": "{not json"}):
        with pytest.raises(ClientError) as e:
            sqs.create_queue(QueueName="bad", Attributes=attrs)
        assert error_of(e) == ("InvalidAttributeValue", 400), attrs
    url = sqs.create_queue(QueueName="std")["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"ContentBasedDeduplication": "true"})
    assert error_of(e) == ("InvalidAttributeName", 400)
    assert sqs.list_queues(QueueNamePrefix="bad").get("QueueUrls") is None


def test_set_attributes_and_last_modified(sqs, kumo_server):
    url = sqs.create_queue(QueueName="tune")["QueueUrl"]
    created = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    kumo_server.advance(10)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "120", "DelaySeconds": "5",
                                                       "ReceiveMessageWaitTimeSeconds": "20"})
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attrs["VisibilityTimeout"], attrs["DelaySeconds"], attrs["ReceiveMessageWaitTimeSeconds"]) == \
        ("120", "5", "20")
    assert int(attrs["LastModifiedTimestamp"]) >= int(created["CreatedTimestamp"]) + 10


def test_list_queues_prefix_and_pages(sqs, endpoint, account):
    for name in ("alpha-1", "alpha-2", "alpha-3", "beta-1"):
        sqs.create_queue(QueueName=name)
    urls = sqs.list_queues(QueueNamePrefix="alpha")["QueueUrls"]
    assert urls == [f"{endpoint}/{account}/alpha-{i}" for i in (1, 2, 3)]
    first = sqs.list_queues(MaxResults=2)
    assert len(first["QueueUrls"]) == 2 and first["NextToken"]
    rest = sqs.list_queues(MaxResults=2, NextToken=first["NextToken"])
    assert len(rest["QueueUrls"]) == 2 and "NextToken" not in rest
    with pytest.raises(ClientError) as e:
        sqs.list_queues(MaxResults=2, NextToken="garbage")
    assert error_of(e) == ("InvalidParameterValue", 400)


def test_missing_queue_errors(sqs, account):
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as e:
        sqs.get_queue_url(QueueName="ghost")
    assert error_of(e) == ("AWS.SimpleQueueService.NonExistentQueue", 400)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=f"http://localhost:4566/{account}/ghost", MessageBody="x")
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl="not-a-url", MessageBody="x")
    assert error_of(e)[1] == 400


def test_tags(sqs):
    url = sqs.create_queue(QueueName="tagged", tags={"team": "a"})["QueueUrl"]
    sqs.tag_queue(QueueUrl=url, Tags={"env": "dev", "team": "b"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "b", "env": "dev"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "dev"}
    with pytest.raises(ClientError) as e:
        sqs.tag_queue(QueueUrl=url, Tags={f"k{i}": "v" for i in range(51)})
    assert error_of(e) == ("InvalidParameterValue", 400)


def test_purge_once_a_minute(sqs, kumo_server):
    url = sqs.create_queue(QueueName="purge")["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    sqs.purge_queue(QueueUrl=url)
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress) as e:
        sqs.purge_queue(QueueUrl=url)
    assert error_of(e) == ("AWS.SimpleQueueService.PurgeQueueInProgress", 400)
    kumo_server.advance(61)
    sqs.purge_queue(QueueUrl=url)


def test_delete_queue_and_name_reuse_after_sixty_seconds(sqs, kumo_server):
    url = sqs.create_queue(QueueName="short-lived")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="gone with it")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="short-lived")
    with pytest.raises(sqs.exceptions.QueueDeletedRecently):
        sqs.create_queue(QueueName="short-lived")
    kumo_server.advance(61)
    url = sqs.create_queue(QueueName="short-lived")["QueueUrl"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_permissions_are_kept_in_the_policy(sqs, account):
    url = sqs.create_queue(QueueName="shared")["QueueUrl"]
    sqs.add_permission(QueueUrl=url, Label="senders", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Statement"][0]["Sid"] == "senders"
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    with pytest.raises(ClientError) as e:
        sqs.add_permission(QueueUrl=url, Label="senders", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    assert error_of(e) == ("InvalidParameterValue", 400)
    sqs.remove_permission(QueueUrl=url, Label="senders")
    assert "Policy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def test_queues_through_the_aws_cli(aws_cli, endpoint, account):
    # awscli 1.x sends SQS to its legacy queue.amazonaws.com endpoint unless told otherwise.
    at = ("--endpoint-url", endpoint)
    out = json.loads(aws_cli("sqs", "create-queue", "--queue-name", "cli-q", *at).stdout)
    assert out["QueueUrl"] == f"{endpoint}/{account}/cli-q"
    aws_cli("sqs", "send-message", "--queue-url", out["QueueUrl"], "--message-body", "from the cli", *at)
    got = json.loads(aws_cli("sqs", "receive-message", "--queue-url", out["QueueUrl"], *at).stdout)
    assert got["Messages"][0]["Body"] == "from the cli"
    listed = json.loads(aws_cli("sqs", "list-queues", "--queue-name-prefix", "cli", *at).stdout)
    assert listed["QueueUrls"] == [out["QueueUrl"]]
