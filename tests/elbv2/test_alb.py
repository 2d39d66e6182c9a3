"""Application Load Balancers carry real HTTP: rules, round robin, health, draining, stickiness, errors."""

import concurrent.futures
import email.utils
import http.client
import json
import os
import signal
import socket
import ssl
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from .conftest import default_setup, get, launch_web, node, served_by, settle_health, wait_active


def _alb(aws, instances_by_group: dict, rules=None, listener_port=80):
    ec2, elb, vpc, subnets = default_setup(aws)
    lb = elb.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0]
    groups = {}
    for name, instances in instances_by_group.items():
        tg = elb.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc,
                                     HealthCheckPath="/health")["TargetGroups"][0]
        if instances:
            elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": i["InstanceId"]} for i in instances])
        groups[name] = tg["TargetGroupArn"]
    first = next(iter(groups.values()))
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=listener_port,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": first}])["Listeners"][0]
    for priority, (pattern, group) in enumerate(rules or [], 1):
        elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=priority,
                        Conditions=[{"Field": "path-pattern", "Values": [pattern]}],
                        Actions=[{"Type": "forward", "TargetGroupArn": groups[group]}])
    lb = wait_active(elb, lb)
    return ec2, elb, lb, groups, listener


def test_path_rule_splits_traffic_and_round_robin_shows(aws, kumo_server):
    ec2 = aws("ec2")
    web = launch_web(ec2, 3)
    ec2_, elb, lb, groups, _ = _alb(aws, {"front": web[:2], "api": web[2:]}, rules=[("/api/*", "api")])
    for arn in groups.values():
        settle_health(kumo_server, elb, arn)
    host = node(lb)
    seen = [served_by(host, "/") for _ in range(20)]
    counts = {i: seen.count(i) for i in set(seen)}
    assert set(counts) == {web[0]["InstanceId"], web[1]["InstanceId"]}
    # Each data-plane worker takes its turn round robin, so the split is even to within one per worker.
    assert max(counts.values()) - min(counts.values()) <= 2, counts
    assert {served_by(host, "/api/users") for _ in range(5)} == {web[2]["InstanceId"]}
    status, _, body = get(host, "/api/users")
    doc = json.loads(body)
    assert doc["xff"] == "127.0.0.1" and doc["proto"] == "http" and doc["port"] == "80"
    assert doc["trace"].startswith("Root=1-")
    assert doc["path"] == "/api/users"


def test_failed_target_turns_unhealthy_after_threshold_times_interval(aws, kumo_server, endpoint):
    import urllib.request

    ec2 = aws("ec2")
    web = launch_web(ec2, 3)
    _, elb, lb, groups, _ = _alb(aws, {"front": web})
    arn = groups["front"]
    settle_health(kumo_server, elb, arn)
    dead, stopped = web[0]["InstanceId"], web[1]["InstanceId"]
    req = urllib.request.Request(f"{endpoint}/_kumo/faults/instances/{dead}", method="POST",
                                 data=json.dumps({"action": "kill"}).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()

    def state_of(iid):
        for h in elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]:
            if h["Target"]["Id"] == iid:
                return h["TargetHealth"]
    kumo_server.advance(30)  # one failed check: still healthy (UnhealthyThresholdCount is 2)
    assert state_of(dead)["State"] == "healthy"
    kumo_server.advance(30)  # threshold x interval = 60 s
    health = state_of(dead)
    assert health["State"] == "unhealthy" and health["Reason"] == "Target.FailedHealthChecks"
    ec2.stop_instances(InstanceIds=[stopped])
    from .conftest import wait_state

    wait_state(ec2, [stopped], "stopped")
    health = state_of(stopped)
    assert health == {"State": "unused", "Reason": "Target.InvalidState",
                      "Description": "Target is in the stopped state"}
    kumo_server.advance(1)
    host = node(lb)
    assert {served_by(host) for _ in range(12)} == {web[2]["InstanceId"]}


def test_deregistered_target_drains_for_the_delay(aws, kumo_server):
    ec2 = aws("ec2")
    web = launch_web(ec2, 2)
    _, elb, lb, groups, _ = _alb(aws, {"front": web})
    arn = groups["front"]
    elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "120"}])
    settle_health(kumo_server, elb, arn)
    leaving = web[0]["InstanceId"]
    elb.deregister_targets(TargetGroupArn=arn, Targets=[{"Id": leaving}])
    health = {h["Target"]["Id"]: h["TargetHealth"] for h in
              elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]}
    assert health[leaving] == {"State": "draining", "Reason": "Target.DeregistrationInProgress",
                               "Description": "Target deregistration is in progress"}
    time.sleep(0.3)
    assert {served_by(node(lb)) for _ in range(8)} == {web[1]["InstanceId"]}
    kumo_server.advance(100)
    assert leaving in [h["Target"]["Id"] for h in elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]]
    kumo_server.advance(25)
    assert [h["Target"]["Id"] for h in elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]] == \
        [web[1]["InstanceId"]]


def test_least_outstanding_requests_counts_a_request_that_spans_a_config_change(aws, kumo_server):
    """A request under way when the routing snapshot changes ends on the target that routing now looks at, so
    afterwards no target counts as busy for ever and the traffic is shared again."""
    ec2 = aws("ec2")
    web = launch_web(ec2, 2)
    _, elb, lb, groups, _ = _alb(aws, {"front": web})
    arn = groups["front"]
    elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "load_balancing.algorithm.type", "Value": "least_outstanding_requests"}])
    settle_health(kumo_server, elb, arn)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(served_by, node(lb), "/slow1")  # the target takes a second to answer
        time.sleep(0.3)
        assert not slow.done()
        elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
            {"Key": "idle_timeout.timeout_seconds", "Value": "120"}])  # a new routing snapshot, mid-request
        assert slow.result(timeout=10) in {w["InstanceId"] for w in web}
    seen = [served_by(node(lb)) for _ in range(20)]
    counts = {i: seen.count(i) for i in set(seen)}
    assert set(counts) == {w["InstanceId"] for w in web}, counts
    assert max(counts.values()) - min(counts.values()) <= 2, counts  # ties go round robin, per worker


def test_lb_cookie_stickiness_pins_a_client(aws, kumo_server):
    ec2 = aws("ec2")
    web = launch_web(ec2, 3)
    _, elb, lb, groups, _ = _alb(aws, {"front": web})
    arn = groups["front"]
    elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "stickiness.enabled", "Value": "true"}, {"Key": "stickiness.type", "Value": "lb_cookie"}])
    settle_health(kumo_server, elb, arn)
    time.sleep(0.3)
    status, headers, body = get(node(lb))
    cookie = next(v for v in headers.get_all("Set-Cookie") if v.startswith("AWSALB="))
    assert any(v.startswith("AWSALBCORS=") and "SameSite=None" in v for v in headers.get_all("Set-Cookie"))
    first = json.loads(body)["id"]
    jar = cookie.split(";")[0]
    assert {served_by(node(lb), headers={"Cookie": jar}) for _ in range(12)} == {first}
    assert len({served_by(node(lb)) for _ in range(12)}) > 1  # without the cookie, traffic spreads
    assert served_by(node(lb), headers={"Cookie": "AWSALB=forged-value"})  # a bad cookie is ignored, not an error


def _advance(endpoint: str, seconds: float) -> float:
    """Move kumo's clock forward through its HTTP endpoint, as a user would; returns the new time."""
    req = urllib.request.Request(f"{endpoint}/_kumo/clock", data=json.dumps({"advance": seconds}).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())["now"]


def _expires(headers, name: str) -> tuple[str, float]:
    cookie = next(v for v in headers.get_all("Set-Cookie") if v.startswith(name + "="))
    attrs = dict(part.strip().partition("=")[::2] for part in cookie.split(";")[1:])
    return cookie.split(";")[0], email.utils.parsedate_to_datetime(attrs["Expires"]).timestamp()


def test_lb_cookie_goes_stale_after_its_duration_on_kumos_clock(aws, kumo_server, endpoint):
    ec2 = aws("ec2")
    web = launch_web(ec2, 2)
    _, elb, lb, groups, _ = _alb(aws, {"front": web})
    arn = groups["front"]
    elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "stickiness.enabled", "Value": "true"}, {"Key": "stickiness.type", "Value": "lb_cookie"},
        {"Key": "stickiness.lb_cookie.duration_seconds", "Value": "600"}])
    settle_health(kumo_server, elb, arn)
    now = _advance(endpoint, 0)
    status, headers, body = get(node(lb))
    jar, expires = _expires(headers, "AWSALB")
    assert now + 600 - 2 <= expires <= now + 600 + 5  # Expires counts the duration on kumo's clock
    first = json.loads(body)["id"]
    _advance(endpoint, 590)  # ten seconds short of the duration: the cookie still pins the client
    assert {served_by(node(lb), headers={"Cookie": jar}) for _ in range(6)} == {first}
    now = _advance(endpoint, 11)  # past it: the cookie is stale, and the client is balanced like any other
    assert {served_by(node(lb), headers={"Cookie": jar}) for _ in range(12)} == {w["InstanceId"] for w in web}
    # The cookie it is given now counts from the advanced clock, and pins the client again.
    status, headers, body = get(node(lb), headers={"Cookie": jar})
    fresh, expires = _expires(headers, "AWSALB")
    assert now + 600 - 2 <= expires <= now + 600 + 5
    assert {served_by(node(lb), headers={"Cookie": fresh}) for _ in range(6)} == {json.loads(body)["id"]}


def test_idle_timeout_and_trace_ids_follow_kumos_clock(aws, kumo_server, endpoint):
    ec2 = aws("ec2")
    web = launch_web(ec2, 1)
    _, elb, lb, groups, _ = _alb(aws, {"front": web})
    settle_health(kumo_server, elb, groups["front"])
    now = _advance(endpoint, 300)  # kumo's clock now runs minutes ahead of the host's
    assert now > time.time() + 250
    doc = json.loads(get(node(lb))[2])
    stamp = int(doc["trace"].split("-")[1], 16)  # Root=1-<epoch seconds in hex>-<random>
    assert now - 2 <= stamp <= now + 5
    # A keep-alive connection with nothing under way closes once the idle timeout (60 s) passes on kumo's clock.
    conn = http.client.HTTPConnection(node(lb), 80, timeout=5)
    try:
        conn.request("GET", "/")
        assert conn.getresponse().read() and conn.sock is not None  # kept alive
        sock = conn.sock
        _advance(endpoint, 30)
        conn.request("GET", "/")  # still open, and its idle time starts again
        assert conn.getresponse().read() and conn.sock is sock
        _advance(endpoint, 61)
        assert sock.recv(1) == b""  # the load balancer closed it (within a sweep, a quarter second)
    finally:
        conn.close()


def test_no_targets_503_all_unhealthy_fails_open_dead_target_502_hang_504(aws, kumo_server, tcp_server):
    ec2, elb, vpc, subnets = default_setup(aws)
    lb = elb.create_load_balancer(Name="errors", Subnets=subnets)["LoadBalancers"][0]
    empty = elb.create_target_group(Name="empty", Protocol="HTTP", Port=8080, VpcId=vpc)["TargetGroups"][0]
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": empty["TargetGroupArn"]}])
    wait_active(elb, lb)
    status, headers, body = get(node(lb))
    assert status == 503 and b"503 Service Temporarily Unavailable" in body or b"503" in body
    assert headers.get("Server") == "awselb/2.0"
    # Every target unhealthy (the health check path answers 404): the group fails open.
    web = launch_web(aws("ec2"), 2)
    sick = elb.create_target_group(Name="sick", Protocol="HTTP", Port=8080, VpcId=vpc,
                                   HealthCheckPath="/missing")["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=sick["TargetGroupArn"], Targets=[{"Id": i["InstanceId"]} for i in web])
    elb.modify_listener(ListenerArn=listener["Listeners"][0]["ListenerArn"],
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": sick["TargetGroupArn"]}])
    health = settle_health(kumo_server, elb, sick["TargetGroupArn"], expect="unhealthy", timeout=20)
    assert health[0]["TargetHealth"]["Reason"] == "Target.ResponseCodeMismatch"
    assert "[404]" in health[0]["TargetHealth"]["Description"]
    assert served_by(node(lb)) in {i["InstanceId"] for i in web}
    # A dead target: the only registered address refuses connections.
    dead = elb.create_target_group(Name="dead", Protocol="HTTP", Port=9, VpcId=vpc, TargetType="ip")["TargetGroups"][0]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    elb.register_targets(TargetGroupArn=dead["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": port}])
    elb.modify_listener(ListenerArn=listener["Listeners"][0]["ListenerArn"],
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": dead["TargetGroupArn"]}])
    time.sleep(0.3)
    assert get(node(lb))[0] == 502
    # A target that hangs past the idle timeout: 504.
    elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
        {"Key": "idle_timeout.timeout_seconds", "Value": "1"}])
    elb.modify_listener(ListenerArn=listener["Listeners"][0]["ListenerArn"],
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": sick["TargetGroupArn"]}])
    time.sleep(0.3)
    started = time.monotonic()
    assert get(node(lb), "/slow")[0] == 504
    assert time.monotonic() - started < 4


def test_a_worker_that_dies_is_replaced_and_traffic_serves_again(aws, kumo_server):
    ec2 = aws("ec2")
    web = launch_web(ec2, 1)
    _, elb, lb, groups, _ = _alb(aws, {"front": web})
    settle_health(kumo_server, elb, groups["front"])
    assert served_by(node(lb)) == web[0]["InstanceId"]
    dataplane = kumo_server.kumo.services["_elb"].dataplane
    before = kumo_server.run(lambda: [p.pid for p in dataplane.procs])
    os.kill(before[0], signal.SIGKILL)
    # The worker's exit wakes the control plane (its pidfd): a replacement starts and gets the config.
    deadline = time.monotonic() + 10
    while True:
        try:
            if served_by(node(lb)) == web[0]["InstanceId"]:
                break
        except (OSError, AssertionError):
            pass
        assert time.monotonic() < deadline, "no worker served again within 10 s"
        time.sleep(0.05)  # waiting on a real process to start, not on kumo's time
    after = kumo_server.run(lambda: [p.pid for p in dataplane.procs])
    assert before[0] not in after and len(after) == len(before)


def test_malformed_request_gets_400(aws, kumo_server):
    ec2, elb, vpc, subnets = default_setup(aws)
    lb = elb.create_load_balancer(Name="strict", Subnets=subnets)["LoadBalancers"][0]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200", "MessageBody": "fine"}}])
    wait_active(elb, lb)
    assert get(node(lb))[2] == b"fine"
    with socket.create_connection((node(lb), 80), timeout=5) as s:
        s.sendall(b"GARBAGE\x00\x01 / NOT-HTTP\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 400")


def test_http_redirects_to_https_and_https_serves_the_certificate_for_the_sni_name(aws, kumo_server):
    ec2, elb, vpc, subnets = default_setup(aws)
    acm = aws("acm")
    cert_a = acm.request_certificate(DomainName="a.example.com")["CertificateArn"]
    cert_b = acm.request_certificate(DomainName="b.example.com", SubjectAlternativeNames=["*.b.example.com"])[
        "CertificateArn"]
    lb = elb.create_load_balancer(Name="tls", Subnets=subnets)["LoadBalancers"][0]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
    https = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
                                Certificates=[{"CertificateArn": cert_a}], DefaultActions=[
            {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200", "MessageBody": "secure"}}])[
        "Listeners"][0]
    elb.add_listener_certificates(ListenerArn=https["ListenerArn"], Certificates=[{"CertificateArn": cert_b}])
    assert acm.describe_certificate(CertificateArn=cert_b)["Certificate"]["InUseBy"] == [lb["LoadBalancerArn"]]
    wait_active(elb, lb)
    status, headers, _ = get(node(lb), "/some/path?x=1", headers={"Host": "a.example.com"})
    assert status == 301 and headers["Location"] == "https://a.example.com/some/path?x=1"

    def served_name(server_name):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection((node(lb), 443), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=server_name) as tls:
                der = tls.getpeercert(binary_form=True)
                tls.sendall(f"GET / HTTP/1.1\r\nHost: {server_name}\r\n\r\n".encode())
                reply = tls.recv(1000)
        from cryptography import x509

        cert = x509.load_der_x509_certificate(der)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName)
        return names, reply

    names, reply = served_name("www.b.example.com")
    assert "*.b.example.com" in names and reply.endswith(b"secure")
    names, _ = served_name("a.example.com")
    assert names[0] == "a.example.com"
    names, _ = served_name("unknown.example.org")  # no match: the default certificate
    assert names[0] == "a.example.com"
    with pytest.raises(ClientError) as e:
        acm.delete_certificate(CertificateArn=cert_b)
    assert e.value.response["Error"]["Code"] == "ResourceInUseException"


def test_alb_metrics_reach_cloudwatch(aws, kumo_server):
    ec2 = aws("ec2")
    web = launch_web(ec2, 2)
    _, elb, lb, groups, _ = _alb(aws, {"front": web})
    settle_health(kumo_server, elb, groups["front"])
    start = kumo_server.kumo.clock.now()
    body_bytes = 0
    for _ in range(10):
        status, _, body = get(node(lb))
        assert status == 200
        body_bytes += len(body)
    time.sleep(1.5)  # workers report their counters every second
    kumo_server.advance(60)
    cw = aws("cloudwatch")
    dim = lb["LoadBalancerArn"].split(":loadbalancer/")[1]
    points = cw.get_metric_statistics(Namespace="AWS/ApplicationELB", MetricName="RequestCount",
                                      Dimensions=[{"Name": "LoadBalancer", "Value": dim}], StartTime=start - 120,
                                      EndTime=kumo_server.kumo.clock.now() + 60, Period=60, Statistics=["Sum"])
    assert sum(p["Sum"] for p in points["Datapoints"]) == 10
    healthy = cw.get_metric_statistics(
        Namespace="AWS/ApplicationELB", MetricName="HealthyHostCount", StartTime=start - 120,
        EndTime=kumo_server.kumo.clock.now() + 60, Period=60, Statistics=["Maximum"],
        Dimensions=[{"Name": "LoadBalancer", "Value": dim},
                    {"Name": "TargetGroup", "Value": groups["front"].split(":")[-1]}])
    assert max(p["Maximum"] for p in healthy["Datapoints"]) == 2
    processed = cw.get_metric_statistics(Namespace="AWS/ApplicationELB", MetricName="ProcessedBytes",
                                         Dimensions=[{"Name": "LoadBalancer", "Value": dim}], StartTime=start - 120,
                                         EndTime=kumo_server.kumo.clock.now() + 60, Period=60, Statistics=["Sum"])
    # Requests and responses, headers and bodies: at least the response bodies, and far less than a megabyte.
    assert body_bytes < sum(p["Sum"] for p in processed["Datapoints"]) < 1_000_000


def test_api_errors(aws):
    ec2, elb, vpc, subnets = default_setup(aws)

    def code(call):
        with pytest.raises(ClientError) as e:
            call()
        return e.value.response["Error"]["Code"]

    assert code(lambda: elb.create_load_balancer(Name="one-subnet", Subnets=subnets[:1])) == "ValidationError"
    assert code(lambda: elb.create_load_balancer(Name="bad", Subnets=["subnet-0123456789abcdef0",
                                                                      subnets[0]])) == "SubnetNotFound"
    lb = elb.create_load_balancer(Name="dup", Subnets=subnets)["LoadBalancers"][0]
    assert code(lambda: elb.create_load_balancer(Name="dup", Subnets=subnets)) == "DuplicateLoadBalancerName"
    assert code(lambda: elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                            DefaultActions=[{"Type": "forward", "TargetGroupArn": lb[
                                                "LoadBalancerArn"].replace("loadbalancer/app/dup",
                                                                           "targetgroup/none")}])) == \
        "TargetGroupNotFound"
    assert code(lambda: elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="TCP", Port=81,
                                            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
                                                "StatusCode": "200"}}])) == "ValidationError"
    assert code(lambda: elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
                                            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
                                                "StatusCode": "200"}}])) == "CertificateNotFound"
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}])
    assert code(lambda: elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
                                                "StatusCode": "200"}}])) == "DuplicateListener"
    tg = elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    assert code(lambda: elb.register_targets(TargetGroupArn=tg["TargetGroupArn"],
                                             Targets=[{"Id": "i-0123456789abcdef0"}])) == "InvalidTarget"
    elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
        {"Key": "deletion_protection.enabled", "Value": "true"}])
    assert code(lambda: elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])) == "OperationNotPermitted"
    assert code(lambda: elb.describe_load_balancers(Names=["nope"])) == "LoadBalancerNotFound"
    attrs = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(
        LoadBalancerArn=lb["LoadBalancerArn"])["Attributes"]}
    assert attrs["idle_timeout.timeout_seconds"] == "60" and attrs["load_balancing.cross_zone.enabled"] == "true"
    tg_attrs = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(
        TargetGroupArn=tg["TargetGroupArn"])["Attributes"]}
    assert tg_attrs["deregistration_delay.timeout_seconds"] == "300"
    assert (tg["HealthCheckIntervalSeconds"], tg["HealthCheckTimeoutSeconds"], tg["HealthyThresholdCount"],
            tg["UnhealthyThresholdCount"], tg["Matcher"]["HttpCode"]) == (30, 6, 5, 2, "200")


def test_responses_carry_one_content_length(aws, kumo_server):
    ec2, elb, vpc, subnets = default_setup(aws)
    web = launch_web(ec2, 1)
    lb = elb.create_load_balancer(Name="framing", Subnets=subnets)["LoadBalancers"][0]
    tg = elb.create_target_group(Name="framing", Protocol="HTTP", Port=8080, VpcId=vpc)["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": web[0]["InstanceId"]}])
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    lb = wait_active(elb, lb)
    status, headers, body = get(node(lb))
    assert status == 200
    assert headers.get_all("Content-Length") == [str(len(body))]


def test_members_the_model_leaves_optional_are_refused_not_failed(aws):
    """Found by the fuzz suite: a missing RuleArn, SubnetId or attribute Key answered 500 (KeyError)."""
    ec2, _, vpc, subnets = default_setup(aws)
    elb = aws("elbv2", validate=False)

    def error(call):
        with pytest.raises(ClientError) as e:
            call()
        err = e.value.response["Error"]
        return err["Code"], err["Message"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]

    def null(path):
        return ("ValidationError", f"1 validation error detected: Value null at '{path}' failed to satisfy "
                                   f"constraint: Member must not be null", 400)

    assert error(lambda: elb.set_rule_priorities(RulePriorities=[{"Priority": 5}])) == null("rulePriorities.1.ruleArn")
    assert error(lambda: elb.create_load_balancer(Name="nosub", SubnetMappings=[{"SubnetId": subnets[0]},
                                                                            {"AllocationId": "eipalloc-1"}])) == \
        null("subnetMappings.2.subnetId")
    assert elb.describe_load_balancers()["LoadBalancers"] == []
    lb = elb.create_load_balancer(Name="attrs", Subnets=subnets)["LoadBalancers"][0]
    assert error(lambda: elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
        {"Value": "true"}])) == null("attributes.1.key")
    tg = elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    assert error(lambda: elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "10"}, {"Value": "1"}])) == null("attributes.2.key")
    attrs = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(
        TargetGroupArn=tg["TargetGroupArn"])["Attributes"]}
    assert attrs["deregistration_delay.timeout_seconds"] == "300"  # the refused call changed nothing
