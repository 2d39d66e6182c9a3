"""A Classic Load Balancer survives kill -9 of kumo: its record, its node address and its listener come back."""

import json
import time
import urllib.request

from .conftest import get


def _node(endpoint: str) -> str:
    with urllib.request.urlopen(f"{endpoint}/_kumo/dataplane/lb/classic?name=keep", timeout=5) as r:
        return json.loads(r.read())["load_balancers"][0]["nodes"][0]["ip"]


def _answers_503(ip: str, port: int, within: float = 10.0) -> bool:
    """A bound HTTP listener with no instance registered answers 503, as AWS's does."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if get(ip, port, timeout=2.0)[0] == 503:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def test_load_balancer_survives_kill_9(kumo_process):
    k = kumo_process().start()
    elb = k.client("elb")
    dns = elb.create_load_balancer(LoadBalancerName="keep", AvailabilityZones=["us-east-1a"], Listeners=[
        {"Protocol": "HTTP", "LoadBalancerPort": 8100, "InstancePort": 8080}])["DNSName"]
    elb.create_lb_cookie_stickiness_policy(LoadBalancerName="keep", PolicyName="pin", CookieExpirationPeriod=60)
    node = _node(k.endpoint)
    assert _answers_503(node, 8100)
    k.kill9()  # right after the responses: no clean shutdown
    # Its data plane workers serve on alone (until the next kumo retires them), so traffic does not wait for it.
    assert _answers_503(node, 8100)

    k2 = kumo_process(like=k).start()
    elb = k2.client("elb")
    lb = elb.describe_load_balancers()["LoadBalancerDescriptions"][0]
    assert lb["DNSName"] == dns and lb["Policies"]["LBCookieStickinessPolicies"] == [
        {"PolicyName": "pin", "CookieExpirationPeriod": 60}]
    assert _node(k2.endpoint) == node
    assert _answers_503(node, 8100)  # the restarted kumo serves the listener again
    elb.delete_load_balancer(LoadBalancerName="keep")
