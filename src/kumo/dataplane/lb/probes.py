"""Health check probes: what a load balancer node sends to a target, and what it concludes."""

from __future__ import annotations

import asyncio
import ssl

from .health import Outcome, matches

USER_AGENT = "ELB-HealthChecker/2.0"


async def probe(hc: dict, target: dict, timeout: float) -> Outcome:
    """One check of one target, given ``timeout`` real seconds to answer (the caller converts the check's
    timeout at the clock's pace: a target answers in real time)."""
    port = target["port"] if hc.get("port") in (None, "traffic-port") else int(hc["port"])
    host = target["host"]
    protocol = (hc.get("protocol") or "HTTP").upper()
    try:
        if protocol in ("HTTP", "HTTPS"):
            return await asyncio.wait_for(_http(host, port, hc, protocol == "HTTPS"), timeout)
        return await asyncio.wait_for(_tcp(host, port), timeout)
    except asyncio.TimeoutError:
        return Outcome(False, "Target.Timeout", "Request timed out")
    except OSError:
        return Outcome(False, "Target.FailedHealthChecks", "Health checks failed")


async def _tcp(host: str, port: int) -> Outcome:
    _, writer = await asyncio.open_connection(host, port)
    writer.close()
    return Outcome(True)


async def _http(host: str, port: int, hc: dict, tls: bool) -> Outcome:
    context = None
    if tls:  # ELB does not validate the certificates of its targets
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    reader, writer = await asyncio.open_connection(host, port, ssl=context)
    try:
        path = hc.get("path") or "/"
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: {USER_AGENT}\r\n"
                     f"Accept: */*\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        line = await reader.readline()
    finally:
        writer.close()
    parts = line.split()
    if len(parts) < 2 or not parts[1].isdigit():
        return Outcome(False, "Target.FailedHealthChecks", "Health checks failed")
    code = int(parts[1])
    if matches(code, hc.get("matcher") or "200"):
        return Outcome(True)
    return Outcome(False, "Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{code}]")
