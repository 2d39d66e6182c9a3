"""kumo's settings: defaults, overridden by KUMO_* environment variables, overridden by flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path


def _default_data_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "kumo")


LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: str = ""
    ephemeral: bool = False
    time_scale: float = 1.0
    account_id: str = "000000000000"
    region: str = "us-east-1"
    log_level: str = "info"
    # Instances use 127.<base>.0.0/16, their metadata services 127.<base+1>.0.0/16, and so on (docs/compute.md).
    loopback_base: int = 1
    # Lambda's concurrent executions per account and region (AWS's default quota is 1,000).
    lambda_concurrency: int = 1000
    # Connections (seconds of wall-clock time; README "Timeouts"): idle between requests, a request head that
    # has begun but not ended, a request body that stops arriving.
    idle_timeout: float = 60.0
    header_timeout: float = 20.0
    body_timeout: float = 20.0
    # Host names besides loopback and --host under which /_kumo/* answers (comma-separated).
    admin_hosts: str = ""
    # Verify every request's SigV4 signature against the keys kumo issued (aws/sigv4.py); off: signatures are read.
    enforce_signatures: bool = False
    # Evaluate every AWS API request against IAM policies, as AWS does (docs/iam.md); off: everything is allowed.
    enforce_iam: bool = False
    # A durable kumo leaves its running instances running when it stops, and adopts them when it starts again
    # (docs/compute.md); this stops them with it.  An ephemeral kumo always stops them.
    stop_instances_on_exit: bool = False
    # Per-operation server-side latency histograms at GET /_kumo/timing (aws/timing.py; KUMO_REQUEST_TIMING=1).
    request_timing: bool = False

    def __post_init__(self) -> None:
        if not self.data_dir:
            self.data_dir = _default_data_dir()
        self.log_level = self.log_level.lower()
        if self.log_level not in LOG_LEVELS:
            raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}, not {self.log_level!r}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, not {self.port}")
        if not (len(self.account_id) == 12 and self.account_id.isdigit()):
            raise ValueError(f"account id must be 12 digits, not {self.account_id!r}")
        if self.time_scale < 0:
            raise ValueError("time scale must be >= 0")
        if not 1 <= self.loopback_base <= 240:
            raise ValueError("loopback base must be between 1 and 240")
        if self.lambda_concurrency < 1:
            raise ValueError("lambda concurrency must be at least 1")
        for name in ("idle_timeout", "header_timeout", "body_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name.replace('_', ' ')} must be more than 0 seconds")

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> "Settings":
        env = os.environ if env is None else env
        values: dict = {}
        for f in fields(cls):
            raw = env.get(f"KUMO_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            try:
                if f.type in ("bool", bool):
                    values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
                elif f.type in ("int", int):
                    values[f.name] = int(raw)
                elif f.type in ("float", float):
                    values[f.name] = float(raw)
                else:
                    values[f.name] = raw
            except ValueError:
                raise ValueError(f"KUMO_{f.name.upper()} must be a number, not {raw!r}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def db_path(self) -> str | None:
        return None if self.ephemeral else str(Path(self.data_dir) / "state.db")

    @property
    def work_dir(self) -> str:
        """Where workloads keep their disks (a temporary directory when ephemeral)."""
        return str(Path(self.data_dir) / "work")

    @property
    def endpoint(self) -> str:
        host = "localhost" if self.host in ("127.0.0.1", "0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"
