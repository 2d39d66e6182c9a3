"""ACM: imported and kumo-issued (self-signed) certificates, and their material for kumo's TLS listeners;
approaching-expiration events on kumo's clock."""

from __future__ import annotations


def setup(kumo):
    from .expiry import ExpiryEvents

    kumo.controllers.register(ExpiryEvents(kumo))
    return None
