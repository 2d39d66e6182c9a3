"""Services load on first use: health names them without loading any, a request loads its service (and its
controllers start), a /_kumo path of a service not loaded yet still answers, and a restarted kumo loads at once
the services that have state, so their controllers resume before any request."""

import json
import urllib.request


def health(k) -> dict:
    with urllib.request.urlopen(k.endpoint + "/_kumo/health", timeout=10) as resp:
        return json.loads(resp.read())


def test_health_loads_no_service_and_a_request_loads_its_own(kumo_process):
    k = kumo_process().start()
    first = health(k)
    assert first["services"]["sqs"] == "available" and first["services"]["ec2"] == "available"
    assert first["services"]["route53"] == "not implemented"
    assert first["controllers"]["controllers"] == []
    sqs = k.client("sqs")
    url = sqs.create_queue(QueueName="lazy")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    after = health(k)
    assert after["services"]["sqs"] == "running"
    assert "sqs-retention" in after["controllers"]["controllers"]
    assert after["services"]["ec2"] == "available"


def test_a_service_route_answers_before_its_service_loaded(kumo_process):
    k = kumo_process().start()
    req = urllib.request.Request(k.endpoint + "/_kumo/faults/instances/i-0123456789abcdef0", method="POST",
                                 data=json.dumps({"action": "kill"}).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("a fault for an instance that does not exist succeeded")
    except urllib.error.HTTPError as exc:
        assert exc.code == 404
        assert json.loads(exc.read()) == {"error": "no instance i-0123456789abcdef0"}


def test_a_restarted_kumo_resumes_the_services_with_state_before_any_request(kumo_process):
    k = kumo_process().start()
    sqs = k.client("sqs")
    url = sqs.create_queue(QueueName="kept")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="survives")
    assert k.terminate() == 0
    again = kumo_process(like=k).start()
    resumed = health(again)
    assert resumed["services"]["sqs"] == "running"
    assert "sqs-retention" in resumed["controllers"]["controllers"]
    assert resumed["services"]["ec2"] == "available"  # no state: nothing of it loaded
    messages = again.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"]
    assert [m["Body"] for m in messages] == ["survives"]
