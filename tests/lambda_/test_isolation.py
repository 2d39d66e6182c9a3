"""What a function can reach on this machine: its own view only (issue 13).

A probe function (python3.12) tries, from inside its environment, what a hostile function would: write to the
host's /usr and /root, read kumo's state.db by its path and through /proc/<kumo pid>/root, see or signal kumo's
process, and read another function's unpacked code.  kumo runs as a process of its own with a durable data
directory here, so state.db exists on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil

import pytest

from .conftest import TRUST, wait_active, zip_of

PROBE = r'''
import os, signal

def _try(fn):
    try:
        out = fn()
        return "ok" if out is None else out
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"

def _write(path):
    with open(path, "w") as f:
        f.write("written by a function")

def _read(path):
    with open(path, "rb") as f:
        return "read %d bytes" % len(f.read(64))

def handler(event, context):
    pid = event["kumo_pid"]
    out = {"write": {p: _try(lambda p=p: _write(p)) for p in event["writes"]},
           "read": {p: _try(lambda p=p: _read(p)) for p in event["reads"]},
           "kumo_pid_in_proc": os.path.exists(f"/proc/{pid}"),
           "signal_kumo": _try(lambda: os.kill(pid, 0)),
           "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}
    return out
'''

# Full isolation (own root file system, pid namespace) needs root and bubblewrap (docs/lambda.md's table).
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("bwrap") or bool(os.environ.get(
    "KUMO_NO_ISOLATION")), reason="environments are fully isolated only as root with bubblewrap installed")

SECRET_CODE = "def handler(event, context):\n    return 'the other function: %s'\n"


def _probe(k, name: str, event: dict) -> dict:
    lam = k.client("lambda")
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    body = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, body
    return body


@pytest.fixture
def isolated(kumo_process):
    """A durable kumo of its own, with the probe function and a second function whose code is secret."""
    k = kumo_process().start()
    iam, lam = k.client("iam"), k.client("lambda")
    role = iam.create_role(RoleName="probe", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    lam.create_function(FunctionName="probe", Runtime="python3.12", Role=role, Handler="lambda_function.handler",
                        Code={"ZipFile": zip_of({"lambda_function.py": PROBE})}, Timeout=10)
    secret = SECRET_CODE % secrets.token_hex(8)
    other_zip = zip_of({"lambda_function.py": secret})
    lam.create_function(FunctionName="other", Runtime="python3.12", Role=role, Handler="lambda_function.handler",
                        Code={"ZipFile": other_zip})
    wait_active(lam, "probe")
    wait_active(lam, "other")
    lam.invoke(FunctionName="other", Payload=b"{}")["Payload"].read()  # its code is unpacked and running
    return k, hashlib.sha256(other_zip).hexdigest()


def test_writes_to_usr_and_root_do_not_reach_the_host(isolated):
    k, _ = isolated
    tag = secrets.token_hex(6)
    targets = [f"/usr/kumo-probe-{tag}", f"/root/kumo-probe-{tag}", f"/usr/local/kumo-probe-{tag}"]
    try:
        body = _probe(k, "probe", {"kumo_pid": k.proc.pid, "writes": targets, "reads": []})
        for path in targets:
            assert not os.path.exists(path), f"the function's write to {path} reached the host ({body['write']})"
    finally:
        for path in targets:
            if os.path.exists(path):
                os.unlink(path)


def test_kumo_state_db_cannot_be_read_by_any_path(isolated):
    k, _ = isolated
    db = os.path.join(os.path.abspath(k.data_dir), "state.db")
    assert os.path.exists(db)  # kumo is durable here: the file is there to be stolen
    pid = k.proc.pid
    paths = [db, f"/proc/{pid}/root{db}", f"/proc/{pid}/cwd/state.db", f"/proc/1/root{db}",
             f"/proc/{pid}/root/proc/{pid}/root{db}"]
    body = _probe(k, "probe", {"kumo_pid": pid, "writes": [], "reads": paths})
    for path in paths:
        assert not body["read"][path].startswith("read"), f"the function read kumo's state.db as {path}"


def test_kumo_pid_is_not_visible_or_signalable(isolated):
    k, _ = isolated
    pid = k.proc.pid
    body = _probe(k, "probe", {"kumo_pid": pid, "writes": [], "reads": []})
    assert body["kumo_pid_in_proc"] is False
    assert body["signal_kumo"] != "ok", "the function could signal kumo's pid"
    # Its own pid namespace: the function sees its own few processes, not the host's.
    assert pid not in body["pids"]
    assert len(body["pids"]) < 10, body["pids"]
    assert k.proc.poll() is None


def test_one_function_cannot_read_another_functions_code(isolated):
    k, sha = isolated
    data = os.path.abspath(k.data_dir)
    code = os.path.join(data, "work", "lambda", "code", sha, "lambda_function.py")
    assert os.path.exists(code)  # the other function's unpacked code, on the host
    pid = k.proc.pid
    paths = [code, f"/proc/{pid}/root{code}"]
    body = _probe(k, "probe", {"kumo_pid": pid, "writes": [], "reads": paths})
    for path in paths:
        assert not body["read"][path].startswith("read"), f"the probe read the other function's code as {path}"
    # Its own code is where AWS puts it, and read-only.
    own = _probe(k, "probe", {"kumo_pid": pid, "writes": ["/var/task/x", "/opt/x", "/tmp/x"],
                              "reads": ["/var/task/lambda_function.py"]})
    assert own["read"]["/var/task/lambda_function.py"].startswith("read")
    assert own["write"]["/var/task/x"] != "ok" and own["write"]["/opt/x"] != "ok"
    assert own["write"]["/tmp/x"] == "ok"
