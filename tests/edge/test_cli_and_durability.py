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
    before = json.loads(kumo_cli("clock", "--json", port=k.port).stdout)["now"]
    after = json.loads(kumo_cli("clock", "--advance", "300", "--json", port=k.port).stdout)["now"]
    assert after - before == pytest.approx(300, abs=0.01)


# -- one kumo per data directory --------------------------------------------------------------------------------


def test_a_second_kumo_on_the_same_data_dir_refuses_naming_the_first(kumo_process):
    first = kumo_process().start()
    second = kumo_process(data_dir=first.data_dir)  # networks of its own: only the data directory is shared
    with pytest.raises(RuntimeError) as e:
        second.start()
    assert f"{first.data_dir} is in use by another kumo (pid {first.proc.pid})" in str(e.value)
    assert "Traceback" not in str(e.value) and second.proc.returncode == 1
    assert first.client("sts").get_caller_identity()["Account"]  # the first one serves on
    first.kill9()  # the kernel drops a dead kumo's hold at once
    assert kumo_process(data_dir=first.data_dir).start().client("sts").get_caller_identity()["Account"]


def test_kumo_stop_stops_the_running_kumo(kumo_process):
    k = kumo_process().start()
    out = kumo_cli("stop", port=k.port)
    assert out.returncode == 0 and f"kumo (pid {k.proc.pid})" in out.stdout and "stopped" in out.stdout
    assert k.proc.wait(10) == 0
    again = kumo_cli("stop", port=k.port)
    assert again.returncode == 1 and "not running" in again.stdout and again.stderr == ""


# -- CLI polish: one line, never a traceback ---------------------------------------------------------------------


def _run(*args: str, env: dict | None = None, shell: str | None = None) -> subprocess.CompletedProcess:
    full = dict(os.environ, **(env or {}))
    for name in ("KUMO_URL", "AWS_ENDPOINT_URL", "KUMO_HOST", "KUMO_PORT"):
        if not (env and name in env):
            full.pop(name, None)
    if shell:
        return subprocess.run(shell, shell=True, capture_output=True, text=True, timeout=60, env=full)
    return subprocess.run([sys.executable, "-m", "kumo.cli", *args], capture_output=True, text=True, timeout=60,
                          env=full)


def test_status_piped_into_head_ends_quietly(kumo_process):
    k = kumo_process().start()
    cli = f"{sys.executable} -m kumo.cli status --port {k.port}"
    out = _run(shell=f"{cli} | head -1")
    assert out.stdout.startswith("kumo ") and out.stdout.count("\n") == 1 and out.stderr == ""
    out = _run(shell=f"{cli} --json | true")  # the reader is gone before kumo writes: EPIPE
    assert out.stderr == ""


def test_a_data_dir_that_cannot_be_used_is_one_line():
    out = _run("start", "--data-dir", "/proc/x", "--port", "0")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [
        "kumo: cannot keep state in /proc/x: No such file or directory; give --data-dir a directory you can write"]


def test_log_level_choices_are_validated(tmp_path):
    out = _run("start", "--log-level", "loud", "--data-dir", str(tmp_path))
    assert out.returncode == 2 and "usage: kumo start" in out.stderr
    assert "argument --log-level: invalid choice: 'loud'" in out.stderr and "Traceback" not in out.stderr
    out = _run("start", "--data-dir", str(tmp_path), env={"KUMO_LOG_LEVEL": "loud"})
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [
        "kumo: log level must be one of debug, info, warning, error, not 'loud'"]
    out = _run("start", "--data-dir", str(tmp_path), env={"KUMO_PORT": "many"})
    assert out.returncode == 2 and out.stderr.strip().splitlines() == ["kumo: KUMO_PORT must be a number, not 'many'"]


def test_an_unknown_option_prints_the_commands_own_usage():
    out = _run("start", "--bogus")
    assert out.returncode == 2 and out.stderr.startswith("usage: kumo start ")
    assert "kumo start: error: unrecognized arguments: --bogus" in out.stderr
    out = _run("fault", "instance", "i-1", "--kill", "--bogus")
    assert out.returncode == 2 and out.stderr.startswith("usage: kumo fault instance ")


@pytest.mark.parametrize("command", [["status"], ["reset"], ["clock"], ["stop"], ["fault", "instance"]])
def test_client_commands_say_where_kumo_is_asked(command):
    out = _run(*command, "--help")
    assert out.returncode == 0
    assert "address of the running kumo" in out.stdout and "to serve on" not in out.stdout
    assert "KUMO_URL" in out.stdout and "AWS_ENDPOINT_URL" in out.stdout


def test_client_commands_honour_kumo_url_then_aws_endpoint_url(kumo_process):
    from tests.conftest import free_port

    k = kumo_process("--time-scale", "0").start()
    dead = f"http://127.0.0.1:{free_port()}"
    for env in ({"KUMO_URL": k.endpoint}, {"AWS_ENDPOINT_URL": k.endpoint},
                {"KUMO_URL": k.endpoint, "AWS_ENDPOINT_URL": dead}):
        out = _run("clock", "--json", env=env)
        assert out.returncode == 0 and json.loads(out.stdout)["scale"] == 0, (env, out.stderr)
    out = _run("clock", env={"KUMO_URL": dead, "AWS_ENDPOINT_URL": k.endpoint})
    assert out.returncode == 1 and f"kumo is not running at {dead}" in out.stdout and out.stderr == ""
    out = _run("clock", "--port", str(k.port), env={"KUMO_URL": dead})  # a flag wins over the environment
    assert out.returncode == 0
    out = _run("status", env={"KUMO_URL": "localhost:4566"})
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [
        "kumo: KUMO_URL is 'localhost:4566', not a URL like http://127.0.0.1:4566; fix or unset it"]


def test_clock_prints_human_time_and_epoch(kumo_process):
    import datetime as dt
    import re

    k = kumo_process("--time-scale", "0").start()
    out = kumo_cli("clock", port=k.port)
    found = re.fullmatch(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC \(epoch (\d+\.\d{3})\), frozen\n", out.stdout)
    assert found, out.stdout
    human = dt.datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.timezone.utc).timestamp()
    assert int(float(found[2])) == int(human)


def test_a_server_that_is_not_kumo_is_one_line():
    import http.server
    import threading

    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        out = _run("clock", "--port", str(server.server_address[1]))
        assert out.returncode == 2 and "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
        assert "is it a kumo?" in out.stderr
    finally:
        server.shutdown()
        server.server_close()
