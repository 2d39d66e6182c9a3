"""compute/peers.py: finding the process at the other end of a loopback connection.

The wire formats (netlink requests and replies, /proc/net/tcp lines) are pure; the lookups are checked
against sockets this test opens itself, whose inodes the kernel tells us directly.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import time

import pytest

from kumo.dataplane.compute import peers

PEER, LOCAL = ("127.9.0.4", 40000), ("127.0.0.1", 8080)


def _reply(family: int, src: bytes, sport: int, dst: bytes, dport: int, inode: int) -> bytes:
    sockid = struct.pack("!HH", sport, dport) + src.ljust(16, b"\0") + dst.ljust(16, b"\0") + b"\0" * 12
    msg = struct.pack("=BBBB", family, 1, 0, 0) + sockid + struct.pack("=IIIII", 0, 0, 0, 0, inode)
    return struct.pack("=IHHII", 16 + len(msg), peers.SOCK_DIAG_BY_FAMILY, 0, 1, 0) + msg


def test_the_netlink_request_names_the_peer_socket_by_its_four_addresses():
    req = peers.diag_request(PEER, LOCAL)
    length, kind, flags, _, _ = struct.unpack_from("=IHHII", req)
    assert (length, kind, flags) == (len(req), peers.SOCK_DIAG_BY_FAMILY, 1)  # a lookup, not a dump
    family, proto = req[16], req[17]
    assert (family, proto) == (socket.AF_INET, socket.IPPROTO_TCP)
    sport, dport = struct.unpack_from("!HH", req, 24)
    assert (sport, dport) == (40000, 8080)  # the peer's socket: its local end is the peer
    assert req[28:32] == socket.inet_aton("127.9.0.4") and req[44:48] == socket.inet_aton("127.0.0.1")
    # A v4-mapped peer (a dual-stack listener's view) is looked up as the IPv4 connection it is.
    assert peers.diag_request(("::ffff:127.9.0.4", 40000, 0, 0), ("::ffff:127.0.0.1", 8080, 0, 0)) == req
    assert peers.diag_request(("::1", 40000, 0, 0), ("::1", 8080, 0, 0))[16] == socket.AF_INET6


def test_a_reply_counts_only_for_exactly_the_socket_asked_for():
    v4 = socket.inet_aton
    assert peers.diag_inode(_reply(socket.AF_INET, v4("127.9.0.4"), 40000, v4("127.0.0.1"), 8080, 77), PEER,
                            LOCAL) == 77
    # An IPv6 socket connected to a v4-mapped address answers an IPv4 lookup in IPv6 form.
    mapped = b"\0" * 10 + b"\xff\xff"
    assert peers.diag_inode(_reply(socket.AF_INET6, mapped + v4("127.9.0.4"), 40000, mapped + v4("127.0.0.1"),
                                   8080, 78), PEER, LOCAL) == 78
    # The kernel falls back to a listener when no connection matches: that is not the caller.
    assert peers.diag_inode(_reply(socket.AF_INET, v4("127.9.0.4"), 40000, b"\0" * 4, 0, 79), PEER, LOCAL) is None
    error = struct.pack("=IHHII", 36, peers.NLMSG_ERROR, 0, 1, 0) + struct.pack("=i", -2) + b"\0" * 16
    assert peers.diag_inode(error, PEER, LOCAL) is None
    assert peers.diag_inode(b"", PEER, LOCAL) is None


def test_proc_net_tcp_lines_are_read_in_host_byte_order():
    head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    word = lambda ip: f"{int.from_bytes(socket.inet_aton(ip), sys.byteorder):08X}"  # noqa: E731
    line = f"   0: {word('127.9.0.4')}:9C40 {word('127.0.0.1')}:1F90 01 00000000:00000000 00:00000000 00000000 0 0 4242"
    assert peers.table_inode(head + line, PEER, LOCAL) == 4242
    assert peers.table_inode(head + line, LOCAL, PEER) is None
    mapped = "0000000000000000FFFF0000"
    line6 = (f"   0: {mapped}{word('127.9.0.4')}:9C40 {mapped}{word('127.0.0.1')}:1F90 01 00000000:00000000 "
             "00:00000000 00000000 0 0 4343")
    assert peers.table_inode(head + line6, PEER, LOCAL, v6=True) == 4343


@pytest.fixture
def listener():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    yield srv
    srv.close()


def test_the_lookups_find_the_socket_and_the_process_holding_it(listener):
    opened = []
    try:
        for family, target in ((socket.AF_INET, listener.getsockname()),
                               (socket.AF_INET6, ("::ffff:127.0.0.1", listener.getsockname()[1]))):
            client = socket.socket(family)
            opened.append(client)
            if family == socket.AF_INET:
                client.bind(("127.9.0.4", 0))  # any loopback source: the address is not the evidence
            client.connect(target)
            accepted, _ = listener.accept()
            opened.append(accepted)
            peer, local = accepted.getpeername(), accepted.getsockname()
            inode = os.fstat(client.fileno()).st_ino
            assert peers.socket_inode(peer, local) == inode
            v6 = family == socket.AF_INET6
            with open(f"/proc/net/{'tcp6' if v6 else 'tcp'}") as fh:
                assert peers.table_inode(fh.read(), peer, local, v6) == inode
            assert peers.holder(inode, [1, os.getpid()]) == os.getpid()
            assert peers.holder(os.fstat(accepted.fileno()).st_ino, [os.getpid()]) == os.getpid()
            assert peers.holder(inode, [1]) is None
        # Gone: nobody holds it, and nothing else answers for it.
        assert peers.socket_inode(("127.9.0.4", 1), listener.getsockname()) is None
    finally:
        for s in opened:
            s.close()


def test_descendants_follow_the_process_tree():
    child = subprocess.Popen(["/bin/sh", "-c", "sleep 30 & wait"])
    try:
        deadline = time.monotonic() + 10
        while not (below := peers.descendants(child.pid)) and time.monotonic() < deadline:
            time.sleep(0.005)  # until the shell has started its child
        assert len(below) == 1 and peers.descendants(below[0]) == []
        assert set(peers.descendants(os.getpid())) >= {child.pid, below[0]}
        assert peers._descendants_by_scan(child.pid) == below
        assert peers.mount_namespace(child.pid) == peers.mount_namespace(os.getpid()) is not None
    finally:
        for pid in peers.descendants(child.pid):
            os.kill(pid, 9)
        child.kill()
        child.wait()
