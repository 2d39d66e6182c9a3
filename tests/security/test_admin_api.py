"""kumo's own endpoints (/_kumo/*) answer only the user: no cross-site request and no DNS rebinding reaches them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .curl import curl

TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})
EVIL = "http://evil.example"


def port_of(endpoint: str) -> int:
    return int(endpoint.rsplit(":", 1)[1])


def test_cross_site_text_plain_reset_is_refused_and_state_is_intact(endpoint, aws):
    aws("iam").create_role(RoleName="survivor", AssumeRolePolicyDocument=TRUST)
    status, body = curl(f"{endpoint}/_kumo/reset", "-H", "Content-Type: text/plain", "-H", f"Origin: {EVIL}",
                        "--data", "{}", method="POST")
    assert status == 403
    assert "origin" in json.loads(body)["error"]
    assert aws("iam").get_role(RoleName="survivor")["Role"]["RoleName"] == "survivor"


def test_a_foreign_host_is_refused_even_with_a_json_body(endpoint, aws):
    """DNS rebinding: the page's own name points at 127.0.0.1, so the request is same-origin but names evil.example."""
    aws("iam").create_role(RoleName="survivor", AssumeRolePolicyDocument=TRUST)
    status, body = curl(f"{endpoint}/_kumo/reset", "-H", "Host: evil.example", "-H", "Content-Type: application/json",
                        "--data", "{}", method="POST")
    assert status == 403 and "host" in json.loads(body)["error"]
    status, _ = curl(f"{endpoint}/_kumo/reset", "-H", f"Host: evil.example:{port_of(endpoint)}",
                     "-H", "Content-Type: application/json", "-H", "Sec-Fetch-Site: same-origin",
                     "-H", f"Origin: http://evil.example:{port_of(endpoint)}", "--data", "{}", method="POST")
    assert status == 403
    assert aws("iam").get_role(RoleName="survivor")["Role"]["RoleName"] == "survivor"


@pytest.mark.parametrize("method,path", [
    ("GET", "/_kumo/health"),
    ("GET", "/_kumo/clock"),
    ("POST", "/_kumo/clock"),
    ("POST", "/_kumo/stop"),
    ("POST", "/_kumo/faults/instances/i-0123456789abcdef0"),
    ("GET", "/_kumo/dataplane/lb/classic"),
    ("GET", "/_kumo/lambda/code/" + "0" * 64 + ".zip"),
    ("GET", "/_kumo/sns/SimpleNotificationService-0.pem"),
])
def test_every_kumo_route_refuses_a_foreign_host(endpoint, method, path):
    """The guard covers kumo's own routes and those services register (faults, ELB, Lambda code, SNS)."""
    args = ["-H", "Host: evil.example"]
    if method == "POST":
        args += ["-H", "Content-Type: application/json", "--data", '{"advance": 86400}']
    status, body = curl(endpoint + path, *args, method=method)
    assert status == 403 and "host" in json.loads(body)["error"]


def test_a_clock_move_from_a_plain_form_is_refused(kumo_server, endpoint):
    before = kumo_server.kumo.clock.now()
    for ctype in ("application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"):
        status, body = curl(f"{endpoint}/_kumo/clock", "-H", f"Content-Type: {ctype}",
                            "--data", '{"advance": 86400}', method="POST")
        assert status == 403 and "JSON" in json.loads(body)["error"]
    assert kumo_server.kumo.clock.now() - before < 3600


def test_a_foreign_origin_is_refused_even_with_json(kumo_server, endpoint):
    before = kumo_server.kumo.clock.now()
    status, _ = curl(f"{endpoint}/_kumo/clock", "-H", f"Origin: {EVIL}", "-H", "Content-Type: application/json",
                     "--data", '{"advance": 86400}', method="POST")
    assert status == 403
    status, _ = curl(f"{endpoint}/_kumo/clock", "-H", "Origin: null", method="GET")
    assert status == 403
    status, _ = curl(f"{endpoint}/_kumo/health", "-H", "Sec-Fetch-Site: cross-site", method="GET")
    assert status == 403
    assert kumo_server.kumo.clock.now() - before < 3600


def test_methods_other_than_get_and_post_are_refused(endpoint):
    for method in ("PUT", "DELETE", "PATCH"):
        status, _ = curl(f"{endpoint}/_kumo/reset", "-H", "Content-Type: application/json", "--data", "{}",
                         method=method)
        assert status == 403


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.9.9.9", "[::1]", "kumo.localhost"])
def test_kumo_own_host_names_are_answered_with_or_without_port(endpoint, host):
    for value in (host, f"{host}:{port_of(endpoint)}"):
        status, body = curl(f"{endpoint}/_kumo/clock", "-H", f"Host: {value}")
        assert status == 200 and "now" in json.loads(body)


def test_kumo_own_origin_is_answered(endpoint):
    status, body = curl(f"{endpoint}/_kumo/clock", "-H", f"Origin: {endpoint}", "-H", "Sec-Fetch-Site: same-origin")
    assert status == 200 and "now" in json.loads(body)


def test_the_aws_api_refuses_cross_site_browser_requests_but_not_sdks(endpoint, aws):
    """A form post or an image from another site carries Origin / Sec-Fetch-Site; SDKs and containers send neither."""
    form = "Action=GetCallerIdentity&Version=2011-06-15"
    status, body = curl(f"{endpoint}/", "-H", "Content-Type: application/x-www-form-urlencoded",
                        "-H", f"Origin: {EVIL}", "--data", form, method="POST")
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    status, body = curl(f"{endpoint}/?{form}", "-H", "Sec-Fetch-Site: cross-site")
    assert status == 403 and b"AccessDenied" in body
    status, _ = curl(f"{endpoint}/?{form}", "-H", "Host: evil.example", "-H", "Sec-Fetch-Site: same-origin")
    assert status == 403  # DNS rebinding: the browser thinks it talks to evil.example
    # Non-browser clients under any host name (a container reaching kumo as http://kumo:4566) still work.
    status, body = curl(f"{endpoint}/?{form}", "-H", "Host: kumo")
    assert status == 200 and b"<Account>" in body
    assert aws("sts").get_caller_identity()["Account"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kumo.cli", *args], capture_output=True, text=True, timeout=60)


def test_cli_reset_clock_fault_and_stop_keep_working(kumo_process):
    k = kumo_process("--ephemeral").start()
    port = str(k.port)
    k.client("iam").create_role(RoleName="wiped", AssumeRolePolicyDocument=TRUST)
    moved = run_cli("clock", "--port", port, "--advance", "30", "--json")
    assert moved.returncode == 0 and "now" in json.loads(moved.stdout)
    fault = run_cli("fault", "instance", "--port", port, "i-0123456789abcdef0", "--kill")
    assert fault.returncode == 2 and "no instance" in fault.stderr  # reached the route: refused by it, not the guard
    reset = run_cli("reset", "--port", port)
    assert reset.returncode == 0, reset.stderr
    assert k.client("iam").list_roles()["Roles"] == []
    stop = run_cli("stop", "--port", port)
    assert stop.returncode == 0 and "stopped" in stop.stdout and k.proc.wait(10) == 0


def test_admin_hosts_adds_names(kumo_process):
    k = kumo_process("--ephemeral", "--admin-hosts", "kumo.internal, other.lan").start()
    assert curl(f"{k.endpoint}/_kumo/clock", "-H", "Host: kumo.internal:4566")[0] == 200
    assert curl(f"{k.endpoint}/_kumo/clock", "-H", "Host: other.lan")[0] == 200
    assert curl(f"{k.endpoint}/_kumo/clock", "-H", "Host: evil.example")[0] == 403
