"""``kumo start`` as users run it: ready line, health, status, reset, signals, and kill -9."""

import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest
from botocore.exceptions import ClientError

TRUST = '{"Version": "2012-10-17", "Statement": []}'


def kumo_cli(*args, port: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kumo.cli", *args, "--port", str(port)],
                          capture_output=True, text=True, timeout=60)


def test_start_health_status_and_sigterm(kumo_process):
    k = kumo_process().start()
    assert k.ready_line.startswith("kumo ") and f"ready on http://127.0.0.1:{k.port}" in k.ready_line
    with urllib.request.urlopen(k.endpoint + "/_kumo/health", timeout=10) as resp:
        health = json.loads(resp.read())
    assert health["version"] and health["uptime"] >= 0
    assert health["services"]["iam"] in ("available", "running")
    assert health["services"]["sts"] in ("available", "running")
    status = kumo_cli("status", port=k.port)
    assert status.returncode == 0 and "iam" in status.stdout
    assert k.terminate(signal.SIGTERM) == 0


def test_sigint_shuts_down_cleanly(kumo_process):
    k = kumo_process().start()
    assert k.terminate(signal.SIGINT) == 0


def test_status_when_not_running():
    from tests.conftest import free_port

    out = kumo_cli("status", port=free_port())
    assert out.returncode == 1 and "not running" in out.stdout


def test_acknowledged_role_survives_kill_9(kumo_process, tmp_path):
    k = kumo_process().start()
    iam = k.client("iam")
    iam.create_role(RoleName="survivor", AssumeRolePolicyDocument=TRUST)
    k.kill9()  # right after the response: no clean shutdown
    k2 = kumo_process(data_dir=k.data_dir).start()
    role = k2.client("iam").get_role(RoleName="survivor")["Role"]
    assert role["RoleName"] == "survivor"


def test_a_second_kumo_on_the_same_loopback_networks_refuses_to_start(kumo_process, tmp_path):
    first = kumo_process().start()
    second = kumo_process(data_dir=tmp_path / "other")
    second.loopback_base = first.loopback_base + 2  # overlaps: each kumo uses four /16s from its base on
    with pytest.raises(RuntimeError) as e:
        second.start()
    overlap = f"127.{first.loopback_base + 2}.0.0/16 is in use by another kumo (pid {first.proc.pid})"
    assert overlap in str(e.value) and "--loopback-base" in str(e.value)
    assert second.proc.returncode == 1
    assert first.client("sts").get_caller_identity()["Account"]  # the first one serves on
    first.kill9()  # the kernel drops a dead kumo's hold: its networks are free again at once
    assert kumo_process(like=first).start().client("sts").get_caller_identity()["Account"]


def test_reset_wipes_state(kumo_process):
    k = kumo_process().start()
    k.client("iam").create_role(RoleName="gone", AssumeRolePolicyDocument=TRUST)
    out = kumo_cli("reset", port=k.port)
    assert out.returncode == 0
    with pytest.raises(ClientError) as e:
        k.client("iam").get_role(RoleName="gone")
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"


def test_ephemeral_keeps_nothing(kumo_process):
    k = kumo_process("--ephemeral").start()
    assert "in memory" in k.ready_line
    k.client("iam").create_role(RoleName="tmp", AssumeRolePolicyDocument=TRUST)
    k.kill9()
    k2 = kumo_process("--ephemeral", data_dir=k.data_dir).start()
    assert k2.client("iam").list_roles()["Roles"] == []


def test_configuration_from_environment(tmp_path):
    from tests.conftest import claim_loopback, free_port

    port = free_port()
    claim = claim_loopback(60, 229)
    env = {"KUMO_PORT": str(port), "KUMO_ACCOUNT_ID": "111122223333", "KUMO_DATA_DIR": str(tmp_path / "d"),
           "KUMO_LOOPBACK_BASE": str(claim.base), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}  # kumo runs from a checkout too
    proc = subprocess.Popen([sys.executable, "-m", "kumo.cli", "start"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert f":{port}" in line
        req = urllib.request.Request(f"http://127.0.0.1:{port}/", method="POST",
                                     data=b"Action=GetCallerIdentity&Version=2011-06-15",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert b"<Account>111122223333</Account>" in resp.read()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        proc.stdout.close()
        proc.stderr.close()
        claim.release()


def test_bad_account_id_is_refused(tmp_path):
    out = subprocess.run([sys.executable, "-m", "kumo.cli", "start", "--account-id", "12", "--data-dir",
                          str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "12 digits" in out.stderr


def test_clock_endpoint_advances_time(kumo_process):
    k = kumo_process("--time-scale", "0").start()
    before = json.loads(kumo_cli("clock", port=k.port).stdout)["now"]
    after = json.loads(kumo_cli("clock", "--advance", "300", port=k.port).stdout)["now"]
    assert after - before == pytest.approx(300, abs=0.01)
