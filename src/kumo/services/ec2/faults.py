"""Fault injection: break an instance and watch the cloud react (``kumo fault instance ...``).

* ``kill``: every process of the instance dies at once (a crash);
* ``fail-instance-check``: the instance's processes are frozen (SIGSTOP), as in a hung OS;
* ``fail-system-check``: its simulated host is impaired;
* ``clear``: thaw the processes and heal the host.

The fault happens at once; the status checks see it at their next run, within
a minute of kumo's clock, as EC2's do (``status_checks.py``).
"""

from __future__ import annotations

import os
import signal

from aiohttp import web

from .lifecycle import KIND, handle_of

ACTIONS = ("kill", "fail-instance-check", "fail-system-check", "clear")


def find_instance(kumo, instance_id: str):
    for scope, iid, inst in kumo.store.all(KIND):
        if iid == instance_id:
            return scope, inst
    return None, None


def apply(kumo, rt, instance_id: str, action: str) -> dict:
    scope, inst = find_instance(kumo, instance_id)
    if inst is None:
        raise KeyError(instance_id)
    if action not in ACTIONS:
        raise ValueError(f"unknown fault {action!r}; choose one of {', '.join(ACTIONS)}")
    workload = rt.workload(instance_id)
    if action == "kill":
        rt.backend.kill_now(workload, handle_of(inst))
        # SIGKILL cannot be undone, but a process takes a moment of real time to die: the checks count this
        # boot as dead from now on, however soon kumo's clock reaches the next one.
        inst["_killed_boot"] = (inst.get("_boot") or {}).get("at")
    elif action == "fail-instance-check":
        _signal(rt, workload, signal.SIGSTOP)
        inst["_frozen"] = True
    elif action == "fail-system-check":
        inst["_system_impaired"] = kumo.clock.now()
    elif action == "clear":
        if inst.pop("_frozen", None):
            _signal(rt, workload, signal.SIGCONT)
        inst.pop("_system_impaired", None)
    with kumo.store.transaction():
        kumo.store.table(scope, KIND).put(instance_id, inst)
    return {"instance": instance_id, "fault": action}


def _signal(rt, workload: str, sig: int) -> None:
    for pid in rt.backend.pids(workload):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def route(kumo, rt):
    async def handler(request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
            result = apply(kumo, rt, request.match_info["instance_id"], (body or {}).get("action", ""))
        except KeyError:
            return web.json_response({"error": f"no instance {request.match_info['instance_id']}"}, status=404)
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(result)

    return handler
