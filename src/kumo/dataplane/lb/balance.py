"""Choosing a target: health, fail-open, zones, algorithms, slow start and stickiness (sans-IO)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import struct
from dataclasses import dataclass, field

ROUTABLE = ("healthy",)
FAIL_OPEN = ("unhealthy", "initial")  # with no healthy target, a group routes to all of these


@dataclass
class Target:
    key: str  # "<id>:<port>"
    host: str  # the address kumo reaches it at
    port: int
    zone: str
    state: str
    healthy_since: float = 0.0  # simulated time it last became healthy (slow start)
    outstanding: int = 0


@dataclass
class Group:
    arn: str
    targets: list[Target]
    algorithm: str = "round_robin"
    slow_start: float = 0.0
    stickiness: dict = field(default_factory=dict)  # {"type": lb_cookie|app_cookie|source_ip, ...}
    protocol: str = "HTTP"
    cross_zone: bool | None = None  # the group's own setting; None follows the load balancer
    fail_open: bool = True  # ELBv2 routes to every target when none is healthy; Classic does not
    _rr: int = 0
    # A worker builds a new Group on every config change, so the candidates of a zone never go stale.
    _candidates: dict = field(default_factory=dict, repr=False)

    def by_key(self, key: str) -> Target | None:
        for t in self.targets:
            if t.key == key:
                return t
        return None

    def candidates(self, zone: str | None, cross_zone: bool) -> list[Target]:
        """Healthy targets (in the node's zone unless cross-zone), or, failing open, all unhealthy ones.

        The list is shared between calls: callers must not change it."""
        found = self._candidates.get((zone, cross_zone))
        if found is None:
            found = self._candidates[(zone, cross_zone)] = self._find_candidates(zone, cross_zone)
        return found

    def _find_candidates(self, zone: str | None, cross_zone: bool) -> list[Target]:
        if self.cross_zone is not None:
            cross_zone = self.cross_zone
        pool = self.targets if cross_zone or zone is None else [t for t in self.targets if t.zone == zone]
        healthy = [t for t in pool if t.state in ROUTABLE]
        if healthy:
            return healthy
        if not cross_zone and zone is not None:
            # A zone with no healthy target: AWS's nodes fail over to the other zones first.
            healthy = [t for t in self.targets if t.state in ROUTABLE]
            if healthy:
                return healthy
        return [t for t in self.targets if t.state in FAIL_OPEN] if self.fail_open else []

    def pick(self, candidates: list[Target], now: float, rng: random.Random) -> Target | None:
        if not candidates:
            return None
        if self.slow_start > 0:
            weights = [_ramp(t, now, self.slow_start) for t in candidates]
            if any(w < 1.0 for w in weights):
                return rng.choices(candidates, weights=weights, k=1)[0]
        if self.algorithm == "least_outstanding_requests":
            low = min(t.outstanding for t in candidates)
            tied = [t for t in candidates if t.outstanding == low]
            self._rr += 1
            return tied[self._rr % len(tied)]
        self._rr += 1
        return candidates[self._rr % len(candidates)]

    def pick_by_source(self, candidates: list[Target], source_ip: str) -> Target | None:
        """Source-IP stickiness: the same client address always lands on the same target."""
        if not candidates:
            return None
        ordered = sorted(candidates, key=lambda t: t.key)
        digest = hashlib.sha1(source_ip.encode()).digest()
        return ordered[int.from_bytes(digest[:4], "big") % len(ordered)]


def _ramp(target: Target, now: float, window: float) -> float:
    """Slow start: a new target's share grows linearly over the window (never quite zero)."""
    age = now - target.healthy_since
    if age >= window:
        return 1.0
    return max(0.05, age / window)


class StickyTokens:
    """Cookie values that name a target until an expiry, signed so a client cannot steer traffic by forging them.

    The expiry (kumo's clock, whole seconds; 0 for a browser-session cookie) is inside the signed value:
    AWS considers a stickiness cookie stale after its duration even when a client keeps sending it, and a
    test can step past it by advancing the clock.
    """

    def __init__(self, secret: bytes):
        self.secret = secret

    def _mac(self, scope: str, target_key: str, until: int) -> bytes:
        return hmac.new(self.secret, f"{scope}|{until}|{target_key}".encode(), hashlib.sha256).digest()[:12]

    def make(self, scope: str, target_key: str, until: float | None = None) -> str:
        """A token for ``target_key`` that is stale from simulated time ``until`` on (None: never)."""
        stamp = int(until) if until else 0
        raw = self._mac(scope, target_key, stamp) + struct.pack("!Q", stamp) + target_key.encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def read(self, scope: str, token: str | None, now: float) -> str | None:
        """The target a token names, or None when it is forged, from another scope, or stale at ``now``."""
        if not token:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            return None
        if len(raw) < 20:
            return None
        mac, (stamp,), key = raw[:12], struct.unpack("!Q", raw[12:20]), raw[20:].decode(errors="replace")
        if not hmac.compare_digest(mac, self._mac(scope, key, stamp)):
            return None
        return key if not stamp or now < stamp else None
