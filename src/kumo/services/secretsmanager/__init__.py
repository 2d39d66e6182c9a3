"""Secrets Manager: secrets sealed with KMS, versions and staging labels, deletion with a recovery window and
rotation by a real Lambda function, both on kumo's clock (docs/secretsmanager.md)."""

from __future__ import annotations

from .lifecycle import Deletion
from .rotator import Rotator


def setup(kumo):
    kumo.controllers.register(Deletion(kumo))
    kumo.controllers.register(Rotator(kumo))
    return None
