"""ELBv2 test helpers: instances running a small web app, HTTP through the load balancer, test servers."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import pytest

from tests.ec2.conftest import AMI, terminate_instances_afterwards, wait_state  # noqa: F401  (fixture reused)

WEB_APP = r'''#!/bin/sh
mkdir -p /opt/app
cat > /opt/app/web.py <<'PY'
import http.server, json, os, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(1 if self.path.startswith("/slow1") else 5)
        body = json.dumps({"id": os.environ["KUMO_INSTANCE_ID"], "path": self.path,
                           "xff": self.headers.get("X-Forwarded-For"), "proto": self.headers.get("X-Forwarded-Proto"),
                           "port": self.headers.get("X-Forwarded-Port"), "trace": self.headers.get("X-Amzn-Trace-Id"),
                           "host": self.headers.get("Host")}).encode()
        self.send_response(404 if self.path.startswith("/missing") else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.path.startswith("/setcookie"):
            self.send_header("Set-Cookie", "session=abc; Path=/")
        self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer(("", 8080), H).serve_forever()
PY
printf '#!/bin/sh\nnohup python3 /opt/app/web.py >/dev/null 2>&1 &\n' > /var/lib/cloud/scripts/per-boot/web.sh
chmod +x /var/lib/cloud/scripts/per-boot/web.sh
# cloud-init ran the per-boot scripts before this one: as on EC2, the server starts here at the first boot and
# from the per-boot script at every later one.
/var/lib/cloud/scripts/per-boot/web.sh
'''


def launch_web(ec2, count: int, zone: str | None = None) -> list[dict]:
    kw = {"Placement": {"AvailabilityZone": zone}} if zone else {}
    r = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=count, MaxCount=count, UserData=WEB_APP, **kw)
    ids = [i["InstanceId"] for i in r["Instances"]]
    instances = wait_state(ec2, ids, "running")
    for inst in instances:  # the app is up once it answers directly
        deadline = time.monotonic() + 15
        while True:
            try:
                get(inst["PublicIpAddress"], "/", port=8080)
                break
            except OSError:
                assert time.monotonic() < deadline, f"{inst['InstanceId']} never served"
                time.sleep(0.1)
    return instances


def get(host: str, path: str = "/", port: int = 80, headers: dict | None = None, timeout: float = 10.0):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, resp.msg, body  # resp.msg: case-insensitive, and get_all() for repeated headers
    finally:
        conn.close()


def served_by(host: str, path: str = "/", port: int = 80, headers: dict | None = None) -> str:
    status, _, body = get(host, path, port, headers)
    assert status == 200, (status, body)
    return json.loads(body)["id"]


def default_setup(aws, zones: int = 2):
    ec2, elb = aws("ec2"), aws("elbv2")
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    subnets = sorted(subnets, key=lambda s: s["AvailabilityZone"])[:zones]
    vpc = subnets[0]["VpcId"]
    return ec2, elb, vpc, [s["SubnetId"] for s in subnets]


def node(lb: dict, index: int = 0) -> str:
    return lb["AvailabilityZones"][index]["LoadBalancerAddresses"][0]["IpAddress"]


def wait_active(elb, lb: dict) -> dict:
    """Like Terraform and the SDK waiters: a new load balancer serves once it is active."""
    elb.get_waiter("load_balancer_available").wait(LoadBalancerArns=[lb["LoadBalancerArn"]],
                                                   WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    return elb.describe_load_balancers(LoadBalancerArns=[lb["LoadBalancerArn"]])["LoadBalancers"][0]


def settle_health(kumo_server, elb, tg_arn: str, expect: str = "healthy", timeout: float = 15.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        health = elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
        if health and all(h["TargetHealth"]["State"] == expect for h in health):
            return health
        assert time.monotonic() < deadline, health
        kumo_server.advance(1)
        time.sleep(0.05)


class TcpServer:
    """A TCP server for tests: echoes, after reporting what came first (e.g. a PROXY header)."""

    def __init__(self, handler):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                conn, addr = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self.handler, args=(conn, addr), daemon=True).start()

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def tcp_server():
    servers = []

    def make(handler):
        s = TcpServer(handler)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()
