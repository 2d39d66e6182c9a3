"""Access log entries in AWS's formats (ALB, Classic ELB, NLB), and the S3 key each log file takes.

Workers format one line per request (per TLS connection for an NLB) of a load balancer whose access
logging is on; the control plane batches them and writes them to the bucket on kumo's clock.  Fields kumo
has no value for are ``-`` as in AWS's own logs (a request that reached no target, no TLS).
"""

from __future__ import annotations

import datetime as _dt
import secrets


def iso_micros(epoch: float) -> str:
    moment = _dt.datetime.fromtimestamp(epoch, _dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}Z"


def _quote(text: str | None) -> str:
    if text is None or text == "":
        return '"-"'
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _secs(value: float | None) -> str:
    return "-1" if value is None else f"{value:.3f}"


def _addr(host: str | None, port: int | None) -> str:
    return f"{host}:{port}" if host else "-"


def lb_id(arn: str) -> str:
    """app/<name>/<id> (or net/...) of an ELBv2 load balancer ARN."""
    return arn.split(":loadbalancer/", 1)[-1]


def alb_line(*, kind: str, when: float, created: float, lb_arn: str, client: tuple[str, int],
             target: tuple[str, int] | None, request_time: float, target_time: float | None,
             response_time: float, elb_status: int, target_status: int | None, received: int, sent: int,
             request_line: str, user_agent: str | None, tls: tuple[str, str] | None, group_arn: str | None,
             trace: str, domain: str | None, action: str, redirect_url: str | None = None,
             error_reason: str | None = None, rule_priority: str = "0") -> str:
    """One ALB entry (the fields of AWS's "Access log entries" in their order): ``kind`` is http, https, h2,
    ws or wss; ``when`` the time the answer was sent, ``created`` the time the request arrived."""
    target_field = _addr(*target) if target else "-"
    tls_cipher, tls_proto = (tls[1], tls[0]) if tls else ("-", "-")
    fields = [
        kind, iso_micros(when), lb_id(lb_arn), _addr(*client), target_field, _secs(request_time),
        _secs(target_time), _secs(response_time), str(elb_status),
        str(target_status) if target_status is not None else "-", str(received), str(sent),
        _quote(request_line), _quote(user_agent), tls_cipher, tls_proto, group_arn or "-", _quote(trace),
        _quote(domain), '"-"', rule_priority, iso_micros(created), _quote(action), _quote(redirect_url),
        _quote(error_reason), _quote(target_field if target else None),
        _quote(str(target_status) if target_status is not None else None), '"-"', '"-"',
        "TID_" + secrets.token_hex(16),
    ]
    return " ".join(fields)


def classic_line(*, when: float, name: str, client: tuple[str, int], backend: tuple[str, int] | None,
                 request_time: float, backend_time: float | None, response_time: float, elb_status: int,
                 backend_status: int | None, received: int, sent: int, request_line: str,
                 user_agent: str | None, tls: tuple[str, str] | None) -> str:
    """One Classic Load Balancer entry (HTTP/HTTPS listeners)."""
    tls_cipher, tls_proto = (tls[1], tls[0]) if tls else ("-", "-")
    return " ".join([
        iso_micros(when), name, _addr(*client), _addr(*backend) if backend else "-", _secs(request_time),
        _secs(backend_time), _secs(response_time), str(elb_status),
        str(backend_status) if backend_status is not None else "-", str(received), str(sent),
        _quote(request_line), _quote(user_agent), tls_cipher, tls_proto,
    ])


def iso_seconds(epoch: float) -> str:
    return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


_TLS_NAMES = {"TLSv1": "tlsv1", "TLSv1.1": "tlsv11", "TLSv1.2": "tlsv12", "TLSv1.3": "tlsv13"}


def nlb_line(*, when: float, lb_arn: str, listener_arn: str, client: tuple[str, int],
             destination: tuple[str, int], connection_ms: int, handshake_ms: int | None, received: int,
             sent: int, cert_arn: str | None, tls: tuple[str, str] | None, domain: str | None,
             created: float) -> str:
    """One NLB entry (TLS listeners only, as AWS logs none for TCP and UDP), version 2.0 fields; its times
    have whole seconds, as AWS's do."""
    tls_cipher, tls_proto = (tls[1], _TLS_NAMES.get(tls[0], tls[0].lower())) if tls else ("-", "-")
    return " ".join([
        "tls", "2.0", iso_seconds(when), lb_id(lb_arn), listener_arn.rsplit("/", 1)[-1], _addr(*client),
        _addr(*destination), str(connection_ms), str(handshake_ms) if handshake_ms is not None else "-",
        str(received), str(sent), "-", cert_arn or "-", "-", tls_cipher, tls_proto, "-", domain or "-", "-", "-",
        "-", iso_seconds(created),
    ])


def object_key(*, prefix: str | None, account: str, region: str, lb_part: str, end: float, node_ip: str,
               gzip: bool) -> str:
    """``[prefix/]AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/<account>_elasticloadbalancing_
    <region>_<lb>_<end>_<ip>_<random>.log[.gz]``; ``lb_part`` is app.<name>.<id> (ALB), net.<name>.<id>
    (NLB) or the Classic load balancer's name."""
    moment = _dt.datetime.fromtimestamp(end, _dt.timezone.utc)
    day = moment.strftime("%Y/%m/%d")
    stamp = moment.strftime("%Y%m%dT%H%MZ")
    name = (f"{account}_elasticloadbalancing_{region}_{lb_part}_{stamp}_{node_ip}_{secrets.token_hex(4)}"
            f".log{'.gz' if gzip else ''}")
    base = f"AWSLogs/{account}/elasticloadbalancing/{region}/{day}/{name}"
    prefix = (prefix or "").strip("/")
    return f"{prefix}/{base}" if prefix else base


def line_time(line: str, kind: str) -> float | None:
    """The time an entry was written (its second field for ALB, its first for Classic, its third for NLB)."""
    parts = line.split(" ", 3)
    text = parts[{"alb": 1, "classic": 0, "nlb": 2}[kind]] if len(parts) > 3 else ""
    try:
        moment = _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S" if kind == "nlb" else "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return None
    moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment.timestamp()


class Shipper:
    """Batches of access log lines per load balancer, due at the end of their emit interval on kumo's clock.

    The owning service says which load balancers are its own and where their logs go (``where(lb)``: None
    when logging is off or the load balancer is gone, else a dict with bucket, prefix, interval in seconds,
    account, region, lb_part, node_ip, gzip, kind); ``ship(now, write)`` writes every batch whose interval
    has ended with ``write(bucket, key, data)``.
    """

    def __init__(self, owns, where):
        self.owns = owns
        self.where = where
        self.batches: dict[str, list[str]] = {}
        self.since: dict[str, float] = {}  # lb -> the time of its batch's oldest line

    def take(self, lines: dict[str, list[str]], now: float) -> None:
        for lb, batch in lines.items():
            if not batch or not self.owns(lb):
                continue
            target = self.where(lb)
            if target is None:
                continue
            if lb not in self.batches:
                self.since[lb] = min(line_time(batch[0], target["kind"]) or now, now)
            self.batches.setdefault(lb, []).extend(batch)

    def ship(self, now: float, write) -> int:
        """Write the batches that are due; how many files were written."""
        import gzip as _gzip

        written = 0
        for lb in list(self.batches):
            target = self.where(lb)
            if target is None:
                self.batches.pop(lb, None)
                self.since.pop(lb, None)
                continue
            interval = target["interval"]
            due = (self.since[lb] // interval) * interval + interval
            if now < due:
                continue
            batch = self.batches.pop(lb)
            self.since.pop(lb)
            data = ("\n".join(batch) + "\n").encode()
            if target["gzip"]:
                data = _gzip.compress(data)
            key = object_key(prefix=target["prefix"], account=target["account"], region=target["region"],
                             lb_part=target["lb_part"], end=due, node_ip=target["node_ip"], gzip=target["gzip"])
            write(target["bucket"], key, data)
            written += 1
        return written
