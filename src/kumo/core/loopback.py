"""Addresses of kumo's own on this machine's loopback network (all of 127.0.0.0/8 is local on Linux).

Each kind of endpoint has a /16 of its own: instances, their metadata
services, load balancer nodes ...  Allocation is durable and kumo-wide (not per
account), because private ranges of different VPCs and accounts overlap.
"""

from __future__ import annotations

import ipaddress
import os
import tempfile

from ..aws.errors import AwsError
from .pidlock import Held, PidLock

SCOPE = ""
NETWORKS = 4  # instances, metadata services, load balancer nodes, Lambda function URLs


class LoopbackInUse(RuntimeError):
    """Another kumo on this machine serves from some of the same loopback networks."""


class LoopbackClaim:
    """This kumo's hold on its loopback networks while it runs.

    Two kumo servers on the same networks would hand out the same instance
    addresses, and the load balancer workers bind with SO_REUSEPORT, so a second
    kumo would silently take part of the first one's connections.  The kernel
    drops the locks when the process dies, kill -9 included.
    """

    def __init__(self, base: int):
        self.locks: list[PidLock] = []
        try:
            for n in range(base, base + NETWORKS):
                try:
                    self.locks.append(PidLock(os.path.join(tempfile.gettempdir(), f"kumo-net-127.{n}.lock")))
                except Held as held:
                    raise LoopbackInUse(
                        f"127.{n}.0.0/16 is in use by another kumo{f' (pid {held.pid})' if held.pid else ''}; "
                        f"give this one other networks with --loopback-base (it uses {NETWORKS} from the base on)"
                    ) from None
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        for lock in self.locks:
            lock.release()
        self.locks = []


class LoopbackPool:
    def __init__(self, network: str, kind: str):
        self.network = ipaddress.ip_network(network)
        self.kind = kind

    def allocate(self, store, owner: str) -> str:
        t = store.table(SCOPE, self.kind)
        cursor = (t.get("_cursor") or {}).get("next", 2)
        size = self.network.num_addresses - 2
        for step in range(size):
            offset = 2 + (cursor - 2 + step) % size
            ip = str(self.network.network_address + offset)
            if ip.endswith(".0") or ip.endswith(".255") or ip in t:
                continue
            t.put(ip, {"owner": owner})
            t.put("_cursor", {"next": offset + 1})
            return ip
        raise AwsError("InsufficientCapacity", f"kumo has no loopback addresses left in {self.network}.")

    def release(self, store, ip: str | None) -> None:
        if ip:
            store.table(SCOPE, self.kind).delete(ip)

    def offset(self, ip: str) -> int:
        return int(ipaddress.ip_address(ip)) - int(self.network.network_address)


def network(base: int, index: int) -> str:
    """The /16 number ``index`` of a kumo server whose loopback base is ``base``."""
    return f"127.{base + index}.0.0/16"
