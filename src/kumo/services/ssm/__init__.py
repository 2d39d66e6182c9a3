"""SSM Parameter Store: versioned, labelled parameters (SecureString through KMS), policies on kumo's clock,
and AWS's public parameters naming kumo's own images (docs/ssm.md)."""

from __future__ import annotations


def setup(kumo):
    from .images import ImageCheck
    from .policies import PolicyController

    kumo.controllers.register(PolicyController(kumo))
    kumo.controllers.register(ImageCheck(kumo))
    return None
