"""Pure logic of S3's bucket features: lifecycle rules, CORS matching, event records and notification
filters, website routing, and the load balancers' access log formats."""

from __future__ import annotations

import calendar

import pytest

from kumo.aws.errors import AwsError
from kumo.dataplane.lb import access_logs
from kumo.services.s3 import cors, event_records as ev, lifecycle_rules as lc, website_rules as web


def ts(*args) -> float:
    return float(calendar.timegm(args + (0,) * (6 - len(args))))


# -- lifecycle -------------------------------------------------------------------------------------------


def test_expiration_days_round_up_to_next_midnight_utc():
    rule = {"Status": "Enabled", "Filter": {}, "Expiration": {"Days": 3}}
    assert lc.expiration_due(rule, ts(2014, 1, 15, 10, 30)) == ts(2014, 1, 19)
    assert lc.expiration_due(rule, ts(2014, 1, 15)) == ts(2014, 1, 18)


def test_expiration_date_and_noncurrent_and_abort():
    rule = {"Status": "Enabled", "Filter": {"Prefix": "a/"}, "Expiration": {"Date": ts(2030, 1, 1)},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 2},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}
    assert lc.expiration_due(rule, ts(2020, 5, 5)) == ts(2030, 1, 1)
    # The two newest noncurrent versions are kept whatever their age; the third goes a day after it became so.
    assert lc.noncurrent_due(rule, ts(2020, 1, 1, 5), newer_noncurrent=1) is None
    assert lc.noncurrent_due(rule, ts(2020, 1, 1, 5), newer_noncurrent=2) == ts(2020, 1, 3)
    assert lc.abort_due(rule, ts(2020, 1, 1, 23, 59)) == ts(2020, 1, 9)


def test_lifecycle_filters_prefix_tags_size():
    rule = {"Status": "Enabled", "Expiration": {"Days": 1},
            "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "t", "Value": "1"}],
                               "ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 100}}}
    assert lc.matches(rule, "logs/x", 50, {"t": "1"})
    assert not lc.matches(rule, "data/x", 50, {"t": "1"})
    assert not lc.matches(rule, "logs/x", 50, {"t": "2"})
    assert not lc.matches(rule, "logs/x", 10, {"t": "1"})
    assert not lc.matches(rule, "logs/x", 100, {"t": "1"})
    assert not lc.matches(dict(rule, Status="Disabled"), "logs/x", 50, {"t": "1"})
    assert lc.matches({"Status": "Enabled", "Prefix": "p"}, "pq")
    assert lc.matches({"Status": "Enabled", "Filter": {}}, "anything")


@pytest.mark.parametrize("rule, code, text", [
    ({"ID": "a", "Status": "Enabled", "Filter": {}}, "InvalidArgument", "At least one action"),
    ({"Status": "Enabled", "Filter": {}, "Expiration": {"Days": 0}}, "InvalidArgument", "positive integer"),
    ({"Status": "Enabled", "Filter": {}, "Expiration": {"Date": ts(2030, 1, 1, 5)}}, "InvalidArgument",
     "midnight GMT"),
    ({"Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}},
      "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}, "InvalidArgument", "Tags"),
    ({"Status": "Enabled", "Filter": {}, "Prefix": "", "Expiration": {"Days": 1}}, "MalformedXML", ""),
    ({"Status": "Maybe", "Filter": {}, "Expiration": {"Days": 1}}, "MalformedXML", ""),
    ({"Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1, "ExpiredObjectDeleteMarker": True}},
     "MalformedXML", ""),
])
def test_lifecycle_checks_refuse_as_s3(rule, code, text):
    with pytest.raises(AwsError) as err:
        lc.check({"Rules": [rule]})
    assert err.value.code == code and text in err.value.message


def test_lifecycle_rule_ids_unique():
    rule = {"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}
    with pytest.raises(AwsError, match="Rule ID must be unique"):
        lc.check({"Rules": [rule, dict(rule)]})


# -- CORS ------------------------------------------------------------------------------------------------

RULES = [
    {"AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "PUT"],
     "AllowedHeaders": ["x-amz-*", "Content-Type"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 300},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
]


def test_cors_first_matching_rule_answers_the_preflight():
    status, headers, error = cors.preflight(RULES, "https://app.example.com", "PUT", "X-Amz-Date, content-type")
    assert (status, error) == (200, None)
    assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert headers["Access-Control-Allow-Headers"] == "x-amz-date, content-type"
    assert headers["Access-Control-Expose-Headers"] == "ETag"
    assert headers["Access-Control-Max-Age"] == "300"
    assert headers["Access-Control-Allow-Credentials"] == "true"


def test_cors_wildcard_origin_answers_star_and_unmatched_is_403():
    status, headers, _ = cors.preflight(RULES, "https://other.org", "GET", None)
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in headers
    assert cors.preflight(RULES, "https://other.org", "PUT", None)[0] == 403
    assert cors.preflight(RULES, "https://app.example.com", "PUT", "x-other")[0] == 403
    assert cors.preflight(None, "https://a", "GET", None)[2] == ("AccessForbidden", cors.NOT_ENABLED)
    assert cors.preflight(RULES, None, "GET", None)[0] == 400


def test_cors_actual_request_headers_and_checks():
    assert cors.actual_headers(RULES, "https://a.example.com", "PUT")["Access-Control-Allow-Origin"] == \
        "https://a.example.com"
    assert cors.actual_headers(RULES, "https://x.org", "DELETE") == {}
    assert cors.actual_headers(RULES, None, "GET") == {}
    with pytest.raises(AwsError, match="Unsupported method is PATCH"):
        cors.check({"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]})
    with pytest.raises(AwsError, match="more than one wildcard"):
        cors.check({"CORSRules": [{"AllowedOrigins": ["http://*.*.com"], "AllowedMethods": ["GET"]}]})


# -- notifications ---------------------------------------------------------------------------------------


def _queue(events, prefix=None, suffix=None, arn="arn:aws:sqs:us-east-1:1:q"):
    rules = [{"Name": "prefix", "Value": prefix}] if prefix is not None else []
    rules += [{"Name": "Suffix", "Value": suffix}] if suffix is not None else []
    return {"QueueArn": arn, "Events": events, "Filter": {"Key": {"FilterRules": rules}}}


def test_notification_filters_select_by_event_prefix_suffix():
    c = _queue(["s3:ObjectCreated:*"], "images/", ".jpg")
    assert ev.selects(c, "ObjectCreated:Put", "images/a.jpg")
    assert ev.selects(c, "ObjectCreated:CompleteMultipartUpload", "images/a.jpg")
    assert not ev.selects(c, "ObjectRemoved:Delete", "images/a.jpg")
    assert not ev.selects(c, "ObjectCreated:Put", "images/a.png")
    assert not ev.selects(c, "ObjectCreated:Put", "docs/a.jpg")


def test_overlapping_configurations_are_refused():
    overlapping = {"QueueConfigurations": [_queue(["s3:ObjectCreated:*"], "a/"),
                                           _queue(["s3:ObjectCreated:Put"], "a/b/")]}
    with pytest.raises(AwsError, match="Configurations overlap"):
        ev.check(overlapping)
    apart = {"QueueConfigurations": [_queue(["s3:ObjectCreated:*"], "a/"), _queue(["s3:ObjectCreated:*"], "b/")]}
    assert len(ev.check(apart)) == 2
    other_events = {"QueueConfigurations": [_queue(["s3:ObjectCreated:*"]), _queue(["s3:ObjectRemoved:*"])]}
    assert len(ev.check(other_events)) == 2
    with pytest.raises(AwsError, match="prefix or suffix"):
        ev.check({"QueueConfigurations": [{"QueueArn": "a", "Events": ["s3:ObjectCreated:*"],
                                           "Filter": {"Key": {"FilterRules": [{"Name": "middle", "Value": "x"}]}}}]})
    with pytest.raises(AwsError, match="not supported"):
        ev.check({"QueueConfigurations": [_queue(["s3:ObjectMoved"])]})


def test_event_record_shape():
    r = ev.record(region="us-east-1", when=ts(2020, 1, 2, 3, 4, 5) + 0.25, event_name="ObjectCreated:Put",
                  principal="AWS:123", source_ip="127.0.0.1", request_id="R", host_id="H", configuration_id="c",
                  bucket="b", owner="123", key="dir/a file+1.txt", size=5, etag='"abc"', version_id="v1",
                  seq=ev.sequencer(10))
    assert r["eventVersion"] == "2.1" and r["eventSource"] == "aws:s3"
    assert r["eventTime"] == "2020-01-02T03:04:05.250Z"
    assert r["s3"]["object"] == {"key": "dir/a+file%2B1.txt", "size": 5, "eTag": "abc", "versionId": "v1",
                                 "sequencer": "000000000000000A"}
    assert r["s3"]["bucket"]["arn"] == "arn:aws:s3:::b"
    gone = ev.record(region="r", when=0, event_name="ObjectRemoved:Delete", principal="p", source_ip="i",
                     request_id="R", host_id="H", configuration_id="c", bucket="b", owner="o", key="k", size=5,
                     etag="e", version_id=None, seq="1")
    assert gone["s3"]["object"] == {"key": "k", "sequencer": "1"}


def test_eventbridge_detail():
    kind, detail = ev.eventbridge_detail(event_name="ObjectRemoved:DeleteMarkerCreated", bucket="b", key="k",
                                         size=None, etag=None, version_id="v", seq="1", request_id="R",
                                         requester="1", source_ip="i")
    assert kind == "Object Deleted" and detail["deletion-type"] == "Delete Marker Created"
    assert detail["object"] == {"key": "k", "version-id": "v", "sequencer": "1"}


# -- website ---------------------------------------------------------------------------------------------


def test_website_rules():
    config = web.check({"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "err.html"},
                        "RoutingRules": [
                            {"Condition": {"KeyPrefixEquals": "docs/"}, "Redirect": {"ReplaceKeyPrefixWith": "d/"}},
                            {"Condition": {"HttpErrorCodeReturnedEquals": "404"},
                             "Redirect": {"HostName": "x.example", "HttpRedirectCode": "302"}}]})
    assert web.index_key(config, "") == "index.html" and web.index_key(config, "a/") == "a/index.html"
    rule = web.routing_rule(config, "docs/x")
    assert web.rule_location(rule, "docs/x", "http", "h") == (301, "http://h/d/x")
    assert web.routing_rule(config, "other") is None
    miss = web.routing_rule(config, "other", 404)
    assert web.rule_location(miss, "other", "http", "h") == (302, "http://x.example/other")
    with pytest.raises(AwsError, match="not well formed"):
        web.check({"IndexDocument": {"Suffix": "a/b"}})
    assert web.redirect_all({"RedirectAllRequestsTo": {"HostName": "e.com"}}, "http", "/p?q") == "http://e.com/p?q"


# -- access logs -----------------------------------------------------------------------------------------


def test_alb_line_and_key():
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
    line = access_logs.alb_line(kind="http", when=ts(2018, 7, 2, 22, 23), created=ts(2018, 7, 2, 22, 22),
                                lb_arn=arn, client=("192.168.1.1", 2817), target=("10.0.0.1", 80),
                                request_time=0.0, target_time=0.001, response_time=0.0, elb_status=200,
                                target_status=200, received=34, sent=366,
                                request_line="GET http://www.example.com:80/ HTTP/1.1", user_agent="curl/7.46.0",
                                tls=None, group_arn="arn:tg", trace="Root=1-2-3", domain=None, action="forward")
    parts = line.split(" ")
    assert parts[:12] == ["http", "2018-07-02T22:23:00.000000Z", "app/web/50dc6c495c0c9188", "192.168.1.1:2817",
                          "10.0.0.1:80", "0.000", "0.001", "0.000", "200", "200", "34", "366"]
    assert '"GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:tg "Root=1-2-3"' in line
    key = access_logs.object_key(prefix="p/", account="123456789012", region="us-east-1",
                                 lb_part="app.web.50dc6c495c0c9188", end=ts(2018, 7, 2, 22, 25), node_ip="127.3.0.1",
                                 gzip=True)
    assert key.startswith("p/AWSLogs/123456789012/elasticloadbalancing/us-east-1/2018/07/02/123456789012_"
                          "elasticloadbalancing_us-east-1_app.web.50dc6c495c0c9188_20180702T2225Z_127.3.0.1_")
    assert key.endswith(".log.gz")


def test_nlb_line_has_whole_seconds_and_aws_tls_names():
    line = access_logs.nlb_line(when=ts(2018, 12, 20, 2, 59, 40), lb_arn="arn:aws:elasticloadbalancing:r:1:"
                                "loadbalancer/net/n/c6e7", listener_arn="arn:aws:elasticloadbalancing:r:1:listener/"
                                "net/n/c6e7/g3d4", client=("72.21.218.154", 51341), destination=("10.0.0.1", 443),
                                connection_ms=5, handshake_ms=None, received=98, sent=246, cert_arn="arn:cert",
                                tls=("TLSv1.2", "ECDHE-RSA-AES128-SHA"), domain=None, created=ts(2018, 12, 20, 2, 59, 30))
    assert line.split(" ")[:12] == ["tls", "2.0", "2018-12-20T02:59:40", "net/n/c6e7", "g3d4", "72.21.218.154:51341",
                                    "10.0.0.1:443", "5", "-", "98", "246", "-"]
    assert " ECDHE-RSA-AES128-SHA tlsv12 " in line and line.endswith("2018-12-20T02:59:30")
    assert access_logs.line_time(line, "nlb") == ts(2018, 12, 20, 2, 59, 40)


def test_shipper_writes_a_batch_once_its_interval_ends():
    written = []
    target = {"bucket": "b", "prefix": "", "interval": 300.0, "account": "1", "region": "r", "lb_part": "app.x.1",
              "node_ip": "127.0.0.1", "gzip": False, "kind": "classic"}
    shipper = access_logs.Shipper(lambda lb: lb.startswith("arn:a"), lambda lb: target)
    line = access_logs.classic_line(when=ts(2020, 1, 1, 0, 1), name="x", client=("1.2.3.4", 5), backend=None,
                                    request_time=0, backend_time=None, response_time=0, elb_status=503,
                                    backend_status=None, received=1, sent=2, request_line="GET / HTTP/1.1",
                                    user_agent=None, tls=None)
    shipper.take({"arn:a": [line], "arn:other": [line]}, now=ts(2020, 1, 1, 0, 7))  # reported late
    assert shipper.ship(ts(2020, 1, 1, 0, 4, 59), lambda *a: written.append(a)) == 0
    assert shipper.ship(ts(2020, 1, 1, 0, 5), lambda *a: written.append(a)) == 1
    bucket, key, data = written[0]
    assert "_20200101T0005Z_" in key and key.endswith(".log") and data == (line + "\n").encode()
    assert shipper.batches == {}


def test_destination_policies_letting_s3_deliver():
    from kumo.services.s3.notifications import allows_s3

    queue = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage",
                            "Resource": "arn:aws:sqs:us-east-1:1:q",
                            "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::logs-*"}}}]}
    import json

    assert allows_s3(json.dumps(queue), "sqs", "logs-1", "1")
    assert not allows_s3(json.dumps(queue), "sqs", "other", "1")
    assert not allows_s3(json.dumps(queue), "sns", "logs-1", "1")
    assert not allows_s3(None, "lambda", "logs-1", "1")
    fn = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                         "Action": "lambda:InvokeFunction", "Condition": {"StringEquals": {"AWS:SourceAccount": "1"}}}]}
    assert allows_s3(json.dumps(fn), "lambda", "b", "1") and not allows_s3(json.dumps(fn), "lambda", "b", "2")
