"""ELBv2's records, defaults and shared rules (ALB and NLB)."""

from __future__ import annotations

import re
import secrets

from ...aws.errors import AwsError
from ...core import pagination

LB, LISTENER, RULE, TG, TAGS = "elbv2.load-balancer", "elbv2.listener", "elbv2.rule", "elbv2.target-group", "elbv2.tags"

# Route 53 hosted zones of load balancers, per region: (ALB, NLB), as AWS publishes them.
HOSTED_ZONES = {
    "us-east-1": ("Z35SXDOTRQ7X7K", "Z26RNL4JYFTOTI"),
    "us-east-2": ("Z3AADJGX6KTTL2", "ZLMOA37VPKANP"),
    "us-west-1": ("Z368ELLRRE2KJ0", "Z24FKFUX50B4VW"),
    "us-west-2": ("Z1H1FL5HABSF5", "Z18D5FSROUN65G"),
    "eu-west-1": ("Z32O12XQLNTSW2", "Z2IFOLAFXWLO4F"),
    "eu-west-2": ("ZHURV8PSTC4K8", "ZD4D7Y8KGAS4G"),
    "eu-central-1": ("Z215JYRZR1TBD5", "Z3F0SRJ5LGBH90"),
    "ap-southeast-1": ("Z1LMS91P8CMLE5", "ZKVM4W9LS7TM"),
    "ap-southeast-2": ("Z1GM3OXH4ZPM65", "ZCT6FZBF4DROD"),
    "ap-northeast-1": ("Z14GRHDCWA56QT", "Z31USIVHYNEOWT"),
}

ALB_PROTOCOLS = ("HTTP", "HTTPS")
NLB_PROTOCOLS = ("TCP", "TLS", "UDP", "TCP_UDP")
_NAME = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$")


def table(ctx, kind: str):
    return ctx.store.table(ctx.scope, kind)


def new_suffix() -> str:
    return secrets.token_hex(8)


def invalid(message: str) -> AwsError:
    return AwsError("ValidationError", message)


def required(item: dict, member: str, path: str):
    """A member ELBv2 requires where its model leaves it optional, refused in AWS's words for a null member."""
    value = item.get(member)
    if value is None:
        raise invalid(f"1 validation error detected: Value null at '{path}.{member[:1].lower()}{member[1:]}' failed "
                      f"to satisfy constraint: Member must not be null")
    return value


def check_name(name: str, what: str) -> str:
    if not _NAME.match(name or "") or name.lower().startswith("internal-"):
        raise invalid(f"{what} name '{name}' cannot be longer than '32' characters, must contain only "
                      f"alphanumeric characters or hyphens, and cannot begin or end with a hyphen")
    return name


def hosted_zone(region: str, kind: str) -> str:
    alb, nlb = HOSTED_ZONES.get(region, HOSTED_ZONES["us-east-1"])
    return alb if kind == "application" else nlb


def lb_attributes(kind: str) -> dict[str, str]:
    common = {"deletion_protection.enabled": "false", "access_logs.s3.enabled": "false",
              "access_logs.s3.bucket": "", "access_logs.s3.prefix": ""}
    if kind == "application":
        return {**common, "idle_timeout.timeout_seconds": "60", "routing.http2.enabled": "true",
                "routing.http.drop_invalid_header_fields.enabled": "false",
                "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
                "routing.http.xff_client_port.enabled": "false", "routing.http.xff_header_processing.mode": "append",
                "routing.http.preserve_host_header.enabled": "false",
                "routing.http.desync_mitigation_mode": "defensive", "waf.fail_open.enabled": "false",
                "load_balancing.cross_zone.enabled": "true", "client_keep_alive.seconds": "3600",
                "connection_logs.s3.enabled": "false", "connection_logs.s3.bucket": "",
                "connection_logs.s3.prefix": ""}
    return {**common, "load_balancing.cross_zone.enabled": "false",
            "dns_record.client_routing_policy": "any_availability_zone"}


def tg_attributes(protocol: str, target_type: str) -> dict[str, str]:
    if target_type == "lambda":  # whatever protocol the caller defaulted to: lambda groups have no protocol
        return {"lambda.multi_value_headers.enabled": "false"}
    if protocol in ALB_PROTOCOLS:
        return {"deregistration_delay.timeout_seconds": "300", "stickiness.enabled": "false",
                "stickiness.type": "lb_cookie", "stickiness.lb_cookie.duration_seconds": "86400",
                "stickiness.app_cookie.cookie_name": "", "stickiness.app_cookie.duration_seconds": "86400",
                "slow_start.duration_seconds": "0", "load_balancing.algorithm.type": "round_robin",
                "load_balancing.algorithm.anomaly_mitigation": "off",
                "load_balancing.cross_zone.enabled": "use_load_balancer_configuration"}
    return {"deregistration_delay.timeout_seconds": "300",
            "deregistration_delay.connection_termination.enabled": "false",
            "stickiness.enabled": "false", "stickiness.type": "source_ip", "proxy_protocol_v2.enabled": "false",
            "preserve_client_ip.enabled": "true" if target_type == "instance" or protocol != "TCP" else "false",
            "load_balancing.cross_zone.enabled": "use_load_balancer_configuration"}


def health_defaults(protocol: str, target_type: str, lb_kind: str) -> dict:
    """AWS's health check settings for a new target group (docs: target group health checks)."""
    if target_type == "lambda":
        return {"HealthCheckProtocol": None, "HealthCheckIntervalSeconds": 35, "HealthCheckTimeoutSeconds": 30,
                "HealthyThresholdCount": 5, "UnhealthyThresholdCount": 5, "HealthCheckEnabled": False,
                "HealthCheckPath": "/", "Matcher": {"HttpCode": "200"}}
    http_checks = protocol in ALB_PROTOCOLS
    hc_protocol = protocol if http_checks else "TCP"
    return {
        "HealthCheckProtocol": hc_protocol,
        "HealthCheckPort": "traffic-port",
        "HealthCheckEnabled": True,
        "HealthCheckIntervalSeconds": 30,
        "HealthCheckTimeoutSeconds": 6 if hc_protocol == "HTTP" else 10,
        "HealthyThresholdCount": 5,
        "UnhealthyThresholdCount": 2,
        "HealthCheckPath": "/" if http_checks else None,
        "Matcher": {"HttpCode": "200" if http_checks else "200-399"} if http_checks else None,
    }


def page(items: list, p: dict, key, result_key: str, context: str) -> dict:
    """ELBv2's Marker / PageSize pages."""
    size = p.get("PageSize")
    try:
        chunk, marker = pagination.paginate(items, size, p.get("Marker"), key, context, default_limit=400)
    except pagination.InvalidToken:
        raise invalid("The marker is not valid.")
    out = {result_key: chunk}
    if marker:
        out["NextMarker"] = marker
    return out


def parse_arn_scope(arn: str) -> str | None:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "elasticloadbalancing":
        return None
    return f"{parts[4]}/{parts[3]}"
