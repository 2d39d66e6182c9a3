"""Who is at the other end of a loopback connection: the process that holds the peer's socket.

Every workload shares the machine's loopback network, and any process may bind any 127.x.y.z address,
so a connection's source address proves nothing.  What a caller cannot choose is which process holds
its socket.  The kernel's socket diagnostics (NETLINK_SOCK_DIAG, an exact lookup by the connection's
four addresses and ports, ~30 us) name the peer socket's inode, and ``/proc/<pid>/fd`` shows which
process holds ``socket:[inode]``.  Services that belong to one workload (an instance's metadata
service, a Lambda environment's Runtime API) serve a connection only when a process of that workload
holds the other end (docs/compute.md).  Where the netlink lookup is unavailable, ``/proc/net/tcp{,6}``
(slower: milliseconds, the kernel walks every socket) gives the same answer.

Linux only, as kumo's process backend is.  Anything that cannot be established is refused.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import sys
from typing import Iterable

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLMSG_ERROR = 2
NLM_F_REQUEST = 1
_NLMSGHDR = struct.Struct("=IHHII")
_DIAG_MSG_LEN = 72  # struct inet_diag_msg
_ALL_STATES = 0xFFFFFFFF

Address = tuple  # (host, port[, flowinfo, scope_id]) as sockets report it


def _packed(host: str) -> bytes:
    ip = ipaddress.ip_address(host.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack socket's IPv4 peer is an IPv4 connection to the kernel
    return ip.packed


def _sockid(src: Address, dst: Address) -> tuple[int, bytes]:
    """(family, struct inet_diag_sockid) of the socket whose local end is ``src`` and remote end ``dst``."""
    a, b = _packed(src[0]), _packed(dst[0])
    if len(a) != len(b):
        raise ValueError("mixed address families")
    family = socket.AF_INET if len(a) == 4 else socket.AF_INET6
    sockid = (struct.pack("!HH", src[1], dst[1]) + a.ljust(16, b"\0") + b.ljust(16, b"\0")
              + struct.pack("=III", 0, 0xFFFFFFFF, 0xFFFFFFFF))  # any interface, no cookie
    return family, sockid


def diag_request(peer: Address, local: Address, seq: int = 1) -> bytes:
    """A SOCK_DIAG_BY_FAMILY exact lookup of the peer's socket (its local end is ``peer``, its remote ``local``)."""
    family, sockid = _sockid(peer, local)
    body = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, _ALL_STATES) + sockid
    return _NLMSGHDR.pack(_NLMSGHDR.size + len(body), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, seq, 0) + body


def diag_inode(reply: bytes, peer: Address, local: Address) -> int | None:
    """The inode in a lookup's reply, if it names exactly the socket asked for (0: a socket no process holds)."""
    if len(reply) < _NLMSGHDR.size:
        return None
    length, kind, _, _, _ = _NLMSGHDR.unpack_from(reply)
    if kind != SOCK_DIAG_BY_FAMILY or length < _NLMSGHDR.size + _DIAG_MSG_LEN or len(reply) < length:
        return None  # NLMSG_ERROR: no such socket (or no diagnostics for this family)
    msg = reply[_NLMSGHDR.size:length]
    family = msg[0]
    sport, dport = struct.unpack_from("!HH", msg, 4)
    src, dst = msg[8:24], msg[24:40]
    if family == socket.AF_INET:
        src, dst = src[:4], dst[:4]
    # The lookup falls back to listeners when no connection matches: only the exact four-tuple counts.
    if (_unmapped(src), sport, _unmapped(dst), dport) != (_packed(peer[0]), peer[1], _packed(local[0]), local[1]):
        return None
    return struct.unpack_from("=I", msg, 68)[0]


def _unmapped(packed: bytes) -> bytes:
    return packed[12:] if len(packed) == 16 and packed[:12] == b"\0" * 10 + b"\xff\xff" else packed


def _proc_hex(host: str, port: int, v6: bool) -> str:
    """An address as /proc/net/tcp{,6} prints it: 32-bit words in host byte order, then the port."""
    packed = _packed(host)
    if v6 and len(packed) == 4:
        packed = b"\0" * 10 + b"\xff\xff" + packed
    words = [packed[i:i + 4] for i in range(0, len(packed), 4)]
    return "".join(f"{int.from_bytes(w, sys.byteorder):08X}" for w in words) + f":{port:04X}"


def table_inode(text: str, peer: Address, local: Address, v6: bool = False) -> int | None:
    """The peer socket's inode in the text of /proc/net/tcp (or, with ``v6``, tcp6), or None."""
    want_local, want_remote = _proc_hex(peer[0], peer[1], v6), _proc_hex(local[0], local[1], v6)
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) > 9 and fields[1] == want_local and fields[2] == want_remote:
            return int(fields[9])
    return None


def socket_inode(peer: Address, local: Address) -> int | None:
    """The inode of the socket at the other end of a connection this process accepted (peer -> local)."""
    try:
        _sockid(peer, local)
    except ValueError:
        return None
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as nl:
            nl.settimeout(1.0)
            nl.send(diag_request(peer, local))
            return diag_inode(nl.recv(8192), peer, local)
    except (OSError, AttributeError):  # no netlink (or no AF_NETLINK in this Python): read the tables
        pass
    # An IPv4 peer may hold an IPv6 socket connected to a v4-mapped address: tcp6 lists that one.
    tables = (("tcp", False), ("tcp6", True)) if len(_packed(peer[0])) == 4 else (("tcp6", True),)
    for name, v6 in tables:
        try:
            with open(f"/proc/net/{name}") as fh:
                found = table_inode(fh.read(), peer, local, v6)
        except OSError:
            continue
        if found is not None:
            return found
    return None


def holds(pid: int, inode: int) -> bool:
    """Whether process ``pid`` has socket ``inode`` among its open files."""
    target = f"socket:[{inode}]"
    base = f"/proc/{pid}/fd"
    try:
        names = os.listdir(base)
    except OSError:
        return False
    for name in names:
        try:
            if os.readlink(f"{base}/{name}") == target:
                return True
        except OSError:
            continue
    return False


def holder(inode: int | None, pids: Iterable[int]) -> int | None:
    """The first of ``pids`` that holds socket ``inode`` (``pids`` is read lazily: cheap candidates first)."""
    if not inode:
        return None
    for pid in pids:
        if holds(pid, inode):
            return pid
    return None


def mount_namespace(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` in the process tree (daemons that moved to init's care are no longer below)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{parent}/task/{tid}/children") as fh:
                    kids = [int(k) for k in fh.read().split()]
            except FileNotFoundError:  # a kernel without CONFIG_PROC_CHILDREN: the whole table, once
                return _descendants_by_scan(pid)
            except (OSError, ValueError):
                continue
            out.extend(kids)
            todo.extend(kids)
    return out


def _descendants_by_scan(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        out.extend(kids)
        todo.extend(kids)
    return out


def tagged(name: str) -> dict[str, list[int]]:
    """Every process carrying the environment variable ``name``, by its value: value -> pids.

    kumo tags what it starts (``KUMO_WORKLOAD`` on a workload's processes, ``KUMO_LB_WORKER`` on load
    balancer workers), so it finds them again by reading ``/proc`` alone: daemons that left their tree, and
    what an earlier kumo left running."""
    key = name.encode() + b"="
    found: dict[str, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as fh:
                data = b"\0" + fh.read()
        except OSError:
            continue
        start = data.find(b"\0" + key)
        if start < 0:
            continue
        start += len(key) + 1
        end = data.find(b"\0", start)
        found.setdefault(data[start:end if end >= 0 else None].decode(errors="replace"), []).append(int(entry.name))
    return found
