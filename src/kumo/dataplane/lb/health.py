"""Target health, as ELB's health checks decide it (sans-IO state machine).

A newly registered target is ``initial`` until it passes its first checks:
one success makes an ELBv2 target ``healthy`` ("it must pass one health
check"), while a Classic instance needs HealthyThreshold of them in a row
(``initial_passes``).  Afterwards ``UnhealthyThresholdCount`` consecutive
failures make it ``unhealthy`` and ``HealthyThresholdCount`` consecutive
successes bring it back, as AWS documents.
"""

from __future__ import annotations

from dataclasses import dataclass

REASONS = {
    "initial": ("Elb.RegistrationInProgress", "Target registration is in progress"),
    "initial-checking": ("Elb.InitialHealthChecking", "Initial health checks in progress"),
    "draining": ("Target.DeregistrationInProgress", "Target deregistration is in progress"),
    "unused-group": ("Target.NotInUse", "Target group is not configured to receive traffic from the load balancer"),
    "unused-zone": ("Target.NotInUse", "Target is in an Availability Zone that is not enabled for the load balancer"),
    "disabled": ("Target.HealthCheckDisabled", "Health checks are disabled"),
}


@dataclass
class Outcome:
    ok: bool
    reason: str = ""  # Target.Timeout | Target.ResponseCodeMismatch | Target.FailedHealthChecks
    description: str = ""


@dataclass
class Health:
    state: str = "initial"
    successes: int = 0
    failures: int = 0
    checked: bool = False
    reason: str = "Elb.RegistrationInProgress"
    description: str = "Target registration is in progress"
    changed_at: float = 0.0

    def record(self, outcome: Outcome, healthy_threshold: int, unhealthy_threshold: int, now: float,
               initial_passes: int = 1) -> bool:
        """Apply one check's outcome; True when the state changed."""
        before = self.state
        if outcome.ok:
            self.successes += 1
            self.failures = 0
            if (self.state == "initial" and self.successes >= initial_passes) or \
                    (self.state == "unhealthy" and self.successes >= healthy_threshold):
                self.state = "healthy"
        else:
            self.failures += 1
            self.successes = 0
            if self.state == "initial" or (self.state == "healthy" and self.failures >= unhealthy_threshold):
                self.state = "unhealthy" if self.state == "healthy" or self.failures >= unhealthy_threshold \
                    else "initial"
        self.checked = True
        if self.state == "healthy":
            self.reason, self.description = "", ""
        elif self.state == "unhealthy":
            self.reason, self.description = outcome.reason or "Target.FailedHealthChecks", \
                outcome.description or "Health checks failed"
        elif self.state == "initial":
            self.reason, self.description = REASONS["initial-checking"]
        if self.state != before:
            self.changed_at = now
            return True
        return False


def matches(code: int, matcher: str) -> bool:
    """An HTTP status against a matcher such as "200", "200,202" or "200-299"."""
    for part in (matcher or "200").split(","):
        part = part.strip()
        if "-" in part:
            lo, _, hi = part.partition("-")
            if int(lo) <= code <= int(hi):
                return True
        elif part and int(part) == code:
            return True
    return False
