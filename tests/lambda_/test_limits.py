"""Errors and limits: AWS's error payloads, the timeout, the memory limit, reserved concurrency, cold starts."""

from __future__ import annotations

import base64
import json
import re
import threading
import time

import pytest
from botocore.exceptions import ClientError

COUNTER = """
import os, time
calls = 0
def handler(event, context):
    global calls
    calls += 1
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("exit") is not None:
        os._exit(event["exit"])
    if event.get("allocate_mb"):
        hog = b"x" * (event["allocate_mb"] * 1024 * 1024)
        return {"calls": calls, "held": len(hog)}
    # Each environment has a pid namespace of its own (where kumo can make one): its log stream names it.
    return {"calls": calls, "pid": os.getpid(), "env": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]}
"""


def _report(resp) -> str:
    log = base64.b64decode(resp["LogResult"]).decode()
    return next(line for line in log.splitlines() if line.startswith("REPORT"))


def test_a_raising_handler_gives_aws_error_payload(fns):
    fns.python("raiser", "def helper():\n    raise KeyError('missing thing')\n\n"
                         "def handler(event, context):\n    helper()\n")
    resp, body = fns.invoke("raiser", {}, LogType="Tail")
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "KeyError"
    assert body["errorMessage"] == "'missing thing'"
    assert body["requestId"] == resp["ResponseMetadata"]["RequestId"]
    trace = body["stackTrace"]
    assert len(trace) == 2
    # /var/task as root; without mount namespaces the task root is the unpacked code's directory.
    assert trace[0].startswith('  File "/') and 'lambda_function.py", line 5, in handler\n    helper()' in trace[0]
    assert 'lambda_function.py", line 2, in helper\n' in trace[1]
    log = base64.b64decode(resp["LogResult"]).decode()
    assert "[ERROR] KeyError: 'missing thing'\rTraceback (most recent call last):" in log


def test_import_errors_are_aws_init_errors(fns):
    fns.python("bad-import", "import not_installed_anywhere\ndef handler(e, c):\n    return 1\n")
    resp, body = fns.invoke("bad-import")
    assert resp["FunctionError"] == "Unhandled"
    assert body == {"errorMessage": "Unable to import module 'lambda_function': No module named "
                                    "'not_installed_anywhere'", "errorType": "Runtime.ImportModuleError",
                    "requestId": "", "stackTrace": []}
    fns.python("no-handler", "def other(e, c):\n    return 1\n")
    _resp, body = fns.invoke("no-handler")
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "Handler 'handler' missing on module 'lambda_function'"
    fns.python("syntax", "def handler(e, c)\n    return 1\n")
    _resp, body = fns.invoke("syntax")
    assert body["errorType"] == "Runtime.UserCodeSyntaxError"


def test_timeout_is_enforced_and_resets_the_environment(fns):
    fns.python("slow", COUNTER, Timeout=1)
    resp, body = fns.invoke("slow", {}, LogType="Tail")
    assert body["calls"] == 1 and "Init Duration" in _report(resp)
    resp, body = fns.invoke("slow", {}, LogType="Tail")
    assert body["calls"] == 2 and "Init Duration" not in _report(resp)  # warm: same environment
    started = time.monotonic()
    resp, body = fns.invoke("slow", {"sleep": 5}, LogType="Tail")
    assert time.monotonic() - started < 3
    assert resp["FunctionError"] == "Unhandled"
    rid = resp["ResponseMetadata"]["RequestId"]
    assert body == {"errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {rid} Error: Task timed out after 1.00 seconds"}
    log = base64.b64decode(resp["LogResult"]).decode()
    assert re.search(rf"\d{{4}}-\d\d-\d\dT[\d:.]+Z {rid} Task timed out after 1.00 seconds", log)
    assert "Status: timeout" in _report(resp)
    # The environment was reset: the next invocation is a cold start that runs init again.
    resp, body = fns.invoke("slow", {}, LogType="Tail")
    assert body["calls"] == 1 and "Init Duration" in _report(resp)


def test_memory_past_memory_size_fails_as_out_of_memory(fns):
    fns.python("hog", COUNTER, MemorySize=128, Timeout=10)
    # The address-space limit is the fallback where kumo cannot make a memory cgroup: unlimited, it is the cgroup.
    fns.python("where", "import resource\ndef handler(e, c):\n    return resource.getrlimit(resource.RLIMIT_AS)[0]\n")
    in_cgroup = fns.invoke("where")[1] == -1
    resp, body = fns.invoke("hog", {"allocate_mb": 40}, LogType="Tail")
    assert "FunctionError" not in resp and body["held"] == 40 * 1024 * 1024
    used = int(re.search(r"Max Memory Used: (\d+) MB", _report(resp)).group(1))
    assert 40 <= used <= 128
    resp, body = fns.invoke("hog", {"allocate_mb": 400}, LogType="Tail")
    assert resp["FunctionError"] == "Unhandled"
    if not in_cgroup:  # not root: the RLIMIT_AS fallback, where Python raises MemoryError
        assert body["errorType"] == "MemoryError"
        return
    rid = resp["ResponseMetadata"]["RequestId"]
    assert body["errorType"] == "Runtime.OutOfMemory"
    assert body["errorMessage"] == f"RequestId: {rid} Error: Runtime exited with error: signal: killed"
    assert "Error Type: Runtime.OutOfMemory" in _report(resp)
    # A new environment serves the next one.
    resp, body = fns.invoke("hog", {}, LogType="Tail")
    assert body["calls"] == 1 and "Init Duration" in _report(resp)


def test_a_crashing_runtime_is_an_exit_error(fns):
    fns.python("crasher", COUNTER)
    resp, body = fns.invoke("crasher", {"exit": 3})
    rid = resp["ResponseMetadata"]["RequestId"]
    assert body == {"errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 3"}
    assert fns.invoke("crasher")[1]["calls"] == 1


def test_ephemeral_storage_bounds_tmp(fns):
    source = ("import os\ndef handler(e, c):\n    st = os.statvfs('/tmp')\n"
              "    open('/tmp/probe', 'w').write('x')\n    return st.f_blocks * st.f_frsize // (1024 * 1024)\n")
    fns.python("tmp-size", source, EphemeralStorage={"Size": 1024}, MemorySize=256)
    _resp, size = fns.invoke("tmp-size")
    if size != 1024:
        pytest.skip("kumo runs without mount namespaces here (not root): /tmp is the host's")
    assert size == 1024


def test_reserved_concurrency_throttles_the_sixth_concurrent_call(fns, lam):
    fns.python("reserved", COUNTER, Timeout=10)
    assert lam.put_function_concurrency(FunctionName="reserved",
                                        ReservedConcurrentExecutions=5)["ReservedConcurrentExecutions"] == 5
    assert lam.get_function(FunctionName="reserved")["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    results: list = []

    def call():
        try:
            results.append(lam.invoke(FunctionName="reserved", Payload=b'{"sleep": 2}')["StatusCode"])
        except ClientError as exc:
            results.append(exc)

    threads = [threading.Thread(target=call) for _ in range(5)]
    for t in threads:
        t.start()
    time.sleep(0.8)  # the five are in flight (their environments start or run)
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName="reserved", Payload=b"{}")
    err = caught.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert err["Error"]["Code"] == "TooManyRequestsException"
    assert err["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    for t in threads:
        t.join()
    assert results == [200] * 5
    assert lam.invoke(FunctionName="reserved", Payload=b"{}")["StatusCode"] == 200  # capacity is back


def test_reserved_concurrency_zero_throttles_everything_and_limits_are_checked(fns, lam):
    fns.python("zero", COUNTER)
    lam.put_function_concurrency(FunctionName="zero", ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException):
        lam.invoke(FunctionName="zero", Payload=b"{}")
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as caught:
        lam.put_function_concurrency(FunctionName="zero", ReservedConcurrentExecutions=950)
    assert "below its minimum value of [100]" in str(caught.value)
    lam.delete_function_concurrency(FunctionName="zero")
    assert lam.get_function_concurrency(FunctionName="zero").get("ReservedConcurrentExecutions") is None
    assert lam.invoke(FunctionName="zero", Payload=b"{}")["StatusCode"] == 200
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 1000
    assert settings["AccountUsage"]["FunctionCount"] == 1


def test_environments_scale_out_per_concurrent_request(fns, lam):
    fns.python("scale", COUNTER, Timeout=10)
    envs: list = []

    def call():
        body = json.loads(lam.invoke(FunctionName="scale", Payload=b'{"sleep": 0.5}')["Payload"].read())
        envs.append(body["env"])

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(envs)) == 4  # four environments, one invocation each at a time
    again = {json.loads(lam.invoke(FunctionName="scale", Payload=b"{}")["Payload"].read())["env"] for _ in range(6)}
    assert again <= set(envs)  # warm environments are reused


def test_payload_limits_and_bad_payloads(fns, lam):
    fns.python("limits", COUNTER)
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName="limits", Payload=b'{"x": "' + b"a" * (6 * 1024 * 1024) + b'"}')
    assert caught.value.response["Error"]["Code"] == "RequestTooLargeException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName="limits", InvocationType="Event",
                   Payload=b'{"x": "' + b"a" * (1024 * 1024) + b'"}')
    assert caught.value.response["Error"]["Code"] == "RequestTooLargeException"
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName="limits", Payload=b"not json")
    assert lam.invoke(FunctionName="limits", InvocationType="DryRun")["StatusCode"] == 204
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as caught:
        lam.invoke(FunctionName="nope", Payload=b"{}")
    assert caught.value.response["Message"].startswith("Function not found: arn:aws:lambda:us-east-1:")
    big = fns.invoke("limits", {"allocate_mb": 1})[1]
    assert big["held"] == 1024 * 1024


def test_a_response_over_six_megabytes_fails(fns):
    fns.python("huge", "def handler(e, c):\n    return 'x' * (7 * 1024 * 1024)\n", MemorySize=512)
    resp, body = fns.invoke("huge")
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Function.ResponseSizeTooLarge"


def test_the_timeout_runs_on_kumos_clock(fns, lam, kumo_server):
    import socket

    hung = ("import socket, time\ndef handler(e, c):\n    socket.create_connection(('127.0.0.1', e['port'])).close()\n"
            "    time.sleep(60)\n")
    fns.python("hung", hung, Timeout=600)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(20)
    out: dict = {}

    def call():
        payload = json.dumps({"port": listener.getsockname()[1]}).encode()
        out["body"] = json.loads(lam.invoke(FunctionName="hung", Payload=payload)["Payload"].read())

    thread = threading.Thread(target=call)
    started = time.monotonic()
    thread.start()
    try:
        listener.accept()[0].close()  # the function runs: its invocation is in flight
    finally:
        listener.close()
    kumo_server.advance(600)  # ten minutes of kumo's clock, in no time
    thread.join(20)
    assert not thread.is_alive() and time.monotonic() - started < 30
    assert out["body"]["errorType"] == "Sandbox.Timedout"
    assert out["body"]["errorMessage"].endswith("Task timed out after 600.00 seconds")


def test_idle_environments_are_reaped_on_kumos_clock(fns, kumo_server):
    fns.python("idle", COUNTER)
    assert fns.invoke("idle")[1]["calls"] == 1
    assert fns.invoke("idle")[1]["calls"] == 2
    kumo_server.advance(299)
    assert fns.invoke("idle")[1]["calls"] == 3  # still warm
    kumo_server.advance(331)
    resp, body = fns.invoke("idle", LogType="Tail")
    assert body["calls"] == 1 and "Init Duration" in _report(resp)  # reaped: a cold start


def test_invocations_publish_aws_lambda_metrics(fns, aws):
    import datetime as dt

    from .conftest import wait_for

    fns.python("measured", "def handler(e, c):\n    if e.get('fail'):\n        raise ValueError('x')\n    return 1\n")
    for event in ({}, {}, {"fail": True}):
        fns.invoke("measured", event)
    cw = aws("cloudwatch")
    now = dt.datetime.now(dt.timezone.utc)
    window = {"StartTime": now - dt.timedelta(days=1), "EndTime": now + dt.timedelta(days=30), "Period": 86400}

    def stat(name: str, statistic: str):
        points = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName=name, Statistics=[statistic],
                                          Dimensions=[{"Name": "FunctionName", "Value": "measured"}],
                                          **window)["Datapoints"]
        return sum(p[statistic] for p in points) if points else 0

    wait_for(lambda: stat("Invocations", "Sum") == 3)
    assert stat("Errors", "Sum") == 1
    assert stat("Duration", "SampleCount") == 3
    assert stat("ConcurrentExecutions", "Maximum") >= 1


def test_the_account_limit_is_configurable(kumo_process):
    from .conftest import TRUST, wait_active, zip_of

    kumo = kumo_process("--ephemeral", "--lambda-concurrency", "2").start()
    iam, lam = kumo.client("iam"), kumo.client("lambda")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    lam.create_function(FunctionName="busy", Runtime="python3.12", Role=role, Handler="lambda_function.handler",
                        Code={"ZipFile": zip_of({"lambda_function.py": COUNTER})})
    wait_active(lam, "busy")
    assert lam.get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == 2
    threads = [threading.Thread(target=lambda: kumo.client("lambda").invoke(FunctionName="busy",
                                                                            Payload=b'{"sleep": 1.5}'))
               for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.6)
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName="busy", Payload=b"{}")
    assert caught.value.response["Reason"] == "ConcurrentInvocationLimitExceeded"
    for t in threads:
        t.join()
