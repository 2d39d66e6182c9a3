"""EC2's status checks, on EC2's cadence and kumo's clock.

EC2 checks every running instance once a minute, and DescribeInstanceStatus
and the ``StatusCheckFailed*`` metrics report the last check: a crash shows up
at the next check, not at the moment it happens.  kumo checks at each minute
of its clock (with the minute's metrics, ``monitor.py``):

* the instance reachability check passes while the instance's first process
  lives and is not frozen (``kumo fault instance --kill`` kills it,
  ``--fail-instance-check`` freezes it);
* the system reachability check passes while its simulated host is healthy
  (``--fail-system-check``).

Until the first check of a boot, and at checks while the boot has not finished
(for at most ``BOOT_GRACE``), both report ``initializing``.  The outcome is
kept on the instance's record, only when it changes: ``_checks`` holds, for
the current boot, each check's result and since when it has held (a failed
check's ``ImpairedSince``).
"""

from __future__ import annotations

from .lifecycle import KIND

CHECK_EVERY = 60.0  # EC2 runs its status checks every minute
BOOT_GRACE = 60.0  # a check reports "initializing" while the boot has not finished, for at most this long


def _boot_at(inst: dict) -> float:
    return (inst.get("_boot") or {}).get("at", 0.0)


def _boot_finished(rt, inst: dict) -> bool:
    cloud = ("var", "lib", "cloud", "instances", inst["InstanceId"], "boot-finished")
    disk = rt.disk(inst["InstanceId"])
    return disk.joinpath("upper", *cloud).exists() or disk.joinpath(*cloud).exists()


def check(rt, inst: dict, now: float) -> tuple[str, str]:
    """(instance check, system check) of a running instance at this moment: passed, failed or initializing."""
    booting = now - _boot_at(inst) < BOOT_GRACE and not _boot_finished(rt, inst)
    killed = inst.get("_boot") is not None and inst.get("_killed_boot") == _boot_at(inst)  # faults.py
    if killed or inst.get("_frozen") or not rt.backend.alive(rt.controller.handle(inst)):
        instance = "failed"
    else:
        instance = "initializing" if booting else "passed"
    if inst.get("_system_impaired"):
        system = "failed"
    else:
        system = "initializing" if booting else "passed"
    return instance, system


def run(kumo, rt, now: float) -> None:
    """Check every running instance now; record what changed."""
    changed = []
    for scope, iid, inst in kumo.store.all(KIND):
        if inst["State"]["Name"] != "running" or not inst.get("_boot"):
            continue
        results = check(rt, inst, now)
        before = inst.get("_checks") or {}
        same_boot = before.get("boot") == _boot_at(inst)
        record = {"boot": _boot_at(inst)}
        for name, result in zip(("instance", "system"), results):
            held = before.get(name) if same_boot else None
            # An instance impaired from its launch on is impaired since it was launched, as EC2 reports it.
            since = now if held else _boot_at(inst)
            record[name] = held if held and held[0] == result else [result, since]
        if record != before:
            inst["_checks"] = record
            changed.append((scope, iid, inst))
    if changed:
        with kumo.store.transaction():
            for scope, iid, inst in changed:
                kumo.store.table(scope, KIND).put(iid, inst)


def last(inst: dict) -> tuple[list, list] | None:
    """The last checks of the instance's current boot: ([result, since], [result, since]), or None before the
    first one."""
    checks = inst.get("_checks")
    if not checks or checks.get("boot") != _boot_at(inst) or inst["State"]["Name"] != "running":
        return None
    return checks["instance"], checks["system"]


def failed(inst: dict) -> tuple[float, float]:
    """StatusCheckFailed_Instance and StatusCheckFailed_System as the last checks found them (0 or 1)."""
    found = last(inst)
    if found is None:
        return 0.0, 0.0
    return tuple(1.0 if result == "failed" else 0.0 for result, _ in found)


_SUMMARY = {"passed": "ok", "failed": "impaired", "initializing": "initializing"}


def described(inst: dict) -> tuple[dict, dict]:
    """InstanceStatus and SystemStatus of a running instance, as DescribeInstanceStatus reports them."""
    found = last(inst) or (["initializing", None], ["initializing", None])
    out = []
    for result, since in found:
        detail = {"Name": "reachability", "Status": result}
        if result == "failed":
            detail["ImpairedSince"] = since
        out.append({"Status": _SUMMARY[result], "Details": [detail]})
    return out[0], out[1]
