"""kumo's compute layer: the only place that starts, watches and stops workloads (EC2 instances, Lambda
environments).  A service describes a workload as a ``Spec`` and drives it through a backend's ``Handle``;
``spec.py`` shows how.  ``backend(settings)`` is the one backend of a kumo, shared by its services.
"""

from __future__ import annotations

from .spec import Handle, Limits, Mount, Spec, Usage

__all__ = ["Handle", "Limits", "Mount", "Spec", "Usage", "backend", "forget"]

_backends: dict = {}


def backend(settings, hidden=()):
    """The process backend of the kumo with these settings (one per kumo, made on first use).

    ``hidden``: more paths no workload may reach, besides the data directory (an ephemeral kumo's work dir).
    """
    from .process import ProcessBackend

    held = _backends.get(id(settings))
    if held is None or held[0] is not settings:
        held = _backends[id(settings)] = (settings, ProcessBackend(settings.data_dir, hidden=[settings.work_dir]))
    be = held[1]
    for path in hidden:
        be.hide(path)
    return be


def forget(settings) -> None:
    """Drop the backend of a kumo that stopped (a new kumo in this process probes afresh)."""
    held = _backends.pop(id(settings), None)
    if held is not None:
        held[1].close()
