"""Classic ELB test helpers: instances that say who they are, the load balancer's node addresses, cleanup."""

from __future__ import annotations

import http.client
import json
import shutil
import tempfile
import time
import urllib.request

import pytest

from kumo.config import Settings
from kumo.server import ServerThread
from tests.ec2.conftest import AMI, answers, terminate_all, wait_state


@pytest.fixture(scope="package")
def kumo_server():
    """A kumo of this package's own, on a loopback range no other kumo holds (tests.conftest.LoopbackClaim)."""
    from tests.conftest import claim_loopback

    claim = claim_loopback(60, 229)
    data_dir = tempfile.mkdtemp(prefix="kumo-elb-test-")
    server = ServerThread(Settings(port=0, ephemeral=True, data_dir=data_dir, loopback_base=claim.base)).start()
    yield server
    server.stop()
    claim.release()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="package")
def endpoint(kumo_server) -> str:
    return kumo_server.endpoint

# A web server that answers with the address it runs on and the X-Forwarded-For it got (port 8080), can
# set an application cookie (/login), and an echo server for raw TCP (port 9001).  KUMO_SELF_IP is the
# instance's own loopback address (docs/compute.md).
WHOAMI = r"""#!/bin/sh
cat > "${TMPDIR:-/tmp}/whoami.py" <<'EOF'
import http.server, json, os, socket, threading, time
ME = os.environ.get("KUMO_SELF_IP", "0.0.0.0")

class Web(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path.startswith("/slow?seconds="):
            time.sleep(float(self.path.split("=", 1)[1]))
        body = json.dumps({"ip": ME, "xff": self.headers.get("X-Forwarded-For"),
                           "proto": self.headers.get("X-Forwarded-Proto"),
                           "trace": self.headers.get("X-Amzn-Trace-Id")}).encode()
        self.send_response(200)
        if self.path == "/login":
            self.send_header("Set-Cookie", "SESSION=abc; Path=/")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

def echo():
    srv = socket.create_server((ME, 9001))
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=lambda c=conn: [c.sendall(b"echo:" + d) for d in iter(lambda: c.recv(4096), b"")],
                         daemon=True).start()

threading.Thread(target=echo, daemon=True).start()
http.server.ThreadingHTTPServer((ME, 8080), Web).serve_forever()
EOF
nohup python3 "${TMPDIR:-/tmp}/whoami.py" >/dev/null 2>&1 &
"""


def start_web(ec2, zones: list[str]) -> list[dict]:
    """One whoami instance per zone given, running and answering on port 8080."""
    ids = [ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1, UserData=WHOAMI,
                             Placement={"AvailabilityZone": zone})["Instances"][0]["InstanceId"] for zone in zones]
    running = wait_state(ec2, ids, "running")
    by_id = {i["InstanceId"]: i for i in running}
    out = [by_id[i] for i in ids]
    for inst in out:
        assert answers(f"http://{inst['PublicIpAddress']}:8080/"), inst["InstanceId"]
    return out


def nodes(endpoint: str, name: str, account: str) -> dict[str, str]:
    """zone -> node address of a Classic Load Balancer, from kumo's /_kumo/dataplane/lb/classic endpoint."""
    with urllib.request.urlopen(f"{endpoint}/_kumo/dataplane/lb/classic?account={account}&name={name}", timeout=5) as r:
        lbs = json.loads(r.read())["load_balancers"]
    assert len(lbs) == 1, lbs
    return {n["zone"]: n["ip"] for n in lbs[0]["nodes"]}


def get(ip: str, port: int, path: str = "/", headers: dict | None = None, timeout: float = 5.0):
    """(status, headers, parsed JSON body or raw bytes) of one request through a load balancer node."""
    conn = http.client.HTTPConnection(ip, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        try:
            body = json.loads(body)
        except ValueError:
            pass
        return resp.status, resp.headers, body
    finally:
        conn.close()


def wait_serving(ip: str, port: int, within: float = 10.0) -> None:
    """Wait until a listener is bound and routes a request to an instance."""
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        try:
            last = get(ip, port, timeout=2.0)
            if last[0] == 200:
                return
        except OSError as exc:
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"{ip}:{port} never served: {last}")


def wait_health(elb, name: str, expected: dict[str, str], within: float = 10.0) -> dict[str, dict]:
    """Poll DescribeInstanceHealth until each instance id has the State expected."""
    deadline = time.monotonic() + within
    while True:
        states = {s["InstanceId"]: s for s in elb.describe_instance_health(LoadBalancerName=name)["InstanceStates"]}
        if all(states.get(i, {}).get("State") == st for i, st in expected.items()):
            return states
        if time.monotonic() > deadline:
            raise AssertionError(f"instance health never became {expected}: {states}")
        time.sleep(0.1)


def pass_checks(kumo_server, elb, name: str, ids: list[str], within: float = 10.0) -> dict[str, dict]:
    """Move kumo's clock one health-check interval at a time until the instances are InService: a newly
    registered Classic instance must pass HealthyThreshold checks in a row first, as on AWS."""
    interval = elb.describe_load_balancers(LoadBalancerNames=[name])["LoadBalancerDescriptions"][0][
        "HealthCheck"]["Interval"]
    deadline = time.monotonic() + within
    while True:
        states = {s["InstanceId"]: s for s in elb.describe_instance_health(LoadBalancerName=name)["InstanceStates"]}
        if all(states.get(i, {}).get("State") == "InService" for i in ids):
            return states
        if time.monotonic() > deadline:
            raise AssertionError(f"instances never passed their checks: {states}")
        kumo_server.advance(interval)
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def clean_up_afterwards(request):
    """Every load balancer and instance a test creates goes when it ends (listeners close, processes stop)."""
    uses_kumo = {"aws", "aws_cli"} & set(request.fixturenames)
    aws = request.getfixturevalue("aws") if uses_kumo else None  # pure-logic tests need no kumo
    yield
    if aws is None:
        return
    elb = aws("elb")
    for lb in elb.describe_load_balancers()["LoadBalancerDescriptions"]:
        elb.delete_load_balancer(LoadBalancerName=lb["LoadBalancerName"])
    terminate_all(aws("ec2"))
