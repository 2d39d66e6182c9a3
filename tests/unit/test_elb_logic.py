"""The load balancers' routing decisions, without sockets: rules, redirects, balancing, health, stickiness."""

import random

from kumo.dataplane.lb import ppv2
from kumo.dataplane.lb import rules as R
from kumo.dataplane.lb.balance import Group, StickyTokens, Target
from kumo.dataplane.lb.health import Health, Outcome, matches


def req(path="/", host="example.com", method="GET", query="", headers=None, source="10.0.0.1"):
    return R.Request(method, path, query, host, headers or {}, source)


def test_conditions_and_priorities():
    rules = R.compile_rules([
        {"priority": 10, "conditions": [{"Field": "path-pattern", "Values": ["/api/*"]}], "actions": [{"Type": "a"}]},
        {"priority": 5, "conditions": [{"Field": "host-header", "HostHeaderConfig": {"Values": ["*.Example.COM"]}},
                                       {"Field": "http-request-method",
                                        "HttpRequestMethodConfig": {"Values": ["POST"]}}],
         "actions": [{"Type": "b"}]},
        {"priority": 20, "conditions": [{"Field": "http-header", "HttpHeaderConfig": {
            "HttpHeaderName": "X-Env", "Values": ["beta?"]}}], "actions": [{"Type": "c"}]},
        {"priority": 30, "conditions": [{"Field": "query-string", "QueryStringConfig": {
            "Values": [{"Key": "v", "Value": "2"}, {"Value": "debug"}]}}], "actions": [{"Type": "d"}]},
        {"priority": 40, "conditions": [{"Field": "source-ip", "SourceIpConfig": {"Values": ["192.168.0.0/16"]}}],
         "actions": [{"Type": "e"}]},
        {"priority": "default", "conditions": [], "actions": [{"Type": "default"}]},
    ])

    def kind(r):
        return R.first_match(rules, r).actions[0]["Type"]

    assert kind(req("/api/users")) == "a"
    assert kind(req("/API/users")) == "default"  # paths are case-sensitive
    assert kind(req("/api/x", host="www.example.com", method="POST")) == "b"  # lower priority number first
    assert kind(req("/", headers={"x-env": ["BETA1"]})) == "c"  # header values are not
    assert kind(req("/", query="v=2")) == "d" and kind(req("/", query="a=debug")) == "d"
    assert kind(req("/", query="v=3")) == "default"
    assert kind(req("/", source="192.168.4.4")) == "e"


def test_redirect_substitution():
    r = R.Request("GET", "/a/b", "x=1", "shop.example.com", {}, "1.2.3.4", "http", 80)
    target = R.redirect({"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}, r)
    assert (target.status, target.location) == (301, "https://shop.example.com/a/b?x=1")
    target = R.redirect({"Host": "new.#{host}", "Path": "/v2/#{path}", "Query": "#{query}&y=2", "Port": "8080",
                         "StatusCode": "HTTP_302"}, r)
    assert (target.status, target.location) == (302, "http://new.shop.example.com:8080/v2/a/b?x=1&y=2")


def test_weighted_groups():
    wg = R.forward_groups({"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": "a", "Weight": 90}, {"TargetGroupArn": "b", "Weight": 10}]}})
    rng = random.Random(1)
    picks = [R.pick_group(wg, rng.random()) for _ in range(10000)]
    assert 0.88 < picks.count("a") / 10000 < 0.92


def _group(states, zones=None, **kw):
    targets = [Target(f"t{i}:80", f"127.0.0.{i}", 80, (zones or ["a"] * len(states))[i], s)
               for i, s in enumerate(states)]
    return Group("tg", targets, **kw)


def test_fail_open_and_zones():
    g = _group(["healthy", "unhealthy", "draining", "unused"])
    assert [t.key for t in g.candidates("a", True)] == ["t0:80"]
    g = _group(["unhealthy", "initial", "draining", "unused"])
    assert [t.key for t in g.candidates("a", True)] == ["t0:80", "t1:80"]  # fail open, never to drained targets
    g = _group(["healthy", "healthy"], zones=["a", "b"])
    assert [t.key for t in g.candidates("a", False)] == ["t0:80"]
    assert len(g.candidates("a", True)) == 2
    g = _group(["unhealthy", "healthy"], zones=["a", "b"])
    assert [t.key for t in g.candidates("a", False)] == ["t1:80"]  # an empty zone fails over before opening
    g = _group(["healthy", "healthy"], zones=["a", "b"])
    g.cross_zone = True  # the target group's own setting wins over the load balancer's
    assert len(g.candidates("a", False)) == 2


def test_round_robin_least_outstanding_and_slow_start():
    g = _group(["healthy"] * 3)
    rng = random.Random(0)
    picks = [g.pick(g.targets, 0, rng).key for _ in range(9)]
    assert all(picks.count(k) == 3 for k in set(picks))
    g = _group(["healthy"] * 3, algorithm="least_outstanding_requests")
    g.targets[0].outstanding, g.targets[1].outstanding = 5, 1
    assert g.pick(g.targets, 0, rng).key == "t2:80"
    g = _group(["healthy"] * 2, slow_start=100)
    g.targets[0].healthy_since, g.targets[1].healthy_since = -1000, 90  # the second joined 10 s ago
    counts = {"t0:80": 0, "t1:80": 0}
    for _ in range(2000):
        counts[g.pick(g.targets, 100, rng).key] += 1
    assert 0.05 < counts["t1:80"] / 2000 < 0.15  # a tenth of its share, ramping up


def test_source_ip_stickiness_is_stable():
    g = _group(["healthy"] * 4)
    first = g.pick_by_source(g.targets, "10.1.2.3")
    assert all(g.pick_by_source(g.targets, "10.1.2.3") is first for _ in range(10))
    assert len({g.pick_by_source(g.targets, f"10.0.0.{i}").key for i in range(50)}) == 4


def test_sticky_tokens_cannot_be_forged():
    tokens = StickyTokens(b"secret")
    token = tokens.make("tg", "i-1:80")
    assert tokens.read("tg", token, 1e9) == "i-1:80"
    assert tokens.read("other-group", token, 1e9) is None
    assert tokens.read("tg", token[:-2] + "AA", 1e9) is None
    assert tokens.read("tg", "!!garbage", 1e9) is None


def test_sticky_tokens_go_stale_at_their_expiry_on_the_clock_given():
    tokens = StickyTokens(b"secret")
    token = tokens.make("tg", "i-1:80", until=1000.0)
    assert tokens.read("tg", token, 999.5) == "i-1:80"
    assert tokens.read("tg", token, 1000.0) is None  # stale from its expiry on
    # The expiry is signed: a client cannot extend its stickiness by rewriting it.
    import base64
    import struct

    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    longer = base64.urlsafe_b64encode(raw[:12] + struct.pack("!Q", 10**9) + raw[20:]).decode().rstrip("=")
    assert tokens.read("tg", longer, 1500.0) is None
    assert tokens.read("tg", tokens.make("tg", "i-1:80", until=None), 1e12) == "i-1:80"  # a session cookie


def test_health_thresholds():
    h = Health()
    assert h.record(Outcome(True), 5, 2, 1.0) and h.state == "healthy"  # one pass after registration
    h.record(Outcome(False, "Target.Timeout", "Request timed out"), 5, 2, 2.0)
    assert h.state == "healthy"
    h.record(Outcome(False, "Target.Timeout", "Request timed out"), 5, 2, 3.0)
    assert h.state == "unhealthy" and h.reason == "Target.Timeout"
    for n in range(4):
        h.record(Outcome(True), 5, 2, 4.0 + n)
        assert h.state == "unhealthy"
    h.record(Outcome(True), 5, 2, 9.0)
    assert h.state == "healthy" and h.changed_at == 9.0
    assert matches(200, "200") and matches(302, "200-399") and matches(202, "200,202") and not matches(404, "200")


def test_classic_instances_need_healthy_threshold_passes_after_registration():
    h = Health()
    for n in range(2):
        assert not h.record(Outcome(True), 3, 2, float(n), initial_passes=3)
        assert h.state == "initial" and h.checked
    h.record(Outcome(False, "Target.Timeout", "Request timed out"), 3, 2, 2.0, initial_passes=3)
    assert h.state == "initial"  # one failure restarts the count but is not yet UnhealthyThreshold
    for n in range(3):
        h.record(Outcome(True), 3, 2, 3.0 + n, initial_passes=3)
    assert h.state == "healthy" and h.changed_at == 5.0


def test_proxy_protocol_v2_round_trip():
    data = ppv2.header(("10.1.2.3", 40000), ("127.3.0.2", 80)) + b"payload"
    source, dest, length = ppv2.parse(data)
    assert source == ("10.1.2.3", 40000) and dest == ("127.3.0.2", 80) and data[length:] == b"payload"
    assert data.startswith(b"\r\n\r\n\x00\r\nQUIT\n\x21\x11")
    v6 = ppv2.header(("::1", 1), ("::1", 2), stream=False)
    assert ppv2.parse(v6)[0] == ("::1", 1) and v6[13] == 0x22
