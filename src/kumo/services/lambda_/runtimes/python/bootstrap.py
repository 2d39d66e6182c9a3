"""kumo's runtime client for Python functions.

It speaks the Lambda Runtime API at $AWS_LAMBDA_RUNTIME_API exactly as a
custom runtime does (GET .../invocation/next, POST .../response, .../error,
/runtime/init/error), so kumo serves any runtime client the same way; AWS's
own awslambdaric would work against kumo unchanged.  This one is small and
imports almost nothing, because its start-up time is the function's cold start.

Behaviour follows AWS's Python runtime: the handler "module.function" is
imported from LAMBDA_TASK_ROOT (then /opt/python/lib/pythonX.Y/site-packages
and /opt/python), errors are reported as {errorMessage, errorType, requestId,
stackTrace}, import failures as Runtime.ImportModuleError /
Runtime.UserCodeSyntaxError / Runtime.HandlerNotFound, print() output is
unbuffered, and the root logger writes "[LEVEL]\\ttime\\trequest id\\tmessage".

Usage: bootstrap.py [OPT_DIR]   (OPT_DIR replaces /opt when kumo runs without mount namespaces)
"""

import io
import json
import os
import socket
import sys
import time

_REQUEST_ID = ""
_NEXT = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: runtime\r\nContent-Length: 0\r\n\r\n"
_ENV = {}


class RuntimeApi:
    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.address = (host or "127.0.0.1", int(port))
        self.sock = None
        self.buf = b""

    def _connect(self):
        self.sock = socket.create_connection(self.address)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    @staticmethod
    def _encode(method, path, body=b"", headers=None):
        head = [f"{method} /2018-06-01{path} HTTP/1.1", "Host: runtime", f"Content-Length: {len(body)}"]
        for k, v in (headers or {}).items():
            head.append(f"{k}: {v}")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body

    def request(self, method, path, body=b"", headers=None):
        if self.sock is None:
            self._connect()
        self.sock.sendall(self._encode(method, path, body, headers))
        return self._response()

    def post_then_next(self, path, body, headers=None):
        """POST a result and ask for the next event in one write (HTTP/1.1 pipelining); the next event."""
        self.sock.sendall(self._encode("POST", path, body, headers) + _NEXT)
        self._response()
        return self._response()

    def _read_more(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("the Runtime API closed the connection")
        self.buf += chunk

    def _response(self):
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            self._read_more()
        lines = self.buf[:end].decode("latin-1").split("\r\n")
        self.buf = self.buf[end + 4:]
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            self._read_more()
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body


class LambdaContext:
    def __init__(self, headers):
        self.aws_request_id = headers.get("lambda-runtime-aws-request-id", "")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn", "")
        self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms") or 0)
        self.function_name = _ENV["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = _ENV["AWS_LAMBDA_FUNCTION_VERSION"]
        self.memory_limit_in_mb = _ENV["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = _ENV["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = _ENV["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.tenant_id = headers.get("lambda-runtime-aws-tenant-id")
        self.identity = _Identity(headers.get("lambda-runtime-cognito-identity"))
        self.client_context = _client_context(headers.get("lambda-runtime-client-context"))

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def __repr__(self):
        return (f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name={self.log_group_name},"
                f"log_stream_name={self.log_stream_name},function_name={self.function_name},"
                f"memory_limit_in_mb={self.memory_limit_in_mb},function_version={self.function_version},"
                f"invoked_function_arn={self.invoked_function_arn}])")


class _Identity:
    def __init__(self, raw):
        doc = json.loads(raw) if raw else {}
        self.cognito_identity_id = doc.get("cognitoIdentityId")
        self.cognito_identity_pool_id = doc.get("cognitoIdentityPoolId")


class _Client:
    def __init__(self, doc):
        self.installation_id = doc.get("installation_id")
        self.app_title = doc.get("app_title")
        self.app_version_name = doc.get("app_version_name")
        self.app_version_code = doc.get("app_version_code")
        self.app_package_name = doc.get("app_package_name")


class _ClientContext:
    def __init__(self, doc):
        self.client = _Client(doc["client"]) if doc.get("client") else None
        self.custom = doc.get("custom")
        self.env = doc.get("env")


def _client_context(raw):
    if not raw:
        return None
    return _ClientContext(json.loads(raw))


class Fault(Exception):
    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def _error_doc(exc, request_id=""):
    import traceback

    if isinstance(exc, Fault):
        return {"errorMessage": exc.message, "errorType": exc.error_type, "requestId": request_id,
                "stackTrace": exc.trace}
    frames = traceback.extract_tb(exc.__traceback__)
    while frames and frames[0].filename == __file__:
        frames = frames[1:]
    return {"errorMessage": str(exc), "errorType": type(exc).__name__, "requestId": request_id,
            "stackTrace": traceback.format_list(frames)}


def _log_error(doc):
    lines = [f"[ERROR] {doc['errorType']}: {doc['errorMessage']}"]
    if doc.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        lines.extend(s.rstrip("\n") for s in doc["stackTrace"])
    sys.stdout.write("\r".join(lines).replace("\n", "\r") + "\n")


def _load_handler(spec):
    import importlib

    try:
        modname, fname = spec.rsplit(".", 1)
    except ValueError as exc:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{spec}': {exc}")
    if modname.split(".")[0] in sys.builtin_module_names:
        raise Fault("Runtime.BuiltInModuleConflict", f"Cannot use built-in module {modname} as a handler module")
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as exc:
        raise Fault("Runtime.ImportModuleError", f"Unable to import module '{modname}': {exc}")
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise Fault("Runtime.UserCodeSyntaxError", f"Syntax error in module '{modname}': {exc}", trace)
    handler = getattr(module, fname, None)
    if handler is None:
        missing = Fault("Runtime.HandlerNotFound", f"Handler '{fname}' missing on module '{modname}'")

        def handler(event, context):
            raise missing

    return handler


class _RequestIdFilter:
    def filter(self, record):
        record.aws_request_id = _REQUEST_ID
        return True


def _setup_logging():
    import logging

    class Handler(logging.StreamHandler):
        def emit(self, record):
            try:
                msg = self.format(record)
                self.stream.write(msg.replace("\n", "\r") + "\n")
            except Exception:
                self.handleError(record)

    handler = Handler(sys.stdout)
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"))
    handler.formatter.converter = time.gmtime
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


def main():
    global _REQUEST_ID
    # print() reaches the logs at once, as on AWS.
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", write_through=True)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", write_through=True)
    api = RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"])
    for key in ("AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME"):
        _ENV[key] = os.environ.get(key)
    task_root = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
    opt = sys.argv[1] if len(sys.argv) > 1 else "/opt"
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    sys.path[0:0] = [task_root, f"{opt}/python/lib/{version}/site-packages", f"{opt}/python"]
    if sys.path[3:4] == [os.path.dirname(os.path.abspath(__file__))]:
        del sys.path[3]  # the client's own directory is not the function's
    os.chdir(task_root)
    try:
        _setup_logging()
        handler = _load_handler(os.environ.get("_HANDLER", ""))
    except Exception as exc:
        doc = _error_doc(exc)
        _log_error(doc)
        api.request("POST", "/runtime/init/error", json.dumps(doc).encode(),
                    {"Lambda-Runtime-Function-Error-Type": doc["errorType"]})
        sys.exit(1)
    dumps, loads = json.dumps, json.loads
    _status, headers, body = api.request("GET", "/runtime/invocation/next")
    while True:
        request_id = headers.get("lambda-runtime-aws-request-id", "")
        _REQUEST_ID = request_id
        trace = headers.get("lambda-runtime-trace-id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        try:
            event = loads(body) if body else None
            result = handler(event, LambdaContext(headers))
            try:
                out = dumps(result).encode()
            except (TypeError, ValueError) as exc:
                raise Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}")
        except Exception as exc:
            doc = _error_doc(exc, request_id)
            _log_error(doc)
            _status, headers, body = api.post_then_next(
                f"/runtime/invocation/{request_id}/error", dumps(doc).encode(),
                {"Lambda-Runtime-Function-Error-Type": doc["errorType"], "Content-Type": "application/json"})
            continue
        _status, headers, body = api.post_then_next(f"/runtime/invocation/{request_id}/response", out)


if __name__ == "__main__":
    try:
        main()
    except (ConnectionError, OSError) as exc:  # the Runtime API is gone: so is the environment
        sys.stderr.write(f"kumo runtime client: {exc}\n")
        sys.exit(2)
