"""Where instances live on this machine's loopback network.

Every network interface gets, besides its private address from the subnet,
an address of its own in 127.<base>.0.0/16.  That address is what the host
reaches: it is reported as the interface's public IPv4 address when the
subnet maps public IPs, and the instance's processes bind it
(docs/compute.md).  The instance's metadata service listens at the twin
address in 127.<base+1>.0.0/16.  ``--loopback-base`` moves the ranges, so
several kumo servers can share a machine.
"""

from __future__ import annotations

import ipaddress

from ...core.loopback import LoopbackPool, network


class LoopbackPlan(LoopbackPool):
    def __init__(self, base: int):
        super().__init__(network(base, 0), "ec2.loopback")
        self.imds_pool = ipaddress.ip_network(network(base, 1))

    @staticmethod
    def release(store, ip: str | None) -> None:
        LoopbackPool("127.0.0.0/8", "ec2.loopback").release(store, ip)

    def imds_address(self, loopback: str) -> str:
        """The metadata service's address for an interface's loopback address (same host part)."""
        return str(self.imds_pool.network_address + self.offset(loopback))


def dashed(ip: str) -> str:
    return ip.replace(".", "-")


def private_dns(ip: str, region: str) -> str:
    from .regions import internal_domain

    return f"ip-{dashed(ip)}.{internal_domain(region)}"


def public_dns(ip: str, region: str) -> str:
    from .regions import public_domain

    return f"ec2-{dashed(ip)}.{public_domain(region)}"
