"""Classic Load Balancer access logs written to S3 (the AccessLog attribute: S3BucketName, S3BucketPrefix,
EmitInterval of 5 or 60 minutes).

Workers format a line per request on HTTP and HTTPS listeners (TCP and SSL listeners log nothing in kumo);
at the end of each emit interval on kumo's clock the batch is written, uncompressed as Classic's are, to
``<bucket>/<prefix>/AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/..._<name>_<end>_<ip>_<r>.log``.
At enable time AWS checks its policy lets the region's ELB account write; kumo checks the bucket exists
in the load balancer's region, and writes ``ELBAccessLogTestFile`` as AWS does.
"""

from __future__ import annotations

import logging

from ...aws.errors import AwsError
from ...core.controllers import Controller
from ...dataplane.lb.access_logs import Shipper
from ...dataplane.lb.control import runtime_of
from .model import LB

log = logging.getLogger("kumo.elb")
L7 = ("HTTP", "HTTPS")


def _lb(kumo, arn: str) -> dict | None:
    parts = arn.split(":")
    if len(parts) < 6 or not parts[5].startswith("loadbalancer/"):
        return None
    return kumo.store.table(f"{parts[4]}/{parts[3]}", LB).get(parts[5].split("/", 1)[1])


def enabled(lb: dict) -> bool:
    return bool((lb["_attributes"].get("AccessLog") or {}).get("Enabled"))


def listener_format(lb: dict, protocol: str) -> str | None:
    return "classic" if enabled(lb) and protocol in L7 else None


def where(kumo, arn: str) -> dict | None:
    lb = _lb(kumo, arn)
    if lb is None or not enabled(lb):
        return None
    parts = arn.split(":")
    cfg = lb["_attributes"]["AccessLog"]
    nodes = sorted(lb.get("_nodes", {}).values())
    return {"bucket": cfg.get("S3BucketName"), "prefix": cfg.get("S3BucketPrefix") or "",
            "interval": 60.0 * int(cfg.get("EmitInterval") or 60), "account": parts[4], "region": parts[3],
            "lb_part": lb["LoadBalancerName"], "node_ip": nodes[0] if nodes else "127.0.0.1", "gzip": False,
            "kind": "classic"}


def check_enable(ctx, lb: dict, cfg: dict) -> None:
    if not cfg.get("Enabled"):
        return
    bucket, prefix = cfg.get("S3BucketName") or "", (cfg.get("S3BucketPrefix") or "").strip("/")
    if ctx.kumo.objects.bucket_region(bucket) != ctx.region:
        raise AwsError("InvalidConfigurationRequest",
                       f"Access Denied for bucket: {bucket}. Please check S3bucket permission", status=409)
    old = lb["_attributes"].get("AccessLog") or {}
    if (old.get("Enabled"), old.get("S3BucketName"), (old.get("S3BucketPrefix") or "").strip("/")) != \
            (True, bucket, prefix):
        key = f"AWSLogs/{ctx.account}/ELBAccessLogTestFile"
        ctx.kumo.objects.put(bucket, f"{prefix}/{key}" if prefix else key,
                      f"Enable AccessLog for ELB: {lb['LoadBalancerName']} at {int(ctx.now())}\n".encode())


class AccessLogController(Controller):
    name = "elb-access-logs"
    resync_interval = 300.0

    def __init__(self, kumo):
        self.kumo = kumo
        self.shipper = Shipper(lambda arn: ":loadbalancer/" in arn and ":loadbalancer/app/" not in arn
                               and ":loadbalancer/net/" not in arn, lambda arn: where(kumo, arn))
        runtime_of(kumo).log_sinks.append(lambda lines: self.shipper.take(lines, kumo.clock.now()))

    def keys(self):
        return ["ship"]

    async def reconcile(self, key):
        kumo = self.kumo
        if any(enabled(lb) for _s, _n, lb in kumo.store.all(LB)):
            await runtime_of(kumo).collect_logs()
        now = kumo.clock.now()
        self.shipper.ship(now, self._write)
        return (now // 300.0) * 300.0 + 300.0 - now

    def _write(self, bucket: str, key: str, data: bytes) -> None:
        try:
            with self.kumo.store.transaction():
                self.kumo.objects.put(bucket, key, data, "text/plain")
        except (AwsError, LookupError) as exc:
            log.warning("access log %s/%s not written: %s", bucket, key, getattr(exc, "message", exc))
