"""Functions really run: Python, Node.js and a shell custom runtime, synchronously and asynchronously."""

from __future__ import annotations

import base64
import json

from .conftest import wait_for

PY_DEP = "def shout(text):\n    return text.upper() + '!'\n"
PY_HANDLER = """
import os
import textlib  # a dependency shipped in the zip

def handler(event, context):
    print("processing", event.get("word"))
    result = {"shout": textlib.shout(event.get("word", "")), "function": context.function_name,
              "request": context.aws_request_id, "remaining_ms": context.get_remaining_time_in_millis(),
              "task_root": os.environ["LAMBDA_TASK_ROOT"], "cwd": os.getcwd()}
    if event.get("sink"):
        import urllib.request
        urllib.request.urlopen(event["sink"], data=__import__("json").dumps(result).encode())
    return result
"""
NODE_DEP = "module.exports = { pad: (s) => `[${s}]` };\n"
NODE_HANDLER = """
const pad = require('leftish');
exports.handler = async (event, context) => {
  console.log('node got', JSON.stringify(event));
  return { padded: pad.pad(event.word || ''), function: context.functionName, request: context.awsRequestId,
           remaining: context.getRemainingTimeInMillis() > 0 };
};
"""
SHELL_BOOTSTRAP = r"""#!/bin/sh
# A custom runtime in shell: the Runtime API by hand, with curl.
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
  REQUEST_ID="$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | cut -d: -f2 | tr -d '[:space:]')"
  echo "shell runtime handling $REQUEST_ID"
  curl -sS -o /dev/null -X POST "$API/invocation/$REQUEST_ID/response" \
       -d "{\"echo\": $EVENT, \"handler\": \"$_HANDLER\", \"runtime_api\": \"set\"}"
  rm -f "$HEADERS"
done
"""


def _log_text(resp) -> str:
    return base64.b64decode(resp["LogResult"]).decode()


def test_python_function_with_a_dependency_sync(fns):
    config = fns.create("py-dep", {"lambda_function.py": PY_HANDLER, "textlib.py": PY_DEP}, Timeout=10)
    assert config["Runtime"] == "python3.12" and config["State"] == "Active"
    resp, body = fns.invoke("py-dep", {"word": "hello"}, LogType="Tail")
    assert resp["StatusCode"] == 200 and "FunctionError" not in resp
    assert resp["ExecutedVersion"] == "$LATEST"
    assert body["shout"] == "HELLO!" and body["function"] == "py-dep"
    assert body["request"] == resp["ResponseMetadata"]["RequestId"]
    assert 0 < body["remaining_ms"] <= 10000
    assert body["task_root"] == body["cwd"]
    log = _log_text(resp)
    assert f"START RequestId: {body['request']} Version: $LATEST" in log
    assert "processing hello" in log and f"END RequestId: {body['request']}" in log
    assert f"REPORT RequestId: {body['request']}" in log


def test_python_function_with_a_dependency_async(fns, aws):
    sqs = aws("sqs")
    queue = sqs.create_queue(QueueName="py-async-out")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    fns.create("py-async", {"lambda_function.py": PY_HANDLER, "textlib.py": PY_DEP})
    fns.lam.put_function_event_invoke_config(FunctionName="py-async",
                                             DestinationConfig={"OnSuccess": {"Destination": arn}})
    resp = fns.lam.invoke(FunctionName="py-async", InvocationType="Event", Payload=json.dumps({"word": "later"}))
    assert resp["StatusCode"] == 202
    assert resp["Payload"].read() == b""
    msgs = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=10).get("Messages", [])
    record = json.loads(msgs[0]["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["requestId"] == resp["ResponseMetadata"]["RequestId"]
    assert record["requestPayload"] == {"word": "later"}
    assert record["responsePayload"]["shout"] == "LATER!"


def test_node_function_with_a_dependency_sync_and_async(fns, aws):
    fns.create("node-dep", {"index.js": NODE_HANDLER, "node_modules/leftish/index.js": NODE_DEP},
               runtime="nodejs20.x", handler="index.handler")
    resp, body = fns.invoke("node-dep", {"word": "hi"}, LogType="Tail")
    assert "FunctionError" not in resp
    assert body == {"padded": "[hi]", "function": "node-dep", "request": resp["ResponseMetadata"]["RequestId"],
                    "remaining": True}
    log = _log_text(resp)
    assert f"\t{body['request']}\tINFO\tnode got {{\"word\":\"hi\"}}" in log
    # Asynchronously: the result reaches an SQS destination.
    sqs = aws("sqs")
    queue = sqs.create_queue(QueueName="node-async-out")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    fns.lam.put_function_event_invoke_config(FunctionName="node-dep",
                                             DestinationConfig={"OnSuccess": {"Destination": arn}})
    fns.lam.invoke(FunctionName="node-dep", InvocationType="Event", Payload=b'{"word": "bye"}')
    msgs = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=10).get("Messages", [])
    assert json.loads(msgs[0]["Body"])["responsePayload"]["padded"] == "[bye]"


def test_node_es_module_and_callback_handlers(fns):
    fns.create("node-esm", {"app.mjs": "export const run = async (e) => ({esm: true, n: e.n * 2});\n"},
               runtime="nodejs20.x", handler="app.run")
    assert fns.invoke("node-esm", {"n": 21})[1] == {"esm": True, "n": 42}
    fns.create("node-cb", {"index.js": "exports.handler = (e, ctx, cb) => setTimeout(() => cb(null, {cb: e.v}), 5);\n"},
               runtime="nodejs20.x", handler="index.handler")
    assert fns.invoke("node-cb", {"v": "x"})[1] == {"cb": "x"}


def test_shell_custom_runtime(fns):
    fns.create("shell-rt", {"bootstrap": SHELL_BOOTSTRAP}, runtime="provided.al2023", handler="function.handler",
               executable=("bootstrap",))
    for n in range(3):  # the same environment serves them one after another
        resp, body = fns.invoke("shell-rt", {"n": n}, LogType="Tail")
        assert "FunctionError" not in resp
        assert body == {"echo": {"n": n}, "handler": "function.handler", "runtime_api": "set"}
        assert f"shell runtime handling {resp['ResponseMetadata']['RequestId']}" in _log_text(resp)


def test_custom_runtime_without_a_bootstrap_fails_init(fns):
    fns.create("no-boot", {"readme.txt": "nothing to run"}, runtime="provided.al2", handler="x")
    resp, body = fns.invoke("no-boot")
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] in ("Runtime.InvalidEntrypoint", "Runtime.ExitError")


def test_environment_variables_and_role_credentials(fns, aws, account):
    # python3.11 is the interpreter kumo itself runs on, so boto3 is importable inside the function.
    source = """
import os, boto3
def handler(event, context):
    keys = ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "_HANDLER",
            "AWS_EXECUTION_ENV", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "AWS_LAMBDA_INITIALIZATION_TYPE", "GREETING",
            "TZ", "AWS_ENDPOINT_URL"]
    env = {k: os.environ.get(k) for k in keys}
    env["has_secret"] = bool(os.environ.get("AWS_SECRET_ACCESS_KEY")) and bool(os.environ.get("AWS_SESSION_TOKEN"))
    env["caller"] = boto3.client("sts").get_caller_identity()["Arn"]
    return env
"""
    fns.python("env-fn", source, runtime="python3.11", MemorySize=256, Timeout=20,
               Environment={"Variables": {"GREETING": "hello"}})
    _resp, env = fns.invoke("env-fn")
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "env-fn"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/env-fn"
    assert "/[$LATEST]" in env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert env["_HANDLER"] == "lambda_function.handler"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["GREETING"] == "hello" and env["TZ"] == ":UTC" and env["has_secret"]
    assert env["AWS_ENDPOINT_URL"].startswith("http://")
    # The execution role's credentials work against kumo: the function calls STS as the assumed role.
    assert env["caller"] == f"arn:aws:sts::{account}:assumed-role/lambda-exec/env-fn"


def test_output_reaches_cloudwatch_logs(fns, aws):
    fns.python("logged", "import logging\nlogging.getLogger().setLevel(logging.INFO)\n"
                         "def handler(e, c):\n    print('line one')\n    logging.info('via logging')\n    return 1\n")
    resp, _ = fns.invoke("logged")
    rid = resp["ResponseMetadata"]["RequestId"]
    logs = aws("logs")

    def events():
        try:
            found = logs.filter_log_events(logGroupName="/aws/lambda/logged").get("events", [])
        except logs.exceptions.ResourceNotFoundException:  # written a moment after the invocation
            return None
        return found if any(e["message"].startswith("REPORT") for e in found) else None

    messages = [e["message"] for e in wait_for(events)]
    assert messages[0] == f"START RequestId: {rid} Version: $LATEST"
    assert "line one" in messages
    assert any(m.startswith("[INFO]") and m.endswith(f"\t{rid}\tvia logging") for m in messages)
    assert messages[-2] == f"END RequestId: {rid}" and messages[-1].startswith(f"REPORT RequestId: {rid}\t")
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/logged")["logStreams"]
    assert len(streams) == 1 and "[$LATEST]" in streams[0]["logStreamName"]
