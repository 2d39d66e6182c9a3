"""Classic Load Balancers carry real traffic to real instances: health, zones, stickiness, draining, TCP."""

import concurrent.futures
import json
import os
import socket
import ssl
import time
import urllib.request

from tests.ec2.conftest import wait_state

from .conftest import get, nodes, pass_checks, start_web, wait_health, wait_serving

# Port 80 as on AWS; binding it on loopback needs root, so other users get a port of their own.
PORT = 80 if os.geteuid() == 0 else 8080
HTTP = [{"Protocol": "HTTP", "LoadBalancerPort": PORT, "InstancePort": 8080}]


def _fault(endpoint: str, instance_id: str, action: str) -> None:
    req = urllib.request.Request(f"{endpoint}/_kumo/faults/instances/{instance_id}", method="POST",
                                 data=json.dumps({"action": action}).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def _who(ip: str, port: int, count: int, headers: dict | None = None) -> list[str]:
    out = []
    for _ in range(count):
        status, _, body = get(ip, port, headers=headers)
        assert status == 200, (status, body)
        out.append(body["ip"])
    return out


def test_http_listener_health_checks_kill_and_stop(aws, account, endpoint, kumo_server):
    ec2, elb = aws("ec2"), aws("elb")
    a, b = start_web(ec2, ["us-east-1a", "us-east-1a"])
    elb.create_load_balancer(LoadBalancerName="web", Listeners=HTTP, AvailabilityZones=["us-east-1a"])
    hc = {"Target": "HTTP:8080/health", "Interval": 30, "Timeout": 5, "UnhealthyThreshold": 2, "HealthyThreshold": 3}
    assert elb.configure_health_check(LoadBalancerName="web", HealthCheck=hc)["HealthCheck"] == hc
    registered = elb.register_instances_with_load_balancer(
        LoadBalancerName="web", Instances=[{"InstanceId": a["InstanceId"]}, {"InstanceId": b["InstanceId"]}])
    assert {i["InstanceId"] for i in registered["Instances"]} == {a["InstanceId"], b["InstanceId"]}
    # Passing the first check is not enough for Classic: HealthyThreshold (3) passes in a row are.
    not_yet = "Instance has not passed the configured HealthyThreshold number of health checks consecutively."
    deadline = time.monotonic() + 10
    while {s["Description"] for s in elb.describe_instance_health(LoadBalancerName="web")["InstanceStates"]} \
            != {not_yet}:
        assert time.monotonic() < deadline, "the first check never ran"
        time.sleep(0.05)
    node = nodes(endpoint, "web", account)["us-east-1a"]
    while True:  # the listener binds as soon as the load balancer exists: wait for that, not for an instance
        try:
            status, _, _ = get(node, PORT)
            break
        except OSError:
            assert time.monotonic() < deadline, "the listener never opened"
            time.sleep(0.05)
    assert status == 503  # no InService instance yet
    states = pass_checks(kumo_server, elb, "web", [a["InstanceId"], b["InstanceId"]])
    assert states[a["InstanceId"]]["ReasonCode"] == "N/A" and states[a["InstanceId"]]["Description"] == "N/A"
    wait_serving(node, PORT)
    seen = _who(node, PORT, 8)
    assert set(seen) == {a["PublicIpAddress"], b["PublicIpAddress"]}  # both answer through the load balancer
    status, headers, body = get(node, PORT, headers={"X-Forwarded-For": "203.0.113.7"})
    assert body["xff"] == "203.0.113.7, 127.0.0.1" and body["proto"] == "http"
    assert body["trace"] is None  # Classic adds no X-Amzn-Trace-Id

    _fault(endpoint, a["InstanceId"], "kill")
    for _ in range(2):  # Interval x UnhealthyThreshold on kumo's clock
        kumo_server.advance(30)
    states = wait_health(elb, "web", {a["InstanceId"]: "OutOfService", b["InstanceId"]: "InService"})
    assert states[a["InstanceId"]]["ReasonCode"] == "Instance"
    assert states[a["InstanceId"]]["Description"] == \
        "Instance has failed at least the UnhealthyThreshold number of health checks consecutively."
    assert set(_who(node, PORT, 6)) == {b["PublicIpAddress"]}  # only the healthy one gets traffic

    _fault(endpoint, b["InstanceId"], "kill")
    for _ in range(2):
        kumo_server.advance(30)
    wait_health(elb, "web", {a["InstanceId"]: "OutOfService", b["InstanceId"]: "OutOfService"})
    status, _, body = get(node, PORT)
    assert status == 503, body  # unlike ALB and NLB, Classic does not fail open: no InService instance, no traffic

    ec2.stop_instances(InstanceIds=[a["InstanceId"]])
    wait_state(ec2, [a["InstanceId"]], "stopped")
    state = elb.describe_instance_health(LoadBalancerName="web", Instances=[{"InstanceId": a["InstanceId"]}])
    assert state["InstanceStates"] == [{"InstanceId": a["InstanceId"], "State": "OutOfService",
                                        "ReasonCode": "Instance", "Description": "Instance is in stopped state."}]


def test_cross_zone_is_off_by_default(aws, account, endpoint, kumo_server):
    ec2, elb = aws("ec2"), aws("elb")
    a, b = start_web(ec2, ["us-east-1a", "us-east-1b"])
    elb.create_load_balancer(LoadBalancerName="zones", Listeners=[
        {"Protocol": "HTTP", "LoadBalancerPort": 8000, "InstancePort": 8080}],
        AvailabilityZones=["us-east-1a", "us-east-1b"])
    attrs = elb.describe_load_balancer_attributes(LoadBalancerName="zones")["LoadBalancerAttributes"]
    assert attrs["CrossZoneLoadBalancing"] == {"Enabled": False}
    assert attrs["ConnectionDraining"] == {"Enabled": False, "Timeout": 300}
    assert attrs["ConnectionSettings"] == {"IdleTimeout": 60}
    elb.register_instances_with_load_balancer(LoadBalancerName="zones", Instances=[
        {"InstanceId": a["InstanceId"]}, {"InstanceId": b["InstanceId"]}])
    pass_checks(kumo_server, elb, "zones", [a["InstanceId"], b["InstanceId"]])
    addr = nodes(endpoint, "zones", account)
    assert set(addr) == {"us-east-1a", "us-east-1b"} and addr["us-east-1a"] != addr["us-east-1b"]
    wait_serving(addr["us-east-1a"], 8000)
    wait_serving(addr["us-east-1b"], 8000)
    assert set(_who(addr["us-east-1a"], 8000, 6)) == {a["PublicIpAddress"]}
    assert set(_who(addr["us-east-1b"], 8000, 6)) == {b["PublicIpAddress"]}

    elb.modify_load_balancer_attributes(LoadBalancerName="zones",
                                        LoadBalancerAttributes={"CrossZoneLoadBalancing": {"Enabled": True}})
    deadline_seen = set()
    for _ in range(50):
        deadline_seen |= set(_who(addr["us-east-1a"], 8000, 2))
        if len(deadline_seen) == 2:
            break
    assert deadline_seen == {a["PublicIpAddress"], b["PublicIpAddress"]}


def test_lb_cookie_stickiness_then_connection_draining(aws, account, endpoint, kumo_server):
    ec2, elb = aws("ec2"), aws("elb")
    a, b = start_web(ec2, ["us-east-1a", "us-east-1a"])
    elb.create_load_balancer(LoadBalancerName="sticky", Listeners=[
        {"Protocol": "HTTP", "LoadBalancerPort": 8001, "InstancePort": 8080}], AvailabilityZones=["us-east-1a"])
    elb.register_instances_with_load_balancer(LoadBalancerName="sticky", Instances=[
        {"InstanceId": a["InstanceId"]}, {"InstanceId": b["InstanceId"]}])
    pass_checks(kumo_server, elb, "sticky", [a["InstanceId"], b["InstanceId"]])
    node = nodes(endpoint, "sticky", account)["us-east-1a"]
    wait_serving(node, 8001)
    assert len(set(_who(node, 8001, 8))) == 2  # not sticky yet

    elb.create_lb_cookie_stickiness_policy(LoadBalancerName="sticky", PolicyName="pin", CookieExpirationPeriod=600)
    elb.set_load_balancer_policies_of_listener(LoadBalancerName="sticky", LoadBalancerPort=8001, PolicyNames=["pin"])
    desc = elb.describe_load_balancers(LoadBalancerNames=["sticky"])["LoadBalancerDescriptions"][0]
    assert desc["ListenerDescriptions"][0]["PolicyNames"] == ["pin"]
    assert desc["Policies"]["LBCookieStickinessPolicies"] == [{"PolicyName": "pin", "CookieExpirationPeriod": 600}]
    cookie = None
    for _ in range(50):  # the data plane takes the new policy within moments
        status, headers, body = get(node, 8001)
        cookie = next((c for c in headers.get_all("Set-Cookie") or [] if c.startswith("AWSELB=")), None)
        if cookie:
            break
    assert cookie and "Expires=" in cookie
    pinned = body["ip"]
    jar = {"Cookie": cookie.split(";", 1)[0]}
    assert set(_who(node, 8001, 10, jar)) == {pinned}

    elb.modify_load_balancer_attributes(LoadBalancerName="sticky", LoadBalancerAttributes={
        "ConnectionDraining": {"Enabled": True, "Timeout": 120}})
    leaving = a if pinned == a["PublicIpAddress"] else b
    staying = b if leaving is a else a

    def listed() -> list[str]:
        return [s["InstanceId"] for s in elb.describe_instance_health(LoadBalancerName="sticky")["InstanceStates"]]

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        # A request still in flight when ConnectionDraining's Timeout passes: the deregistration completes anyway.
        slow = pool.submit(get, node, 8001, "/slow?seconds=4", jar)
        time.sleep(0.5)  # it has reached the pinned instance
        left = elb.deregister_instances_from_load_balancer(LoadBalancerName="sticky",
                                                           Instances=[{"InstanceId": leaving["InstanceId"]}])
        assert left["Instances"] == [{"InstanceId": staying["InstanceId"]}]
        states = wait_health(elb, "sticky", {leaving["InstanceId"]: "InService", staying["InstanceId"]: "InService"})
        assert states[leaving["InstanceId"]]["Description"] == "Instance deregistration currently in progress."
        # New requests, even pinned ones, go to the instance that stays.
        seen = set()
        for _ in range(50):
            seen = set(_who(node, 8001, 4, jar))
            if seen == {staying["PublicIpAddress"]}:
                break
        assert seen == {staying["PublicIpAddress"]}
        kumo_server.advance(60)
        assert leaving["InstanceId"] in listed()
        kumo_server.advance(61)
        assert listed() == [staying["InstanceId"]]
        gone = elb.describe_instance_health(LoadBalancerName="sticky",
                                            Instances=[{"InstanceId": leaving["InstanceId"]}])
        assert gone["InstanceStates"][0]["Description"] == \
            "Instance is not currently registered with the LoadBalancer."
        assert not slow.done()  # the Timeout cut the drain short, not the request's end
        slow.result(timeout=10)

        # Registered again, then deregistered with a request in flight: the drain ends when that request does,
        # long before the Timeout (the clock stands still here).
        elb.register_instances_with_load_balancer(LoadBalancerName="sticky",
                                                  Instances=[{"InstanceId": leaving["InstanceId"]}])
        pass_checks(kumo_server, elb, "sticky", [leaving["InstanceId"], staying["InstanceId"]])
        slow = pool.submit(get, node, 8001, "/slow?seconds=1.5", jar)
        time.sleep(0.5)
        elb.deregister_instances_from_load_balancer(LoadBalancerName="sticky",
                                                    Instances=[{"InstanceId": leaving["InstanceId"]}])
        assert leaving["InstanceId"] in listed()  # still draining: its request is under way
        status, _, body = slow.result(timeout=10)
        assert status == 200 and body["ip"] == leaving["PublicIpAddress"]
    deadline = time.monotonic() + 5
    while leaving["InstanceId"] in listed():
        assert time.monotonic() < deadline, "the drain did not end when the last request did"
        time.sleep(0.1)


def test_tcp_and_https_listeners(aws, account, endpoint, kumo_server):
    ec2, elb, acm = aws("ec2"), aws("elb"), aws("acm")
    (web,) = start_web(ec2, ["us-east-1a"])
    cert = acm.request_certificate(DomainName="shop.example.com")["CertificateArn"]
    elb.create_load_balancer(LoadBalancerName="l4", Listeners=[
        {"Protocol": "TCP", "LoadBalancerPort": 9000, "InstancePort": 9001},
        {"Protocol": "HTTPS", "LoadBalancerPort": 8443, "InstancePort": 8080, "SSLCertificateId": cert}],
        AvailabilityZones=["us-east-1a"])
    desc = elb.describe_load_balancers(LoadBalancerNames=["l4"])["LoadBalancerDescriptions"][0]
    assert desc["HealthCheck"]["Target"] == "TCP:9001"  # the first listener's instance port
    https = next(ld for ld in desc["ListenerDescriptions"] if ld["Listener"]["Protocol"] == "HTTPS")
    assert https["Listener"]["InstanceProtocol"] == "HTTP" and https["PolicyNames"] == ["ELBSecurityPolicy-2016-08"]
    assert acm.describe_certificate(CertificateArn=cert)["Certificate"]["InUseBy"] == [
        f"arn:aws:elasticloadbalancing:us-east-1:{account}:loadbalancer/l4"]
    elb.register_instances_with_load_balancer(LoadBalancerName="l4", Instances=[{"InstanceId": web["InstanceId"]}])
    pass_checks(kumo_server, elb, "l4", [web["InstanceId"]])
    node = nodes(endpoint, "l4", account)["us-east-1a"]

    payload = b"\x00\x01 not http at all \xff\r\n"
    reply = b""
    for _ in range(50):
        try:
            with socket.create_connection((node, 9000), timeout=3) as s:
                s.sendall(payload)
                reply = s.recv(4096)
            if reply:
                break
        except OSError:
            pass
    assert reply == b"echo:" + payload  # raw bytes pass both ways

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    body = None
    for _ in range(50):
        try:
            with urllib.request.urlopen(f"https://{node}:8443/", context=context, timeout=3) as r:
                body = json.loads(r.read())
            break
        except OSError:
            pass
    assert body and body["ip"] == web["PublicIpAddress"] and body["proto"] == "https"


def _elb_cookie(headers) -> str | None:
    return next((c for c in headers.get_all("Set-Cookie") or [] if c.startswith("AWSELB=")), None)


def test_app_cookie_and_session_stickiness_per_listener(aws, account, endpoint, kumo_server):
    ec2, elb = aws("ec2"), aws("elb")
    a, b = start_web(ec2, ["us-east-1a", "us-east-1a"])
    elb.create_load_balancer(LoadBalancerName="apps", Listeners=[
        {"Protocol": "HTTP", "LoadBalancerPort": 8002, "InstancePort": 8080},
        {"Protocol": "HTTP", "LoadBalancerPort": 8003, "InstancePort": 8080},
        {"Protocol": "HTTP", "LoadBalancerPort": 8004, "InstancePort": 8080}], AvailabilityZones=["us-east-1a"])
    elb.create_app_cookie_stickiness_policy(LoadBalancerName="apps", PolicyName="app", CookieName="SESSION")
    elb.create_lb_cookie_stickiness_policy(LoadBalancerName="apps", PolicyName="browser")
    elb.set_load_balancer_policies_of_listener(LoadBalancerName="apps", LoadBalancerPort=8002, PolicyNames=["app"])
    elb.set_load_balancer_policies_of_listener(LoadBalancerName="apps", LoadBalancerPort=8003,
                                               PolicyNames=["browser"])
    elb.register_instances_with_load_balancer(LoadBalancerName="apps", Instances=[
        {"InstanceId": a["InstanceId"]}, {"InstanceId": b["InstanceId"]}])
    pass_checks(kumo_server, elb, "apps", [a["InstanceId"], b["InstanceId"]])
    node = nodes(endpoint, "apps", account)["us-east-1a"]
    for port in (8002, 8003, 8004):
        wait_serving(node, port)

    # Application-controlled: AWSELB comes only with the application's own cookie, and pins from then on.
    _, headers, _ = get(node, 8002, "/")
    assert _elb_cookie(headers) is None
    _, headers, body = get(node, 8002, "/login")
    cookie = _elb_cookie(headers)
    assert cookie and "Expires=" not in cookie and any(c.startswith("SESSION=") for c in headers.get_all("Set-Cookie"))
    jar = {"Cookie": "SESSION=abc; " + cookie.split(";", 1)[0]}
    assert set(_who(node, 8002, 8, jar)) == {body["ip"]}

    # Duration-based without CookieExpirationPeriod: a browser-session cookie (no Expires) and its CORS twin.
    _, headers, body = get(node, 8003)
    cookie = _elb_cookie(headers)
    assert cookie and "Expires=" not in cookie
    assert any(c.startswith("AWSELBCORS=") and "SameSite=None" in c for c in headers.get_all("Set-Cookie"))
    assert set(_who(node, 8003, 8, {"Cookie": cookie.split(";", 1)[0]})) == {body["ip"]}

    # A listener without a policy is not sticky, whatever cookies come with the request.
    _, headers, _ = get(node, 8004)
    assert _elb_cookie(headers) is None
    assert len(set(_who(node, 8004, 8, {"Cookie": cookie.split(";", 1)[0]}))) == 2


def test_classic_metrics_reach_cloudwatch(aws, account, endpoint, kumo_server):
    ec2, elb, cw = aws("ec2"), aws("elb"), aws("cloudwatch")
    (web,) = start_web(ec2, ["us-east-1a"])
    elb.create_load_balancer(LoadBalancerName="watched", Listeners=HTTP, AvailabilityZones=["us-east-1a"])
    elb.configure_health_check(LoadBalancerName="watched", HealthCheck={
        "Target": "HTTP:8080/", "Interval": 10, "Timeout": 5, "UnhealthyThreshold": 2, "HealthyThreshold": 2})
    elb.register_instances_with_load_balancer(LoadBalancerName="watched", Instances=[{"InstanceId": web["InstanceId"]}])
    pass_checks(kumo_server, elb, "watched", [web["InstanceId"]])
    node = nodes(endpoint, "watched", account)["us-east-1a"]
    wait_serving(node, PORT)
    time.sleep(1.5)  # workers report their counters every second
    kumo_server.advance(60)  # the minute of the requests above is published and done with
    minute = kumo_server.kumo.clock.now() // 60 * 60
    assert len(_who(node, PORT, 5)) == 5
    time.sleep(1.5)
    kumo_server.advance(60)

    def stat(name: str, statistic: str) -> float:
        points = cw.get_metric_statistics(Namespace="AWS/ELB", MetricName=name, StartTime=minute,
                                          EndTime=minute + 60, Period=60, Statistics=[statistic],
                                          Dimensions=[{"Name": "LoadBalancerName", "Value": "watched"}])["Datapoints"]
        assert len(points) == 1, (name, points)
        return points[0][statistic]

    assert stat("RequestCount", "Sum") == 5
    assert stat("HTTPCode_Backend_2XX", "Sum") == 5
    assert stat("HTTPCode_ELB_5XX", "Sum") == 0
    assert stat("HealthyHostCount", "Maximum") == 1 and stat("UnHealthyHostCount", "Maximum") == 0
    assert 0 < stat("Latency", "Average") < 5
    assert stat("EstimatedProcessedBytes", "Sum") > 5 * 100  # five requests and their JSON answers
