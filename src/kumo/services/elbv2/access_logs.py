"""ALB and NLB access logs written to S3 (attributes ``access_logs.s3.enabled/bucket/prefix``).

Workers format a line per request (ALB) or per TLS connection (NLB: AWS logs only TLS listeners); every
5 minutes of kumo's clock the batch of each load balancer is written gzipped to
``<bucket>/<prefix>/AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/...log.gz``, through
``kumo.objects`` (S3 stores it as a PutObject: versioned, notified, listed).  At enable time AWS checks it can write
to the bucket (its policy must let the region's ELB account put objects); kumo checks the bucket exists
in the load balancer's region, and writes ``ELBAccessLogTestFile`` as AWS does.
"""

from __future__ import annotations

import logging

from ...aws.errors import AwsError
from ...core.controllers import Controller
from ...dataplane.lb.access_logs import Shipper
from ...dataplane.lb.control import runtime_of
from .model import LB

log = logging.getLogger("kumo.elbv2")
INTERVAL = 300.0  # ALB and NLB publish every 5 minutes


def _split(arn: str) -> tuple[str, str] | None:
    parts = arn.split(":")
    return (parts[4], parts[3]) if len(parts) >= 6 else None


def _lb(kumo, arn: str) -> dict | None:
    split = _split(arn)
    if split is None:
        return None
    return kumo.store.table(f"{split[0]}/{split[1]}", LB).get(arn)


def enabled(lb: dict) -> bool:
    return lb["_attributes"].get("access_logs.s3.enabled") == "true"


def where(kumo, arn: str) -> dict | None:
    lb = _lb(kumo, arn)
    if lb is None or not enabled(lb):
        return None
    account, region = _split(arn)
    attrs = lb["_attributes"]
    lb_id = arn.split(":loadbalancer/", 1)[1]  # app/<name>/<id>
    nodes = [z.get("_node") for z in lb["AvailabilityZones"] if z.get("_node")]
    return {"bucket": attrs.get("access_logs.s3.bucket"), "prefix": attrs.get("access_logs.s3.prefix") or "",
            "interval": INTERVAL, "account": account, "region": region, "lb_part": lb_id.replace("/", "."),
            "node_ip": nodes[0] if nodes else "127.0.0.1", "gzip": True,
            "kind": "alb" if lb["Type"] == "application" else "nlb"}


def listener_format(lb: dict, protocol: str) -> str | None:
    """The access log format a listener's workers write, None when it logs nothing."""
    if not enabled(lb):
        return None
    if lb["Type"] == "application":
        return "alb"
    return "nlb" if protocol == "TLS" else None


def check_enable(ctx, lb: dict, attrs: dict) -> None:
    """What ModifyLoadBalancerAttributes checks when access logging is (or stays) on."""
    if attrs.get("access_logs.s3.enabled") != "true":
        return
    bucket = attrs.get("access_logs.s3.bucket") or ""
    if not bucket:
        raise AwsError("ValidationError", "The value of 'access_logs.s3.bucket' cannot be empty", status=400)
    prefix = attrs.get("access_logs.s3.prefix") or ""
    if prefix.startswith("/") or prefix.endswith("/") or "AWSLogs" in prefix:
        raise AwsError("InvalidConfigurationRequest", "The prefix cannot start or end with a slash or contain "
                       "'AWSLogs'", status=400)
    if ctx.kumo.objects.bucket_region(bucket) != ctx.region:
        raise AwsError("InvalidConfigurationRequest",
                       f"Access Denied for bucket: {bucket}. Please check S3bucket permission", status=400)
    old = lb["_attributes"]
    if (old.get("access_logs.s3.enabled"), old.get("access_logs.s3.bucket"), old.get("access_logs.s3.prefix")) \
            != ("true", bucket, prefix):
        key = f"AWSLogs/{ctx.account}/ELBAccessLogTestFile"
        ctx.kumo.objects.put(bucket, f"{prefix}/{key}" if prefix else key, b"Enable AccessLog for ELB: "
                      + lb["LoadBalancerArn"].encode() + b" at " + str(int(ctx.now())).encode() + b"\n")


class AccessLogController(Controller):
    """Collects the workers' lines and writes each load balancer's batch once its 5 minutes have ended."""

    name = "elbv2-access-logs"
    resync_interval = INTERVAL

    def __init__(self, kumo):
        self.kumo = kumo
        self.shipper = Shipper(lambda arn: ":loadbalancer/app/" in arn or ":loadbalancer/net/" in arn,
                               lambda arn: where(kumo, arn))
        runtime_of(kumo).log_sinks.append(lambda lines: self.shipper.take(lines, kumo.clock.now()))

    def keys(self):
        return ["ship"]

    async def reconcile(self, key):
        kumo = self.kumo
        if any(enabled(lb) for _s, _a, lb in kumo.store.all(LB)):
            await runtime_of(kumo).collect_logs()
        now = kumo.clock.now()
        self.shipper.ship(now, self._write)
        return (now // INTERVAL) * INTERVAL + INTERVAL - now

    def _write(self, bucket: str, key: str, data: bytes) -> None:
        try:
            with self.kumo.store.transaction():
                self.kumo.objects.put(bucket, key, data)
        except (AwsError, LookupError) as exc:  # the bucket went away: AWS drops the file too
            log.warning("access log %s/%s not written: %s", bucket, key, getattr(exc, "message", exc))
