"""curl as a subprocess: the requests a browser or a hostile page would make, byte for byte."""

from __future__ import annotations

import subprocess


def curl(url: str, *args: str, method: str = "GET") -> tuple[int, bytes]:
    """(status, body) of one request made by curl."""
    cmd = ["curl", "-sS", "--max-time", "20", "-X", method, "-o", "-", "-w", "\n%{http_code}", *args, url]
    out = subprocess.run(cmd, capture_output=True, timeout=30, check=True).stdout
    body, _, status = out.rpartition(b"\n")
    return int(status), body
