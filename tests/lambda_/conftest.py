"""Lambda test helpers: an execution role, zips built in memory, functions that are Active before use.

Every function (and event source mapping) a test creates is deleted when the test ends, which stops its
environments' processes: a test leaves no runtime process behind.
"""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def zip_of(files: dict[str, str | bytes], executable: tuple[str, ...] = ()) -> bytes:
    """A deployment package; ``executable`` files get mode 755 (a custom runtime's bootstrap)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100755 if name in executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content)
    return buf.getvalue()


def wait_for(check, timeout: float = 15.0, interval: float = 0.02):
    """Poll ``check()`` until it returns something truthy; fail after ``timeout`` real seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        time.sleep(interval)


def wait_active(lam, name: str, qualifier: str | None = None) -> dict:
    kw = {"Qualifier": qualifier} if qualifier else {}

    def ready():
        config = lam.get_function_configuration(FunctionName=name, **kw)
        if config["State"] == "Failed":
            raise AssertionError(f"function failed: {config.get('StateReason')}")
        return config if config["State"] == "Active" and config.get("LastUpdateStatus") != "InProgress" else None

    return wait_for(ready)


class Functions:
    def __init__(self, lam, role_arn: str):
        self.lam = lam
        self.role = role_arn

    def create(self, name: str, files: dict, runtime: str = "python3.12", handler: str = "lambda_function.handler",
               executable: tuple[str, ...] = (), wait: bool = True, **kw) -> dict:
        config = self.lam.create_function(FunctionName=name, Runtime=runtime, Role=self.role, Handler=handler,
                                          Code={"ZipFile": zip_of(files, executable)}, **kw)
        return wait_active(self.lam, name) if wait else config

    def python(self, name: str, source: str, **kw) -> dict:
        return self.create(name, {"lambda_function.py": source}, **kw)

    def invoke(self, name: str, event=None, **kw) -> tuple[dict, object]:
        """(response, decoded payload)."""
        payload = json.dumps(event if event is not None else {}).encode()
        resp = self.lam.invoke(FunctionName=name, Payload=payload, **kw)
        body = resp["Payload"].read()
        return resp, (json.loads(body) if body else None)


@pytest.fixture
def role(aws) -> str:
    iam = aws("iam")
    return iam.create_role(RoleName="lambda-exec", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]


@pytest.fixture
def lam(aws):
    client = aws("lambda")
    yield client
    for mapping in client.list_event_source_mappings().get("EventSourceMappings", []):
        client.delete_event_source_mapping(UUID=mapping["UUID"])
    for fn in client.list_functions().get("Functions", []):
        client.delete_function(FunctionName=fn["FunctionName"])


@pytest.fixture
def fns(lam, role) -> Functions:
    return Functions(lam, role)
