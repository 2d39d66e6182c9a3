"""KMS: symmetric (AES-256-GCM) and asymmetric (RSA, ECC) keys whose material lives in kumo's store (docs/kms.md)."""

from .lifecycle import KeyTimers


def setup(kumo):
    kumo.controllers.register(KeyTimers(kumo))
    return None
