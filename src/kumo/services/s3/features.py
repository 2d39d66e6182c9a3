"""S3's bucket features beyond the core: their handlers (imported into api.py) and their setup.

bucket_config.py (policy, encryption, ownership, public access block, ACLs, object lock), lifecycle.py,
cors_http.py, website.py and notifications.py each keep one configuration per bucket in a kind of their own.
"""

from __future__ import annotations

from . import bucket_config, buckets, cors_http, lifecycle, notifications, website
from .bucket_config import *  # noqa: F401,F403  (handlers)
from .cors_http import *  # noqa: F401,F403
from .lifecycle import *  # noqa: F401,F403
from .notifications import *  # noqa: F401,F403
from .website import *  # noqa: F401,F403

__all__ = (bucket_config.__all__ + cors_http.__all__ + lifecycle.__all__ + notifications.__all__
           + website.__all__)

KINDS = bucket_config.KINDS + [lifecycle.KIND, cors_http.KIND, website.KIND, notifications.KIND]


def setup(kumo, s3) -> None:
    from . import internal

    for kind in KINDS:
        if kind not in buckets.SUBRESOURCE_KINDS:
            buckets.SUBRESOURCE_KINDS.append(kind)
    s3.hooks.append(notifications.deliver)  # internal.on_event, before kumo.services holds S3
    kumo.controllers.register(lifecycle.LifecycleController(kumo))
    gateway, guard = kumo.gateway, kumo.guard
    gateway.intercepts += [website.intercept(kumo), cors_http.preflight(kumo)]
    gateway.finishers.append(cors_http.finisher(kumo))
    guard.browser_allowed += [website.browser_allowed, cors_http.browser_allowed(kumo)]
    kumo.objects.register(lambda bucket: internal.bucket_region(kumo, bucket), lambda bucket, key, data, ctype:
                          _put(kumo, bucket, key, data, ctype))


def _put(kumo, bucket: str, key: str, data: bytes, content_type: str | None) -> None:
    from . import internal

    if buckets.get(kumo.store, bucket) is None:
        raise LookupError(f"no bucket {bucket}")
    internal.put_object(kumo, bucket, key, data, content_type=content_type)
