"""Requests that used to answer 500 at the edge: deep nesting, no operation named, text that is not Unicode.

Each gets a 4xx in the service's own shape, and nothing it sent is stored.
"""

from __future__ import annotations

import json

import cbor2
import pytest

from .http import auth_header, send

FORM = "application/x-www-form-urlencoded; charset=utf-8"


def json_call(endpoint, target: str, service: str, body: bytes, version: str = "1.0", account: str = "000000000000"):
    return send(endpoint, body=body, headers={"X-Amz-Target": target, "Content-Type": f"application/x-amz-json-{version}",
                                              "Authorization": auth_header(service, account)})


def deep_json(depth: int, kind: str = "list") -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("kind", ["list", "object"])
def test_json_nested_a_thousand_deep(endpoint, kind):
    for target, service, version in (("AmazonSQS.ListQueues", "sqs", "1.0"), ("Logs_20140328.DescribeLogGroups", "logs", "1.1"),
                                     ("GraniteServiceVersion20100801.ListMetrics", "monitoring", "1.0")):
        body = b'{"x":' + deep_json(1000, kind) + b"}"
        status, _, out = json_call(endpoint, target, service, body, version)
        assert status == 400, out
        assert json.loads(out)["__type"].endswith("SerializationException")


def test_rest_json_body_nested_a_thousand_deep(endpoint):
    status, headers, out = send(endpoint, "/2015-03-31/functions", deep_json(1000, "object"),
                                {"Content-Type": "application/json", "Authorization": auth_header("lambda")})
    assert status == 400 and headers.get("x-amzn-ErrorType") == "SerializationException"


def test_nesting_within_the_bound_is_read(endpoint):
    body = json.dumps({"QueueNamePrefix": "deep-ok", "x": json.loads(deep_json(90))}).encode()
    status, _, out = json_call(endpoint, "AmazonSQS.ListQueues", "sqs", body)
    assert status == 200, out


def test_cbor_nested_deeply(endpoint):
    body = cbor2.dumps({"Namespace": "n", "x": json.loads(deep_json(300))})
    status, _, out = send(endpoint, "/service/GraniteServiceVersion20100801/operation/ListMetrics", body,
                          {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor",
                           "Authorization": auth_header("monitoring")})
    assert status == 400 and cbor2.loads(out)["__type"].endswith("SerializationException")


def test_xml_nested_deeply_and_dtds(endpoint):
    path = "/2013-04-01/hostedzone"
    headers = {"Content-Type": "application/xml", "Authorization": auth_header("route53")}
    deep = b"<CreateHostedZoneRequest>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</CreateHostedZoneRequest>"
    status, _, out = send(endpoint, path, deep, headers)
    assert status == 400 and b"<Code>InvalidInput</Code>" in out
    laughs = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
              b"<CreateHostedZoneRequest><Name>&b;</Name></CreateHostedZoneRequest>")
    status, _, out = send(endpoint, path, laughs, headers)
    assert status == 400 and b"<Code>InvalidInput</Code>" in out


def test_query_keys_nested_deeply_and_too_many_fields(endpoint):
    headers = {"Content-Type": FORM, "Authorization": auth_header("iam")}
    deep = b"Action=ListRoles&Version=2010-05-08&" + b".".join([b"a"] * 5000) + b"=1"
    status, _, out = send(endpoint, body=deep, headers=headers)
    assert status == 400 and b"<Code>ValidationError</Code>" in out
    many = b"Action=ListRoles&Version=2010-05-08&" + b"&".join(b"f%d=1" % i for i in range(200_001))
    status, _, out = send(endpoint, body=many, headers=headers)
    assert status == 400 and b"<Code>ValidationError</Code>" in out


@pytest.mark.parametrize("target", [None, ""])
def test_json_only_services_without_a_target(endpoint, target):
    for service, version in (("sqs", "1.0"), ("logs", "1.1"), ("events", "1.1")):
        headers = {"Content-Type": f"application/x-amz-json-{version}", "Authorization": auth_header(service)}
        if target is not None:
            headers["X-Amz-Target"] = target
        status, _, out = send(endpoint, body=b"{}", headers=headers)
        assert status == 400, (service, out)
        assert json.loads(out)["__type"] == "UnknownOperationException"


ALARM = {"MetricName": "m", "Namespace": "n", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1,
         "ComparisonOperator": "GreaterThanThreshold", "Statistic": "Average"}


def test_lone_surrogate_as_a_store_key(endpoint, aws, account):
    for body in ('{"AlarmName":"\\ud800",' + json.dumps(ALARM)[1:],
                 '{"Namespace":"n","MetricData":[{"MetricName":"m","Value":1,"Dimensions":[{"Name":"d","Value":"\\udfff"}]}]}'):
        target = "PutMetricAlarm" if "AlarmName" in body else "PutMetricData"
        status, _, out = json_call(endpoint, f"GraniteServiceVersion20100801.{target}", "monitoring", body.encode(),
                                   account=account)
        assert status == 400, out
        doc = json.loads(out)
        assert doc["__type"] == "InvalidParameterValueException" and "Unicode" in doc["message"]
    assert aws("cloudwatch").describe_alarms()["MetricAlarms"] == []


def test_lone_surrogate_never_poisons_later_answers(endpoint, aws, account):
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName="tagged")["QueueUrl"]
    body = json.dumps({"QueueUrl": url, "Tags": {"k": "PLACEHOLDER"}}).replace("PLACEHOLDER", "\\ud800").encode()
    status, _, out = json_call(endpoint, "AmazonSQS.TagQueue", "sqs", body, account=account)
    assert status == 400 and json.loads(out)["__type"] == "InvalidParameterValue"
    # A surrogate pair is a real character and is kept.
    sqs.tag_queue(QueueUrl=url, Tags={"smile": "\U0001F600"})
    form = f"Action=ListQueueTags&Version=2012-11-05&QueueUrl={url}".encode()
    status, _, out = send(endpoint, body=form, headers={"Content-Type": FORM, "Authorization": auth_header("sqs", account)})
    assert status == 200
    assert "\U0001F600".encode() in out and b"<Key>k</Key>" not in out


def test_cbor_text_that_is_not_utf8(endpoint):
    body = cbor2.dumps({"AlarmName": "PLACE", **ALARM}).replace(b"ePLACE", b"c\xed\xa0\x80")
    status, _, out = send(endpoint, "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm", body,
                          {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor",
                           "Authorization": auth_header("monitoring")})
    assert status == 400 and cbor2.loads(out)["__type"].endswith("InvalidParameterValueException")


def test_rest_header_of_raw_bytes(endpoint, aws):
    # http.client sends str headers as latin-1: "\xff" is the raw byte 0xff, which is not UTF-8.
    status, headers, out = send(endpoint, "/2015-03-31/functions/nope/invocations", b"{}",
                                {"Authorization": auth_header("lambda"), "X-Amz-Client-Context": "\xff\xfe"})
    assert 400 <= status < 500 and status != 404, out
    assert "Unicode" in json.loads(out)["message"]


def test_rest_uri_label_that_is_not_utf8(endpoint):
    status, _, out = send(endpoint, "/2015-03-31/functions/%ED%A0%80%FF/invocations", b"{}",
                          {"Authorization": auth_header("lambda")})
    assert 400 <= status < 500, out


def test_text_stored_before_the_edge_refused_it_is_still_answered(kumo_server, aws, account):
    """A state file from an older kumo may hold a lone surrogate: the answer replaces it instead of failing."""
    iam = aws("iam")
    iam.create_role(RoleName="legacy", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))

    def poison():
        t = kumo_server.kumo.store.table(account, "iam.role")
        role = t.get("legacy")
        role["Description"] = "old \ud800 text"
        t.put("legacy", role)

    kumo_server.run(poison)
    assert iam.get_role(RoleName="legacy")["Role"]["Description"] == "old ? text"
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["legacy"]


def test_credential_scope_of_raw_bytes(endpoint):
    """The region and key of the credential become store keys: raw bytes there are refused, not a 500."""
    auth = auth_header("sqs").replace("us-east-1", "us-\xe9ast-1")  # sent as the single byte 0xe9
    status, _, out = send(endpoint, body=b'{"QueueName":"q"}', headers={
        "X-Amz-Target": "AmazonSQS.CreateQueue", "Content-Type": "application/x-amz-json-1.0", "Authorization": auth})
    assert status == 400 and json.loads(out)["__type"] == "IncompleteSignature"


def test_nan_and_infinity_literals_are_not_json(endpoint):
    body = b'{"Namespace":"n","MetricData":[{"MetricName":"m","Value":NaN}]}'
    status, _, out = json_call(endpoint, "GraniteServiceVersion20100801.PutMetricData", "monitoring", body)
    assert status == 400 and json.loads(out)["__type"].endswith("SerializationException")
