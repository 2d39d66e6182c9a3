"""Network Load Balancers pass raw TCP and UDP, terminate TLS, and speak PROXY protocol v2."""

import socket
import ssl
import threading
import time

import pytest

from kumo.dataplane.lb import ppv2

from .conftest import default_setup, node, wait_active


def _nlb(aws, targets: list[tuple[str, int]], protocol="TCP", port=7000, tg_protocol=None, attrs=None,
         certificates=None, zones=1):
    ec2, elb, vpc, subnets = default_setup(aws, zones=zones)
    lb = elb.create_load_balancer(Name="net", Type="network", Subnets=subnets)["LoadBalancers"][0]
    tg = elb.create_target_group(Name="raw", Protocol=tg_protocol or protocol, Port=targets[0][1], VpcId=vpc,
                                 TargetType="ip")["TargetGroups"][0]
    if attrs:
        elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"],
                                           Attributes=[{"Key": k, "Value": v} for k, v in attrs.items()])
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": h, "Port": p} for h, p in targets])
    kw = {"Certificates": [{"CertificateArn": c} for c in certificates]} if certificates else {}
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol=protocol, Port=port,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}], **kw)
    return elb, wait_active(elb, lb), tg


def test_tcp_passes_through_with_proxy_protocol_v2(aws, tcp_server):
    seen = []

    def handler(conn, addr):
        with conn:
            data = conn.recv(4096)
            if not data:
                return  # a health check: connect and close
            while not data.endswith(b"\x02"):  # the header and the payload may come in separate segments
                more = conn.recv(4096)
                if not more:
                    break
                data += more
            parsed = ppv2.parse(data)
            seen.append((parsed, addr))
            rest = data[parsed[2]:] if parsed else data
            conn.sendall(b"echo:" + rest)

    server = tcp_server(handler)
    elb, lb, _ = _nlb(aws, [("127.0.0.1", server.port)], attrs={"proxy_protocol_v2.enabled": "true"})
    with socket.create_connection((node(lb), 7000), timeout=5) as c:
        client_port = c.getsockname()[1]
        c.sendall(b"raw bytes \x00\x01\x02")
        assert c.recv(100) == b"echo:raw bytes \x00\x01\x02"
    assert seen and seen[0][0] is not None, seen
    (source, dest, _), _ = seen[0]
    assert source == ("127.0.0.1", client_port)  # the target reads the client's address from the header
    assert dest == (node(lb), 7000)


def test_client_ip_is_preserved_without_proxy_protocol(aws, tcp_server):
    peers = []

    def handler(conn, addr):
        with conn:
            data = conn.recv(100)
            if data:  # not a health check
                peers.append(addr)
                conn.sendall(data)

    server = tcp_server(handler)
    elb, lb, _ = _nlb(aws, [("127.0.0.1", server.port)], attrs={"preserve_client_ip.enabled": "true"})
    with socket.create_connection((node(lb), 7000), timeout=5, source_address=("127.0.0.9", 0)) as c:
        c.sendall(b"hi")
        assert c.recv(10) == b"hi"
    assert peers[0][0] == "127.0.0.9"


def test_udp_listener_echoes(aws):
    target = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target.bind(("127.0.0.1", 0))
    stop = threading.Event()

    def echo():
        target.settimeout(0.2)
        while not stop.is_set():
            try:
                data, addr = target.recvfrom(2048)
            except socket.timeout:
                continue
            target.sendto(b"pong:" + data, addr)

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    try:
        elb, lb, tg = _nlb(aws, [("127.0.0.1", target.getsockname()[1])], protocol="UDP", port=7053)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
            c.settimeout(3)
            for word in (b"one", b"two"):
                c.sendto(word, (node(lb), 7053))
                assert c.recvfrom(100)[0] == b"pong:" + word
    finally:
        stop.set()
        thread.join(2)
        target.close()


def test_tls_listener_terminates_tls(aws, tcp_server):
    def handler(conn, addr):
        with conn:
            conn.sendall(b"plain:" + conn.recv(100))

    server = tcp_server(handler)
    cert = aws("acm").request_certificate(DomainName="nlb.example.com")["CertificateArn"]
    elb, lb, _ = _nlb(aws, [("127.0.0.1", server.port)], protocol="TLS", tg_protocol="TCP", port=7443,
                      certificates=[cert])
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((node(lb), 7443), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="nlb.example.com") as tls:
            tls.sendall(b"secret")
            assert tls.recv(100) == b"plain:secret"


def test_cross_zone_off_keeps_traffic_in_the_zone(aws, kumo_server):
    """NLB cross-zone is off by default: a node sends only to targets in its own zone."""
    from .conftest import launch_web, served_by, settle_health

    ec2 = aws("ec2")
    a = launch_web(ec2, 1, zone="us-east-1a")[0]
    b = launch_web(ec2, 1, zone="us-east-1b")[0]
    _, elb, vpc, subnets = default_setup(aws, zones=2)
    lb = elb.create_load_balancer(Name="zonal", Type="network", Subnets=subnets)["LoadBalancers"][0]
    tg = elb.create_target_group(Name="web", Protocol="TCP", Port=8080, VpcId=vpc)["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": a["InstanceId"]}, {"Id": b["InstanceId"]}])
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="TCP", Port=8081,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    lb = wait_active(elb, lb)
    settle_health(kumo_server, elb, tg["TargetGroupArn"])
    zones = {z["ZoneName"]: z["LoadBalancerAddresses"][0]["IpAddress"] for z in lb["AvailabilityZones"]}
    assert {served_by(zones["us-east-1a"], port=8081) for _ in range(6)} == {a["InstanceId"]}
    assert {served_by(zones["us-east-1b"], port=8081) for _ in range(6)} == {b["InstanceId"]}
    elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
        {"Key": "load_balancing.cross_zone.enabled", "Value": "true"}])
    assert {served_by(zones["us-east-1a"], port=8081) for _ in range(12)} == {a["InstanceId"], b["InstanceId"]}


def test_source_ip_stickiness(aws, tcp_server):
    hits = {}

    def make(name):
        def handler(conn, addr):
            with conn:
                hits.setdefault(name, 0)
                hits[name] += 1
                conn.sendall(name.encode())
        return handler

    one, two = tcp_server(make("one")), tcp_server(make("two"))
    elb, lb, tg = _nlb(aws, [("127.0.0.1", one.port), ("127.0.0.1", two.port)],
                       attrs={"stickiness.enabled": "true", "stickiness.type": "source_ip"})

    def ask(source):
        with socket.create_connection((node(lb), 7000), timeout=5, source_address=(source, 0)) as c:
            return c.recv(10)

    assert len({ask("127.0.0.5") for _ in range(8)}) == 1
    answers = {ask(f"127.0.0.{n}") for n in range(10, 40)}
    assert answers == {b"one", b"two"}
