"""The ``lambda-functions`` controller: Pending → Active (or Failed), and LastUpdateStatus InProgress → Successful.

It makes functions and versions ready to run: code and layers unpacked, and the
runtime available on this host (interpreters found, Java's client compiled),
as AWS does a moment after CreateFunction or an update.
"""

from __future__ import annotations

import asyncio

from ...core.controllers import Controller
from . import runtimes
from .model import FUNCTION, VERSION

NAME = "lambda-functions"


class Activation(Controller):
    """Makes functions and versions ready to run: code and layers unpacked, runtime available on this host."""

    name = NAME
    resync_interval = 60.0

    def __init__(self, kumo, service):
        self.kumo = kumo
        self.service = service

    def keys(self):
        out = []
        for kind in (FUNCTION, VERSION):
            for sc, key, rec in self.kumo.store.all(kind):
                if rec.get("State") == "Pending" or rec.get("LastUpdateStatus") == "InProgress":
                    out.append((sc, kind, key))
        return out

    async def reconcile(self, key):
        sc, kind, name = key
        store = self.kumo.store
        rec = store.table(sc, kind).get(name)
        if rec is None:
            return None
        revision_seen = rec["RevisionId"]
        problem = None
        try:  # off the loop: finding interpreters runs them once, and Java's client may be compiled
            await asyncio.get_running_loop().run_in_executor(None, runtimes.resolve, rec["Runtime"])
        except runtimes.Unavailable as exc:
            problem = ("InvalidRuntime", str(exc))
        try:
            await self.service.unpacker.ensure(rec["_code"]["sha"])
            for layer in rec.get("Layers") or []:
                await self.service.layer_dir(layer["Arn"])
        except (OSError, LookupError, ValueError) as exc:
            problem = problem or ("InvalidZipFileException", f"Lambda was unable to unzip the code: {exc}")
        with store.transaction():
            rec = store.table(sc, kind).get(name)
            if rec is None or rec["RevisionId"] != revision_seen:
                return 0.0 if rec is not None else None  # changed meanwhile: look again
            if problem:
                code_, reason = problem
                if rec.get("State") == "Pending" or code_ == "InvalidRuntime":
                    rec.update(State="Failed", StateReasonCode=code_, StateReason=reason)
                if rec.get("LastUpdateStatus") == "InProgress" or kind == FUNCTION:
                    rec.update(LastUpdateStatus="Failed", LastUpdateStatusReasonCode=code_,
                               LastUpdateStatusReason=reason)
            else:
                rec["State"] = "Active"
                for k in ("StateReason", "StateReasonCode", "LastUpdateStatusReason", "LastUpdateStatusReasonCode"):
                    rec.pop(k, None)
                rec["LastUpdateStatus"] = "Successful"
            store.table(sc, kind).put(name, rec)
        return None
