"""Connections and API destinations: real HTTP calls to a loopback server, with auth, rate limit, retries, DLQ."""

import base64
import json

import pytest
from botocore.exceptions import ClientError

from tests.sqs.util import drain, queue_with_arn

from .frozen import endpoint, http_server, kumo_server  # noqa: F401  (frozen clock; loopback HTTP server)


@pytest.fixture
def events(aws):
    return aws("events")


@pytest.fixture
def sqs(aws):
    return aws("sqs")


def _destination(events, http_server, name, auth_type, auth, rate=300, path="/hook/*", method="POST"):
    conn = events.create_connection(Name=f"{name}-conn", AuthorizationType=auth_type, AuthParameters=auth)
    dest = events.create_api_destination(Name=name, ConnectionArn=conn["ConnectionArn"],
                                         InvocationEndpoint=http_server.url + path, HttpMethod=method,
                                         InvocationRateLimitPerSecond=rate)
    return conn["ConnectionArn"], dest["ApiDestinationArn"]


def _route(events, name, dest_arn, **target):
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [name]}))
    out = events.put_targets(Rule=name, Targets=[{"Id": "api", "Arn": dest_arn, **target}])
    assert out["FailedEntryCount"] == 0, out


def _put(events, source, n=1):
    events.put_events(Entries=[{"Source": source, "DetailType": "t", "Detail": json.dumps({"n": i})}
                               for i in range(n)])


def test_api_key_connection_calls_the_endpoint_with_its_header(events, kumo_server, http_server, account):
    conn_arn, dest_arn = _destination(events, http_server, "keyed", "API_KEY", {
        "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "s3cr3t"},
        "InvocationHttpParameters": {"HeaderParameters": [{"Key": "x-team", "Value": "blue"}]}})
    assert conn_arn.startswith(f"arn:aws:events:us-east-1:{account}:connection/keyed-conn/")
    _route(events, "keyed", dest_arn, HttpParameters={"PathParameterValues": ["orders"],
                                                       "QueryStringParameters": {"v": "1"},
                                                       "HeaderParameters": {"x-extra": "e"}})
    _put(events, "keyed")
    kumo_server.advance(0)
    [call] = http_server.invocations()
    assert call["method"] == "POST" and call["path"] == "/hook/orders?v=1"
    assert call["headers"]["x-api-key"] == "s3cr3t" and call["headers"]["x-team"] == "blue"
    assert call["headers"]["x-extra"] == "e"
    event = json.loads(call["body"])
    assert event["source"] == "keyed" and event["detail"] == {"n": 0}
    desc = events.describe_connection(Name="keyed-conn")
    assert desc["ConnectionState"] == "AUTHORIZED" and desc["AuthorizationType"] == "API_KEY"
    assert desc["AuthParameters"]["ApiKeyAuthParameters"] == {"ApiKeyName": "x-api-key"}  # the value stays secret
    assert desc["SecretArn"].startswith(f"arn:aws:secretsmanager:us-east-1:{account}:secret:events!connection/")
    dest = events.describe_api_destination(Name="keyed")
    assert dest["ApiDestinationState"] == "ACTIVE" and dest["InvocationRateLimitPerSecond"] == 300
    assert dest["ConnectionArn"] == conn_arn and dest["HttpMethod"] == "POST"


def test_basic_and_oauth_connections(events, kumo_server, http_server):
    _, basic = _destination(events, http_server, "basic", "BASIC",
                            {"BasicAuthParameters": {"Username": "u", "Password": "p"}})
    _route(events, "basic", basic)
    _put(events, "basic")
    kumo_server.advance(0)
    assert http_server.invocations()[-1]["headers"]["Authorization"] == "Basic " + base64.b64encode(b"u:p").decode()

    oauth = {"OAuthParameters": {"ClientParameters": {"ClientID": "id", "ClientSecret": "secret"},
                                 "AuthorizationEndpoint": http_server.url + "/token", "HttpMethod": "POST",
                                 "OAuthHttpParameters": {"BodyParameters": [
                                     {"Key": "grant_type", "Value": "client_credentials"}]}}}
    conn = events.create_connection(Name="oauth", AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters=oauth)
    assert conn["ConnectionState"] == "AUTHORIZING"
    kumo_server.advance(0)
    token_call = next(c for c in http_server.calls if c.get("token"))
    assert token_call["body"] == "grant_type=client_credentials"
    assert events.describe_connection(Name="oauth")["ConnectionState"] == "AUTHORIZED"
    dest = events.create_api_destination(Name="oauth", ConnectionArn=conn["ConnectionArn"],
                                         InvocationEndpoint=http_server.url + "/o", HttpMethod="PUT")
    _route(events, "oauth", dest["ApiDestinationArn"])
    _put(events, "oauth")
    kumo_server.advance(0)
    call = http_server.invocations()[-1]
    assert call["method"] == "PUT" and call["headers"]["Authorization"] == "Bearer tok-1"
    # The token lives 600 s on kumo's clock; past that, a new one is fetched before the call.
    kumo_server.advance(601)
    _put(events, "oauth")
    kumo_server.advance(0)
    assert http_server.invocations()[-1]["headers"]["Authorization"] == "Bearer tok-2"

    bad = dict(oauth["OAuthParameters"], ClientParameters={"ClientID": "id", "ClientSecret": "wrong"})
    events.create_connection(Name="refused", AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
                             AuthParameters={"OAuthParameters": bad})
    kumo_server.advance(0)
    desc = events.describe_connection(Name="refused")
    assert desc["ConnectionState"] == "DEAUTHORIZED" and "401" in desc["StateReason"]
    out = events.deauthorize_connection(Name="oauth")
    assert out["ConnectionState"] == "DEAUTHORIZING"
    assert events.describe_connection(Name="oauth")["ConnectionState"] == "DEAUTHORIZED"


def test_rate_limit_per_destination_on_kumo_clock(events, kumo_server, http_server):
    _, dest = _destination(events, http_server, "slow", "API_KEY",
                           {"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}}, rate=2)
    _route(events, "slow", dest)
    _put(events, "slow", n=5)
    kumo_server.advance(0)
    assert len(http_server.invocations()) == 2
    kumo_server.advance(1)
    assert len(http_server.invocations()) == 4
    kumo_server.advance(1)
    assert len(http_server.invocations()) == 5
    assert sorted(json.loads(c["body"])["detail"]["n"] for c in http_server.invocations()) == [0, 1, 2, 3, 4]


def test_retry_policy_then_dead_letter_queue(events, sqs, kumo_server, http_server):
    dlq_url, dlq_arn = queue_with_arn(sqs, "api-dlq")
    _, dest = _destination(events, http_server, "flaky", "API_KEY",
                           {"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})
    _route(events, "flaky", dest, RetryPolicy={"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
           DeadLetterConfig={"Arn": dlq_arn})
    http_server.statuses = [503] * 10
    _put(events, "flaky")
    kumo_server.advance(0)
    assert len(http_server.invocations()) == 1
    kumo_server.advance(1)  # first retry after 1 s
    assert len(http_server.invocations()) == 2
    assert drain(sqs, dlq_url) == []
    kumo_server.advance(2)  # second retry 2 s later: the last one allowed
    assert len(http_server.invocations()) == 3
    [msg] = drain(sqs, dlq_url)
    attrs = {k: v["StringValue"] for k, v in msg["MessageAttributes"].items()}
    assert attrs["TARGET_ARN"] == dest and attrs["RULE_ARN"].endswith(":rule/flaky")
    assert attrs["ERROR_CODE"] == "SDK_CLIENT_ERROR" and "503" in attrs["ERROR_MESSAGE"]
    assert json.loads(msg["Body"])["source"] == "flaky"
    kumo_server.advance(600)
    assert len(http_server.invocations()) == 3

    # A 400 is not retried: straight to the dead-letter queue.
    http_server.statuses = [400]
    _put(events, "flaky")
    kumo_server.advance(0)
    assert len(http_server.invocations()) == 4 and len(drain(sqs, dlq_url)) == 1


def test_maximum_event_age_ends_retries(events, sqs, kumo_server, http_server):
    dlq_url, dlq_arn = queue_with_arn(sqs, "age-dlq")
    _, dest = _destination(events, http_server, "aged", "API_KEY",
                           {"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})
    _route(events, "aged", dest, RetryPolicy={"MaximumEventAgeInSeconds": 60}, DeadLetterConfig={"Arn": dlq_arn})
    http_server.statuses = [500] * 50
    _put(events, "aged")
    for _ in range(70):  # backoff 1, 2, 4, 8, 16, 32 s: the next retry would be 63 s after the event
        kumo_server.advance(1)
    assert len(http_server.invocations()) == 6
    assert len(drain(sqs, dlq_url)) == 1


def test_connection_and_destination_crud_and_errors(events, http_server):
    conn_arn, _ = _destination(events, http_server, "crud", "API_KEY",
                               {"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})
    events.update_connection(Name="crud-conn", Description="d",
                             AuthParameters={"ApiKeyAuthParameters": {"ApiKeyValue": "v2"}})
    desc = events.describe_connection(Name="crud-conn")
    assert desc["Description"] == "d" and desc["AuthParameters"]["ApiKeyAuthParameters"]["ApiKeyName"] == "k"
    assert [c["Name"] for c in events.list_connections(NamePrefix="crud")["Connections"]] == ["crud-conn"]
    events.update_api_destination(Name="crud", InvocationRateLimitPerSecond=10, Description="dd")
    desc = events.describe_api_destination(Name="crud")
    assert desc["InvocationRateLimitPerSecond"] == 10 and desc["Description"] == "dd"
    listed = events.list_api_destinations(ConnectionArn=conn_arn)["ApiDestinations"]
    assert [d["Name"] for d in listed] == ["crud"]
    with pytest.raises(ClientError) as e:
        events.create_connection(Name="mixed", AuthorizationType="BASIC",
                                 AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})
    assert e.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException):
        events.create_connection(Name="crud-conn", AuthorizationType="BASIC",
                                 AuthParameters={"BasicAuthParameters": {"Username": "u", "Password": "p"}})
    with pytest.raises(ClientError) as e:
        events.create_api_destination(Name="x", ConnectionArn=conn_arn, InvocationEndpoint=http_server.url,
                                      HttpMethod="POST", InvocationRateLimitPerSecond=301)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.create_api_destination(Name="x", ConnectionArn=conn_arn + "x", InvocationEndpoint=http_server.url,
                                      HttpMethod="POST")
    events.delete_api_destination(Name="crud")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_api_destination(Name="crud")
    assert events.delete_connection(Name="crud-conn")["ConnectionState"] == "DELETING"
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_connection(Name="crud-conn")
