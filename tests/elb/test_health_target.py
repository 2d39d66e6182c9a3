"""HealthCheck.Target as Classic reads it, and what the data plane's probes receive (pure logic)."""

import pytest

from kumo.aws.errors import AwsError
from kumo.services.elb.dataplane import health_check_spec
from kumo.services.elb.model import parse_target


@pytest.mark.parametrize("target, parsed", [
    ("HTTP:80/index.html", ("HTTP", 80, "/index.html")),
    ("https:443/", ("HTTPS", 443, "/")),
    ("TCP:5000", ("TCP", 5000, "")),
    ("SSL:443", ("SSL", 443, "")),
])
def test_targets(target, parsed):
    assert parse_target(target) == parsed


@pytest.mark.parametrize("target", ["HTTP:80", "TCP:80/path", "UDP:53", "HTTP:0/", "HTTP:70000/", "TCP", ""])
def test_bad_targets(target):
    with pytest.raises(AwsError) as e:
        parse_target(target)
    assert e.value.code == "ValidationError"


def test_probe_spec():
    hc = {"Target": "SSL:8443", "Interval": 10, "Timeout": 3, "UnhealthyThreshold": 4, "HealthyThreshold": 6}
    assert health_check_spec(hc) == {"enabled": True, "protocol": "TCP", "port": 8443, "path": "/", "matcher": "200",
                                     "interval": 10, "timeout": 3, "healthy_threshold": 6, "unhealthy_threshold": 4,
                                     "initial_passes": 6}
    assert health_check_spec({**hc, "Target": "HTTP:80/ping"})["path"] == "/ping"
