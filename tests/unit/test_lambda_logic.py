"""Lambda's pure logic: weighted alias routing, the async retry schedule, invocation records, partial batch
responses, REPORT lines, FunctionName parsing and the Runtime API's HTTP parsing."""

from __future__ import annotations

import asyncio
import collections
import json

import pytest

from kumo.aws.errors import AwsError
from kumo.services.lambda_ import destinations, esm, model, routing, runtime_api, telemetry


# -- weighted routing --------------------------------------------------------------------------------


def test_choose_gives_each_additional_version_its_weight_and_the_primary_the_rest():
    weights = {"2": 0.1}
    assert routing.choose("1", weights, 0.05) == "2"
    assert routing.choose("1", weights, 0.1) == "1"
    assert routing.choose("1", weights, 0.99) == "1"
    assert routing.choose("1", {}, 0.0) == "1"
    assert routing.choose("1", {"2": 1.0}, 0.999) == "2"


@pytest.mark.parametrize("weight", [0.01, 0.1, 0.25, 0.5, 0.9])
@pytest.mark.parametrize("start", [0.0, 0.37, 0.999])
def test_the_spread_splits_any_run_within_a_few_invocations_of_the_weight(weight, start):
    spread = routing.Spread(start)
    counts = collections.Counter(routing.choose("1", {"2": weight}, spread.next()) for _ in range(1000))
    assert abs(counts["2"] - 1000 * weight) <= 3, counts
    # ... and so does every window, not just the whole run.
    window = collections.Counter(routing.choose("1", {"2": weight}, spread.next()) for _ in range(100))
    assert abs(window["2"] - 100 * weight) <= 2, window


# -- async retries -----------------------------------------------------------------------------------


def test_retry_schedule_is_awss_one_then_two_minutes():
    assert routing.retry_delay(1) == 60 and routing.retry_delay(2) == 120
    assert routing.next_step(1, 2, 0, 21600) == "retry"
    assert routing.next_step(2, 2, 60, 21600) == "retry"
    assert routing.next_step(3, 2, 180, 21600) == "RetriesExhausted"
    assert routing.next_step(1, 0, 0, 21600) == "RetriesExhausted"
    assert routing.next_step(1, 2, 0, 59) == "EventAgeExceeded"  # the retry would come too late
    assert routing.next_step(2, 2, 60, 90) == "EventAgeExceeded"


def test_throttled_events_back_off_to_five_minutes():
    assert [routing.throttle_delay(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert routing.throttle_delay(20) == 300


# -- invocation records --------------------------------------------------------------------------------


def test_invocation_record_has_awss_shape():
    doc = destinations.record(1700000000.5, "rid", "arn:aws:lambda:us-east-1:1:function:f:$LATEST", "RetriesExhausted",
                              3, b'{"a": 1}', {"version": "$LATEST", "error": "ValueError",
                                               "payload": b'{"errorMessage": "x"}'})
    assert doc == {"version": "1.0", "timestamp": "2023-11-14T22:13:20.500Z",
                   "requestContext": {"requestId": "rid", "functionArn": "arn:aws:lambda:us-east-1:1:function:f:$LATEST",
                                      "condition": "RetriesExhausted", "approximateInvokeCount": 3},
                   "requestPayload": {"a": 1},
                   "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
                   "responsePayload": {"errorMessage": "x"}}
    never_ran = destinations.record(0, "r", "arn", "EventAgeExceeded", 0, b"[1]", None)
    assert "responseContext" not in never_ran and never_ran["requestPayload"] == [1]
    assert destinations.error_message(b'{"errorMessage": "boom", "errorType": "E"}') == "boom"
    assert destinations.destination_problem("arn:aws:sqs:us-east-1:123456789012:q") is None
    assert destinations.destination_problem("arn:aws:lambda:us-east-1:1:function:self", "self")
    assert destinations.destination_problem("arn:aws:ec2:us-east-1:1:instance/i-1")


# -- SQS batches -------------------------------------------------------------------------------------


def test_partial_batch_responses_as_aws_reads_them():
    ids = {"a", "b", "c"}
    assert esm.failed_items(b'{"batchItemFailures": [{"itemIdentifier": "b"}]}', ids) == {"b"}
    assert esm.failed_items(b'{"batchItemFailures": []}', ids) == set()
    assert esm.failed_items(b"null", ids) == set()
    assert esm.failed_items(b"{}", ids) == set()
    assert esm.failed_items(b"", ids) == set()
    assert esm.failed_items(b'{"batchItemFailures": [{"itemIdentifier": "zzz"}]}', ids) is None  # not in the batch
    assert esm.failed_items(b'{"batchItemFailures": [{"itemIdentifier": ""}]}', ids) is None
    assert esm.failed_items(b'{"batchItemFailures": "b"}', ids) is None
    assert esm.failed_items(b"not json", ids) is None


def test_sqs_record_shape():
    record = esm.sqs_record({"MessageId": "m", "ReceiptHandle": "h", "Body": "b", "MD5OfBody": "md5",
                             "Attributes": {"ApproximateReceiveCount": "1"},
                             "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
                            "arn:aws:sqs:us-east-1:1:q", "us-east-1")
    assert record == {"messageId": "m", "receiptHandle": "h", "body": "b",
                      "attributes": {"ApproximateReceiveCount": "1"},
                      "messageAttributes": {"k": {"stringValue": "v", "stringListValues": [], "binaryListValues": [],
                                                  "dataType": "String"}},
                      "md5OfBody": "md5", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
                      "awsRegion": "us-east-1"}


# -- logs ----------------------------------------------------------------------------------------------


def test_report_lines():
    warm = telemetry.report_line("r", 1.234, 128, 40, None)
    assert warm == "REPORT RequestId: r\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t" \
                   "Max Memory Used: 40 MB\t"
    cold = telemetry.report_line("r", 1.234, 128, 40, 100.5)
    assert "\tInit Duration: 100.50 ms\t" in cold and "Billed Duration: 102 ms" in cold
    timeout = telemetry.report_line("r", 1000.0, 128, 40, None, "timeout")
    assert timeout.endswith("\tStatus: timeout\t")
    oom = telemetry.report_line("r", 5.0, 128, 128, None, "error", "Runtime.OutOfMemory")
    assert oom.endswith("\tStatus: error\tError Type: Runtime.OutOfMemory\t")
    assert telemetry.stream_name(0, "$LATEST", "ab") == "1970/01/01/[$LATEST]ab"


# -- FunctionName ------------------------------------------------------------------------------------


def test_function_names_arns_and_qualifiers():
    ref = model.parse_function("123456789012", "us-east-1", "my-fn")
    assert (ref.account, ref.name, ref.qualifier) == ("123456789012", "my-fn", None)
    ref = model.parse_function("123456789012", "us-east-1", "my-fn:prod")
    assert ref.qualifier == "prod"
    ref = model.parse_function("123456789012", "us-east-1", "111122223333:function:f", "7")
    assert (ref.account, ref.name, ref.qualifier) == ("111122223333", "f", "7")
    ref = model.parse_function("123456789012", "us-east-1", "arn:aws:lambda:us-east-1:111122223333:function:f:$LATEST")
    assert ref.qualifier == "$LATEST" and ref.arn("1") == "arn:aws:lambda:us-east-1:111122223333:function:f:1"
    with pytest.raises(AwsError) as caught:
        model.parse_function("123456789012", "us-east-1", "f:1", "2")
    assert caught.value.code == "InvalidParameterValueException"
    with pytest.raises(AwsError) as caught:
        model.parse_function("123456789012", "us-east-1", "bad name!")
    assert caught.value.code == "ValidationException"
    assert model.parse_arn_function("arn:aws:lambda:eu-west-1:111122223333:function:f") == (
        "111122223333", "eu-west-1", "f", None)
    assert model.parse_arn_function("f") is None


# -- the Runtime API's HTTP -------------------------------------------------------------------------------


class _Owner:
    def __init__(self, admit=True):
        self.calls = []
        self.admit = admit

    def admits(self, peer, local):
        self.calls.append(("admits",))
        return self.admit

    def on_next(self, conn):
        self.calls.append(("next",))

    def on_result(self, conn, request_id, ok, body, headers):
        self.calls.append(("result", request_id, ok, body, headers.get("lambda-runtime-function-error-type")))

    def on_init_error(self, conn, body, headers):
        self.calls.append(("init-error", body))

    def on_too_large(self, conn, request_id):
        self.calls.append(("too-large", request_id))


class _Transport:
    def __init__(self):
        self.written = b""
        self.closed = False

    def write(self, data):
        self.written += data

    def close(self):
        self.closed = True

    def get_extra_info(self, name):
        return None


def _conn(admit=True):
    owner, transport = _Owner(admit), _Transport()
    conn = runtime_api.RuntimeConnection(owner)
    conn.connection_made(transport)
    assert owner.calls.pop(0) == ("admits",)  # asked once, when the connection opens
    return conn, owner, transport


def test_runtime_api_parses_pipelined_split_and_chunked_requests():
    conn, owner, transport = _conn()
    data = (b"POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\nContent-Length: 4\r\n\r\nokay"
            b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
    for i in range(0, len(data), 7):  # arriving in small pieces
        conn.data_received(data[i:i + 7])
    assert owner.calls == [("result", "r1", True, b"okay", None), ("next",)]
    conn.data_received(b"POST /2018-06-01/runtime/invocation/r2/error HTTP/1.1\r\n"
                       b"Lambda-Runtime-Function-Error-Type: Runtime.X\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    assert owner.calls[-1] == ("result", "r2", False, b"hello world", "Runtime.X")
    conn.data_received(b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nExpect: 100-continue\r\n"
                       b"Content-Length: 2\r\n\r\n")
    assert transport.written.endswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    conn.data_received(b"{}")
    assert owner.calls[-1] == ("init-error", b"{}")
    conn.data_received(b"GET /2018-06-01/nope HTTP/1.1\r\n\r\n")
    assert b"404 Not Found" in transport.written


def test_runtime_api_refuses_a_connection_its_owner_does_not_admit():
    conn, owner, transport = _conn(admit=False)
    conn.data_received(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
    assert owner.calls == []  # never reaches the environment
    assert transport.written.startswith(b"HTTP/1.1 403 Forbidden\r\n") and transport.closed
    assert json.loads(transport.written.split(b"\r\n\r\n", 1)[1])["errorType"] == "Forbidden"


def test_runtime_api_refuses_responses_over_six_megabytes():
    conn, owner, _ = _conn()
    size = runtime_api.MAX_RESPONSE + 1
    conn.data_received(f"POST /2018-06-01/runtime/invocation/r/response HTTP/1.1\r\nContent-Length: {size}\r\n\r\n"
                       .encode())
    conn.data_received(b"x" * size)
    assert owner.calls == [("too-large", "r")]


def test_the_202_always_precedes_what_follows_it():
    async def main():
        conn, _owner, transport = _conn()
        conn.accepted()
        assert conn.send_event({"Lambda-Runtime-Aws-Request-Id": "r2"}, b"{}")
        assert transport.written.startswith(runtime_api.ACCEPTED)
        await asyncio.sleep(0)
        assert transport.written.count(b"202 Accepted") == 1
        head, _, body = transport.written[len(runtime_api.ACCEPTED):].partition(b"\r\n\r\n")
        assert b"Lambda-Runtime-Aws-Request-Id: r2" in head and body == b"{}"
        assert json.loads(runtime_api.ACCEPTED.split(b"\r\n\r\n")[1]) == {"status": "OK"}

    asyncio.new_event_loop().run_until_complete(main())
