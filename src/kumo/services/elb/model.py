"""Classic Load Balancer records, AWS's defaults, and the lookups and checks every operation shares.

A load balancer is one record (kind ``elb.load-balancer``, keyed by name),
shaped like the API's ``LoadBalancerDescription`` so DescribeLoadBalancers
returns it as it is.  Internal fields start with ``_``: the ARN, one node
address per enabled zone, the attributes, the policies, the instances being
drained, and the tags.
"""

from __future__ import annotations

import re

from ...aws.errors import AwsError

LB = "elb.load-balancer"

# Route 53 hosted zones of Classic (and Application) Load Balancers, per region, as AWS publishes them.
HOSTED_ZONES = {
    "us-east-1": "Z35SXDOTRQ7X7K", "us-east-2": "Z3AADJGX6KTTL2", "us-west-1": "Z368ELLRRE2KJ0",
    "us-west-2": "Z1H1FL5HABSF5", "ca-central-1": "ZQSVJUPU6J1EY", "eu-west-1": "Z32O12XQLNTSW2",
    "eu-west-2": "ZHURV8PSTC4K8", "eu-west-3": "Z3Q77PNBQS71R4", "eu-central-1": "Z215JYRZR1TBD5",
    "eu-north-1": "Z23TAZQADI1T1W", "ap-south-1": "ZP97RAFLXTNZK", "ap-southeast-1": "Z1LMS91P8CMLE5",
    "ap-southeast-2": "Z1GM3OXH4ZPM65", "ap-northeast-1": "Z14GRHDCWA56QT", "ap-northeast-2": "ZWKZPGTI48KDX",
    "sa-east-1": "Z2P70J7HTTTPLU",
}

FRONT_PROTOCOLS = ("HTTP", "HTTPS", "TCP", "SSL")
L7 = ("HTTP", "HTTPS")
# Ports a Classic Load Balancer accepts for its listeners (User Guide: "Listeners for your Classic Load Balancer").
MAX_LOAD_BALANCERS = 20  # DescribeAccountLimits: classic-load-balancers
MAX_LISTENERS = 100
MAX_INSTANCES = 1000
MAX_TAGS = 50

_NAME = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$")
_POLICY_NAME = re.compile(r"^[a-zA-Z0-9-]{1,255}$")
_TARGET = re.compile(r"^(HTTP|HTTPS|TCP|SSL):(\d{1,5})(.*)$", re.IGNORECASE)

LB_COOKIE_POLICY = "LBCookieStickinessPolicyType"
APP_COOKIE_POLICY = "AppCookieStickinessPolicyType"
SSL_POLICY_TYPE = "SSLNegotiationPolicyType"
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-2016-08"
# Policy types CreateLoadBalancerPolicy accepts (DescribeLoadBalancerPolicyTypes on AWS lists these).
POLICY_TYPES = (SSL_POLICY_TYPE, "BackendServerAuthenticationPolicyType", "PublicKeyPolicyType",
                APP_COOKIE_POLICY, LB_COOKIE_POLICY, "ProxyProtocolPolicyType")

# DescribeInstanceHealth wording, from the API reference's InstanceState.
IN_SERVICE = ("InService", "N/A", "N/A")
REGISTERING = ("OutOfService", "ELB", "Instance registration is still in progress.")
FAILED = ("OutOfService", "Instance",
          "Instance has failed at least the UnhealthyThreshold number of health checks consecutively.")
NOT_PASSED = ("OutOfService", "Instance",
              "Instance has not passed the configured HealthyThreshold number of health checks consecutively.")
WRONG_ZONE = ("OutOfService", "ELB",
              "Instance is in the EC2 Availability Zone for which LoadBalancer is not configured to route traffic "
              "to.")
NOT_REGISTERED = ("OutOfService", "N/A", "Instance is not currently registered with the LoadBalancer.")
DRAINING = ("InService", "N/A", "Instance deregistration currently in progress.")
INSTANCE_STATES = {"pending": "pending", "stopping": "stopped", "stopped": "stopped",
                   "shutting-down": "terminated", "terminated": "terminated"}


def table(ctx):
    return ctx.store.table(ctx.scope, LB)


def not_found(name: str) -> AwsError:
    return AwsError("LoadBalancerNotFound", f"There is no ACTIVE Load Balancer named '{name}'")


def find_lb(ctx, name: str) -> dict:
    lb = table(ctx).get(name)
    if lb is None:
        raise not_found(name)
    return lb


def save(ctx, lb: dict) -> None:
    table(ctx).put(lb["LoadBalancerName"], lb)


def invalid(message: str) -> AwsError:
    return AwsError("ValidationError", message)


def misconfigured(message: str) -> AwsError:
    return AwsError("InvalidConfigurationRequest", message)


def check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise invalid(f"LoadBalancerName '{name}' must have a maximum of 32 characters, contain only alphanumeric "
                      f"characters or hyphens, and cannot begin or end with a hyphen.")
    return name


def check_policy_name(name: str) -> str:
    if not _POLICY_NAME.match(name or ""):
        raise invalid(f"Policy name '{name}' must consist of alphanumeric characters and dashes (-).")
    return name


def hosted_zone(region: str) -> str:
    return HOSTED_ZONES.get(region, HOSTED_ZONES["us-east-1"])


def group_arn(lb: dict) -> str:
    """The data plane key of the load balancer's instances and their health (one per load balancer)."""
    return f"{lb['_arn']}#instances"


def default_attributes() -> dict:
    """Attributes of a load balancer created through the API: cross-zone and draining off, as AWS has them."""
    return {
        "CrossZoneLoadBalancing": {"Enabled": False},
        "AccessLog": {"Enabled": False},
        "ConnectionDraining": {"Enabled": False, "Timeout": 300},
        "ConnectionSettings": {"IdleTimeout": 60},
        "AdditionalAttributes": [{"Key": "elb.http.desyncmitigationmode", "Value": "defensive"}],
    }


def check_listener_port(port: int) -> None:
    # EC2-Classic's list (25, 80, 443, 465, 587, 1024-65535) is gone with EC2-Classic: in a VPC, any port.
    if not 1 <= port <= 65535:
        raise invalid(f"LoadBalancerPort {port} is not valid: use 1-65535.")


def parse_target(target: str) -> tuple[str, int, str]:
    """("HTTP", 80, "/health") from a HealthCheck Target such as "HTTP:80/health", "TCP:80" or "SSL:443"."""
    m = _TARGET.match(target or "")
    if not m:
        raise invalid(f"HealthCheck Target '{target}' must be PROTOCOL:PORT (TCP, SSL) or PROTOCOL:PORT/PATH "
                      f"(HTTP, HTTPS).")
    protocol, port, path = m.group(1).upper(), int(m.group(2)), m.group(3)
    if not 1 <= port <= 65535:
        raise invalid(f"HealthCheck Target port {port} must be between 1 and 65535.")
    if protocol in L7 and not path.startswith("/"):
        raise invalid(f"HealthCheck Target '{target}' needs a path for {protocol}, such as {protocol}:{port}/")
    if protocol not in L7 and path:
        raise invalid(f"HealthCheck Target '{target}' takes no path for {protocol}.")
    if len(target) > 1024:
        raise invalid("HealthCheck Target must be at most 1024 characters long.")
    return protocol, port, path


def view(lb: dict) -> dict:
    return {k: v for k, v in lb.items() if not k.startswith("_")}
