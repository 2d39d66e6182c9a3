"""Symmetric ciphertext blobs: AES-256-GCM under one version of a key's material.

A blob is ``header | nonce(12) | ciphertext | tag(16)``, the header being
``b"\\x01KUMO" | len(arn) (1 byte) | key ARN | material version (2 bytes, big-endian)``.
The blob names its key, so Decrypt needs no KeyId, and a key's older material versions stay
available after rotation.  The header and the canonical encryption context are the GCM additional
data: a changed header, context or byte anywhere fails authentication.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_MAGIC = b"\x01KUMO"
_NONCE = 12
_TAG = 16


class BadBlob(ValueError):
    """Not a ciphertext kumo made, or one changed since."""


@dataclass(frozen=True)
class Header:
    key_arn: str
    version: int
    raw: bytes


def context_bytes(context: dict | None) -> bytes:
    if not context:
        return b""
    return json.dumps(context, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _header(key_arn: str, version: int) -> bytes:
    arn = key_arn.encode("ascii")
    return _MAGIC + bytes([len(arn)]) + arn + version.to_bytes(2, "big")


def seal(material: bytes, key_arn: str, version: int, plaintext: bytes, context: dict | None) -> bytes:
    header = _header(key_arn, version)
    nonce = os.urandom(_NONCE)
    return header + nonce + AESGCM(material).encrypt(nonce, plaintext, header + context_bytes(context))


def header(blob: bytes) -> Header:
    """Which key and material version a blob claims, without authenticating it."""
    if not isinstance(blob, (bytes, bytearray)) or not blob.startswith(_MAGIC) or len(blob) < len(_MAGIC) + 1:
        raise BadBlob("not a kumo ciphertext")
    n = blob[len(_MAGIC)]
    end = len(_MAGIC) + 1 + n + 2
    if len(blob) < end + _NONCE + _TAG:
        raise BadBlob("truncated")
    try:
        arn = bytes(blob[len(_MAGIC) + 1:end - 2]).decode("ascii")
    except UnicodeDecodeError:
        raise BadBlob("bad key name") from None
    return Header(arn, int.from_bytes(blob[end - 2:end], "big"), bytes(blob[:end]))


def open_(material: bytes, blob: bytes, context: dict | None) -> bytes:
    head = header(blob)
    rest = bytes(blob[len(head.raw):])
    try:
        return AESGCM(material).decrypt(rest[:_NONCE], rest[_NONCE:], head.raw + context_bytes(context))
    except InvalidTag:
        raise BadBlob("authentication failed") from None
