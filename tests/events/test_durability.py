"""EventBridge's new state survives kill -9: archives, connections, destinations, and a pending retry."""

import json
import urllib.request

from .frozen import http_server  # noqa: F401  (a loopback HTTP server the test stops)

ACCOUNT = "000000000000"


def _advance(kumo, seconds: float) -> None:
    req = urllib.request.Request(f"{kumo.endpoint}/_kumo/clock", data=json.dumps({"advance": seconds}).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).read()


def test_pending_api_destination_retry_survives_kill_9(kumo_process, http_server):
    k = kumo_process("--time-scale", "0").start()
    events = k.client("events")
    conn = events.create_connection(Name="c", AuthorizationType="API_KEY", AuthParameters={
        "ApiKeyAuthParameters": {"ApiKeyName": "x-key", "ApiKeyValue": "v"}})["ConnectionArn"]
    dest = events.create_api_destination(Name="d", ConnectionArn=conn, InvocationEndpoint=http_server.url + "/in",
                                         HttpMethod="POST")["ApiDestinationArn"]
    bus = events.describe_event_bus()["Arn"]
    events.create_archive(ArchiveName="kept", EventSourceArn=bus)
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["app"]}))
    events.put_targets(Rule="r", Targets=[{"Id": "api", "Arn": dest}])
    http_server.statuses = [503]
    events.put_events(Entries=[{"Source": "app", "DetailType": "t", "Detail": json.dumps({"n": 1})}])
    assert len(http_server.wait_for(1)) == 1  # refused: a retry is due 1 s later on kumo's clock
    k.kill9()

    k2 = kumo_process("--time-scale", "0", like=k).start()
    events = k2.client("events")
    assert events.describe_archive(ArchiveName="kept")["EventCount"] == 1
    assert events.describe_connection(Name="c")["ConnectionState"] == "AUTHORIZED"
    assert events.describe_api_destination(Name="d")["ApiDestinationArn"] == dest
    _advance(k2, 2)
    calls = http_server.wait_for(2)
    assert len(calls) == 2 and calls[1]["headers"]["x-key"] == "v"
    assert json.loads(calls[1]["body"])["detail"] == {"n": 1}
