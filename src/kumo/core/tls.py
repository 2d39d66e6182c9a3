"""aiohttp without the TLS set-up its client does at import, which kumo's server never uses.

``import aiohttp`` (and so ``aiohttp.web``) imports aiohttp's client, whose connector builds two client TLS
contexts at import, each reading the system's CA bundle: ~60 ms of kumo's ~0.4 s start, measured with
cProfile (``set_default_verify_paths``), for contexts only an outbound HTTPS call uses.
``import_aiohttp`` imports aiohttp with that reading put off, and ``client_ready()`` does it, once, before
kumo's first outbound call (SNS's HTTP/S deliveries; the ALB's Lambda calls).  A caller that skipped it would
fail to verify a certificate, never skip verification.
"""

from __future__ import annotations

import ssl
import sys
import threading

_deferred: list[ssl.SSLContext] = []
_lock = threading.Lock()


def import_aiohttp() -> None:
    if "aiohttp" in sys.modules or "set_default_verify_paths" in ssl.SSLContext.__dict__:
        return
    importer = threading.get_ident()
    inherited = ssl.SSLContext.set_default_verify_paths

    def deferred(self) -> None:
        if threading.get_ident() != importer:  # another thread's context, made meanwhile: as usual
            return inherited(self)
        with _lock:
            _deferred.append(self)

    ssl.SSLContext.set_default_verify_paths = deferred
    try:
        import aiohttp  # noqa: F401
    finally:
        del ssl.SSLContext.set_default_verify_paths  # back to the inherited method


def client_ready() -> None:
    """Give aiohttp's client contexts their CA certificates (before the first outbound request)."""
    while _deferred:
        with _lock:
            if not _deferred:
                return
            context = _deferred.pop()
        context.set_default_verify_paths()
