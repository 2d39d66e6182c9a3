"""PROXY protocol version 2 headers, as NLB sends them to targets that ask for them."""

from __future__ import annotations

import ipaddress
import struct

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def header(source: tuple[str, int], dest: tuple[str, int], stream: bool = True) -> bytes:
    """A PROXY (command 0x21) header for a TCP (stream) or UDP connection."""
    src, dst = ipaddress.ip_address(source[0]), ipaddress.ip_address(dest[0])
    if src.version != dst.version:
        src = ipaddress.ip_address(f"::ffff:{src}") if src.version == 4 else src
        dst = ipaddress.ip_address(f"::ffff:{dst}") if dst.version == 4 else dst
    if src.version == 4:
        family = 0x11 if stream else 0x12
        body = src.packed + dst.packed + struct.pack("!HH", source[1], dest[1])
    else:
        family = 0x21 if stream else 0x22
        body = src.packed + dst.packed + struct.pack("!HH", source[1], dest[1])
    return SIGNATURE + bytes([0x21, family]) + struct.pack("!H", len(body)) + body


def parse(data: bytes) -> tuple[tuple[str, int], tuple[str, int], int] | None:
    """(source, destination, header length) from the start of ``data``; None if it holds no header."""
    if len(data) < 16 or not data.startswith(SIGNATURE):
        return None
    family = data[13]
    length = struct.unpack("!H", data[14:16])[0]
    body = data[16:16 + length]
    if family in (0x11, 0x12) and len(body) >= 12:
        src = str(ipaddress.IPv4Address(body[0:4]))
        dst = str(ipaddress.IPv4Address(body[4:8]))
        sport, dport = struct.unpack("!HH", body[8:12])
    elif family in (0x21, 0x22) and len(body) >= 36:
        src = str(ipaddress.IPv6Address(body[0:16]))
        dst = str(ipaddress.IPv6Address(body[16:32]))
        sport, dport = struct.unpack("!HH", body[32:36])
    else:
        return None
    return (src, sport), (dst, dport), 16 + length
