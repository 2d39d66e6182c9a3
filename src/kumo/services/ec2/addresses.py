"""Where instances live on this machine's loopback network.

Every network interface gets, besides its private address from the subnet,
an address of its own in 127.<base>.0.0/16 (kumo-wide, because the private
ranges of different VPCs and accounts overlap).  That address is what the
host reaches: it is reported as the interface's public IPv4 address when the
subnet maps public IPs, and the instance's processes bind it
(docs/compute.md).  The instance's metadata service listens at the twin
address in 127.<base+1>.0.0/16.  ``--loopback-base`` moves the ranges, so
several kumo servers can share a machine.
"""

from __future__ import annotations

import ipaddress

from ...aws.errors import AwsError

SCOPE, KIND, CURSOR = "", "ec2.loopback", "_cursor"


class LoopbackPlan:
    def __init__(self, base: int):
        self.pool = ipaddress.ip_network(f"127.{base}.0.0/16")
        self.imds_pool = ipaddress.ip_network(f"127.{base + 1}.0.0/16")

    def allocate(self, store, owner: str) -> str:
        t = store.table(SCOPE, KIND)
        cursor = (t.get(CURSOR) or {}).get("next", 2)
        size = self.pool.num_addresses - 2
        for step in range(size):
            offset = 2 + (cursor - 2 + step) % size
            ip = str(self.pool.network_address + offset)
            if ip.endswith(".0") or ip.endswith(".255") or ip in t:
                continue
            t.put(ip, {"owner": owner})
            t.put(CURSOR, {"next": offset + 1})
            return ip
        raise AwsError("InsufficientInstanceCapacity", "kumo has no loopback addresses left for new interfaces.")

    @staticmethod
    def release(store, ip: str | None) -> None:
        if ip:
            store.table(SCOPE, KIND).delete(ip)

    def imds_address(self, loopback: str) -> str:
        """The metadata service's address for an interface's loopback address (same host part)."""
        offset = int(ipaddress.ip_address(loopback)) - int(self.pool.network_address)
        return str(self.imds_pool.network_address + offset)


def dashed(ip: str) -> str:
    return ip.replace(".", "-")


def private_dns(ip: str, region: str) -> str:
    from .regions import internal_domain

    return f"ip-{dashed(ip)}.{internal_domain(region)}"


def public_dns(ip: str, region: str) -> str:
    from .regions import public_domain

    return f"ec2-{dashed(ip)}.{public_domain(region)}"
