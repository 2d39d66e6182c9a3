"""Which instance a group terminates on scale in: AWS's termination policies, as pure functions.

First the zone: the one with the most instances that still has an instance
not protected from scale in.  Then, within it, each policy of the group in
order narrows the candidates; ``Default`` is AllocationStrategy, then the
oldest launch template or configuration, then the closest to the next
instance hour.  What is still tied at the end goes by instance id, so the
choice is reproducible.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable

HOUR = 3600.0


@dataclass(frozen=True)
class Context:
    now: float
    template_id: str | None = None  # the group's launch template
    template_version: int | None = None  # its version now in force
    launch_config: str | None = None
    overrides: tuple[str, ...] = ()  # instance types in priority order (mixed instances)
    on_demand_excess: int = 0  # on-demand units above the distribution's share (negative: spot is over)


def _keep_min(key: Callable[[dict], float]):
    def narrow(cands: list[dict], ctx: Context) -> list[dict]:
        best = min(key(m) for m in cands)
        return [m for m in cands if key(m) == best]
    return narrow


def _keep_max(key: Callable[[dict], float]):
    def narrow(cands: list[dict], ctx: Context) -> list[dict]:
        best = max(key(m) for m in cands)
        return [m for m in cands if key(m) == best]
    return narrow


def _oldest_template(cands: list[dict], ctx: Context) -> list[dict]:
    if ctx.template_id is None:
        return cands
    other = [m for m in cands if m.get("_template_id") != ctx.template_id]
    if other:
        return other
    versions = {int(m.get("_template_version") or 0) for m in cands}
    oldest = min(versions)
    if ctx.template_version is not None and oldest >= ctx.template_version:
        return cands
    return [m for m in cands if int(m.get("_template_version") or 0) == oldest]


def _oldest_config(cands: list[dict], ctx: Context) -> list[dict]:
    if ctx.launch_config is None:
        return cands
    other = [m for m in cands if m.get("LaunchConfigurationName") != ctx.launch_config]
    return other or cands


def _next_hour(cands: list[dict], ctx: Context) -> list[dict]:
    return _keep_min(lambda m: HOUR - (ctx.now - m["_launched"]) % HOUR)(cands, ctx)


def _allocation(cands: list[dict], ctx: Context) -> list[dict]:
    if ctx.on_demand_excess > 0:
        pick = [m for m in cands if m.get("_requested", "on-demand") == "on-demand"]
    elif ctx.on_demand_excess < 0:
        pick = [m for m in cands if m.get("_requested") == "spot"]
    else:
        pick = cands
    pick = pick or cands
    if ctx.overrides:
        rank = {t: i for i, t in enumerate(ctx.overrides)}
        worst = max(rank.get(m["InstanceType"], len(rank)) for m in pick)
        pick = [m for m in pick if rank.get(m["InstanceType"], len(rank)) == worst]
    return pick


POLICIES: dict[str, list] = {
    "OldestInstance": [_keep_min(lambda m: m["_launched"])],
    "NewestInstance": [_keep_max(lambda m: m["_launched"])],
    "OldestLaunchConfiguration": [_oldest_config],
    "OldestLaunchTemplate": [_oldest_template],
    "ClosestToNextInstanceHour": [_next_hour],
    "AllocationStrategy": [_allocation],
    "Default": [_allocation, _oldest_template, _oldest_config, _next_hour],
}


def choose(counted: list[dict], candidates: list[dict], n: int, policies: list[str], ctx: Context) -> list[dict]:
    """``n`` instances to terminate from ``candidates`` (unprotected), zones weighed over ``counted``."""
    zones = Counter(m["AvailabilityZone"] for m in counted)
    pool = list(candidates)
    out = []
    for _ in range(min(n, len(pool))):
        eligible_zones = {m["AvailabilityZone"] for m in pool}
        zone = max(sorted(eligible_zones), key=lambda z: zones[z])
        cands = [m for m in pool if m["AvailabilityZone"] == zone]
        for name in policies or ["Default"]:
            for narrow in POLICIES.get(name, POLICIES["Default"]):
                if len(cands) > 1:
                    cands = narrow(cands, ctx)
        victim = sorted(cands, key=lambda m: m["InstanceId"])[0]
        out.append(victim)
        pool.remove(victim)
        zones[zone] -= 1
    return out
