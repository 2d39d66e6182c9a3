"""The L4 data planes: NLB TCP and TLS listeners, classic TCP/SSL listeners, and NLB UDP.

A TCP connection is passed through to one target for its whole life (with a
PROXY protocol v2 header first when the target group asks for it); TLS
listeners terminate TLS and pass the plaintext on.  UDP datagrams are
forwarded per flow (client address), and replies go back to the client.
With ``preserve_client_ip`` the connection to the target leaves from the
client's own address, which loopback allows.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import TYPE_CHECKING

from . import access_logs, ppv2

if TYPE_CHECKING:  # pragma: no cover
    from .worker import ListenerRuntime, Worker

UDP_IDLE = 120.0  # seconds, NLB's idle timeout for UDP flows
TCP_IDLE_DEFAULT = 350.0  # NLB's TCP idle timeout


class TcpClient(asyncio.Protocol):
    def __init__(self, worker: "Worker", listener: "ListenerRuntime"):
        self.worker = worker
        self.listener = listener
        self.transport = None
        self.upstream: TcpUpstream | None = None
        self.pending: list[bytes] = []
        self.closed = False
        # As on HTTP connections, the worker's sweep reads `seen` and collects `nbytes`.
        self.last_activity = worker.clock.now()  # kumo's clock, as the idle timeout it is judged by
        self.seen = False
        self.nbytes = 0
        self.busy = False
        self.group = None
        self.logging = listener.access_log == "nlb"  # AWS logs TLS connections of an NLB, one line each
        self.rx = self.tx = 0

    def connection_made(self, transport):
        self.transport = transport
        if self.logging:
            self.opened = (self.worker.clock.now(), time.monotonic())  # real-time measurement: connection time
            self.ends = (transport.get_extra_info("peername") or ("-", 0), transport.get_extra_info("sockname")
                         or ("-", 0))
        transport.pause_reading()
        self.worker.connections.add(self)
        self.worker.stats.flow(self.listener.lb, +1)
        asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self):
        lst = self.listener
        peer = self.transport.get_extra_info("peername") or ("127.0.0.1", 0)
        local = self.transport.get_extra_info("sockname") or ("127.0.0.1", 0)
        group = self.worker.groups.get(lst.default_group) if lst.default_group else None
        self.group = group
        target = None
        if group is not None:
            candidates = group.candidates(lst.zone_of(local[0]), lst.cross_zone)
            if (group.stickiness or {}).get("type") == "source_ip":
                target = group.pick_by_source(candidates, peer[0])
            else:
                target = random.choice(candidates) if candidates else None
        if target is None:
            self.transport.close()  # NLB resets connections it cannot route
            return
        loop = asyncio.get_running_loop()
        source = (peer[0], 0) if group.preserve_client_ip and peer[0].startswith("127.") else None
        try:
            _, self.upstream = await loop.create_connection(lambda: TcpUpstream(self), target.host, target.port,
                                                             local_addr=source)
        except OSError:
            try:
                _, self.upstream = await loop.create_connection(lambda: TcpUpstream(self), target.host, target.port)
            except OSError:
                self.transport.close()
                return
        self.target = target
        target.outstanding += 1
        if group.proxy_protocol:
            self.upstream.transport.write(ppv2.header((peer[0], peer[1]), (local[0], local[1])))
        for chunk in self.pending:
            self.upstream.transport.write(chunk)
        self.pending = []
        if not self.closed:
            self.transport.resume_reading()

    def data_received(self, data: bytes):
        self.seen = True
        self.nbytes += len(data)
        if self.logging:
            self.rx += len(data)
        if self.upstream is None:
            self.pending.append(data)
        else:
            self.upstream.transport.write(data)

    def eof_received(self):
        if self.upstream is not None and self.upstream.transport.can_write_eof():
            self.upstream.transport.write_eof()
            return True
        return False

    def connection_lost(self, exc):
        self.closed = True
        self.worker.connections.discard(self)
        self.worker.stats.flow(self.listener.lb, -1)
        self.collect()
        if self.logging:
            self._access_line()
        if self.upstream is not None:
            self.upstream.target_done()
            self.upstream.transport.close()

    def _access_line(self) -> None:
        lst, transport = self.listener, self.transport
        ssl_object = transport.get_extra_info("ssl_object")
        tls = (ssl_object.version() or "", (ssl_object.cipher() or ("",))[0]) if ssl_object is not None else None
        cert = next((c.get("arn") for c in lst.spec.get("certificates") or [] if c.get("default")), None)
        created, started = self.opened
        line = access_logs.nlb_line(
            when=self.worker.clock.now(), lb_arn=lst.lb, listener_arn=lst.id,
            client=self.ends[0][:2], destination=self.ends[1][:2],
            connection_ms=int((time.monotonic() - started) * 1000), handshake_ms=None,  # real-time measurement
            received=self.rx, sent=self.tx, cert_arn=cert, tls=tls,
            domain=getattr(ssl_object, "server_hostname", None) if ssl_object is not None else None, created=created)
        self.worker.access_line(lst.lb, line)

    def collect(self) -> None:
        if self.nbytes:
            self.worker.stats.processed(self.listener.lb, self.nbytes)
            self.nbytes = 0

    def pause_writing(self):
        if self.upstream is not None:
            self.upstream.transport.pause_reading()

    def resume_writing(self):
        if self.upstream is not None:
            self.upstream.transport.resume_reading()


class TcpUpstream(asyncio.Protocol):
    def __init__(self, client: TcpClient):
        self.client = client
        self.transport = None
        self._counted = True

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes):
        client = self.client
        client.seen = True
        client.nbytes += len(data)
        if client.logging:
            client.tx += len(data)
        client.transport.write(data)

    def eof_received(self):
        if self.client.transport.can_write_eof():
            self.client.transport.write_eof()
            return True
        return False

    def connection_lost(self, exc):
        self.target_done()
        if not self.client.closed:
            self.client.transport.close()

    def target_done(self):
        if self._counted:
            self._counted = False
            self.client.target.outstanding -= 1

    def pause_writing(self):
        self.client.transport.pause_reading()

    def resume_writing(self):
        self.client.transport.resume_reading()


class UdpListener(asyncio.DatagramProtocol):
    """One UDP listener address; flows are keyed by client address."""

    def __init__(self, worker: "Worker", listener: "ListenerRuntime"):
        self.worker = worker
        self.listener = listener
        self.transport = None
        self.flows: dict[tuple, UdpFlow] = {}
        self.local = ("", 0)

    def connection_made(self, transport):
        self.transport = transport
        self.local = transport.get_extra_info("sockname")[:2]

    def datagram_received(self, data: bytes, addr):
        lst = self.listener
        self.worker.stats.processed(lst.lb, len(data))
        flow = self.flows.get(addr)
        if flow is None or flow.closed:
            group = self.worker.groups.get(lst.default_group) if lst.default_group else None
            if group is None:
                return
            candidates = group.candidates(lst.zone_of(self.local[0]), lst.cross_zone)
            if not candidates:
                return
            target = group.pick_by_source(candidates, f"{addr[0]}:{addr[1]}")
            flow = UdpFlow(self, addr, group.proxy_protocol)
            self.flows[addr] = flow
            self.worker.stats.flow(lst.lb, +1)
            asyncio.get_running_loop().create_task(flow.open(target.host, target.port))
        flow.send(data)

    def sweep(self) -> None:
        now = self.worker.clock.now()
        for addr, flow in list(self.flows.items()):
            if flow.seen:
                flow.seen = False
                flow.last_activity = now
                continue
            if flow.closed or now - flow.last_activity > UDP_IDLE:
                flow.close()
                self.flows.pop(addr, None)
                self.worker.stats.flow(self.listener.lb, -1)


class UdpFlow(asyncio.DatagramProtocol):
    def __init__(self, listener: UdpListener, client, proxy_protocol: bool):
        self.listener = listener
        self.client = client
        self.proxy_protocol = proxy_protocol
        self.transport = None
        self.pending: list[bytes] = []
        self.closed = False
        self.last_activity = listener.worker.clock.now()  # kumo's clock; datagrams set `seen`, the sweep stamps
        self.seen = False

    async def open(self, host: str, port: int):
        loop = asyncio.get_running_loop()
        try:
            await loop.create_datagram_endpoint(lambda: self, remote_addr=(host, port))
        except OSError:
            self.closed = True
            return
        for data in self.pending:
            self._send(data)
        self.pending = []

    def connection_made(self, transport):
        self.transport = transport

    def send(self, data: bytes):
        self.seen = True
        if self.transport is None:
            self.pending.append(data)
        else:
            self._send(data)

    def _send(self, data: bytes):
        if self.proxy_protocol:
            data = ppv2.header(self.client[:2], self.listener.local, stream=False) + data
        self.transport.sendto(data)

    def datagram_received(self, data: bytes, addr):
        self.seen = True
        self.listener.worker.stats.processed(self.listener.listener.lb, len(data))
        self.listener.transport.sendto(data, self.client)

    def error_received(self, exc):
        pass

    def close(self):
        self.closed = True
        if self.transport is not None:
            self.transport.close()
