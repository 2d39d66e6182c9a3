"""Who may reach kumo's port: the user and their tools, never a web page they happen to visit.

A page on any site can make the user's browser send requests to
``http://127.0.0.1:4566``: a form post or an image is sent without asking
(CSRF), and a name the attacker controls can be re-pointed at 127.0.0.1 so
the page's own scripts talk to kumo as if it were their site (DNS
rebinding).  kumo takes unsigned requests and does not verify signatures by
default, so either could reset the cloud or terminate instances.

``/_kumo/*`` (reset, clock, faults, and the services' own routes) answers only when

* the ``Host`` header names kumo itself: ``localhost`` or ``*.localhost``, a
  loopback address, the ``--host`` address (any address when that is a
  wildcard), or a name listed in ``--admin-hosts``; DNS rebinding always
  sends the attacker's own name;
* an ``Origin`` header, when present, is the origin the request was sent to
  (``http://<that host>``), and ``Sec-Fetch-Site``, when present, is
  ``same-origin`` or ``none``: a cross-site request carries the page's;
* a call that changes something is a ``POST`` with ``Content-Type:
  application/json``, which no HTML form and no cross-site ``fetch`` can send
  without a CORS preflight, and kumo grants none.

The AWS API answers every SDK, CLI and container as before (they send no
``Origin``); a request that a browser marks as coming from another site, or
that a browser sends under a host name that is not kumo's, is refused the
same way.  All refusals are ``403`` with a JSON body naming the reason.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Callable

from aiohttp import web

from ..core.ids import request_id as new_request_id
from . import routing
from .errors import AwsError
from .protocols import serialize_error

if TYPE_CHECKING:  # pragma: no cover
    from ..config import Settings

ADMIN_PREFIX = "/_kumo"
READ_METHODS = ("GET", "HEAD")
_WILDCARDS = ("0.0.0.0", "::", "")


def split_host(value: str) -> str:
    """The host name of a Host header value or of an origin's authority, lower-case, without port or brackets."""
    host = value.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def _ip(host: str):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


class Guard:
    def __init__(self, settings: "Settings"):
        bound = split_host(settings.host or "")
        self.any_address = bound in _WILDCARDS
        self.names = {"localhost", bound} | {split_host(h) for h in settings.admin_hosts.split(",") if h.strip()}
        self.names.discard("")
        # Browser requests a service takes on its own terms: ``fn(request) -> bool`` (S3 answers preflights and
        # requests its buckets' CORS rules allow, and serves website endpoints, as AWS does for any page).
        self.browser_allowed: list = []

    def own_host(self, value: str) -> bool:
        host = split_host(value)
        if not host:
            return False
        if host in self.names or host.endswith(".localhost"):
            return True
        ip = _ip(host)
        if ip is None:
            return False
        if getattr(ip, "ipv4_mapped", None):
            ip = ip.ipv4_mapped
        # An address, unlike a name, cannot be re-pointed by DNS; any of this machine's is kumo's when it
        # listens on all of them.
        return ip.is_loopback or self.any_address

    def refusal(self, request: web.Request) -> str | None:
        """Why the request is refused, or None."""
        headers = request.headers
        admin = is_admin(request.path)
        origin = headers.get("Origin")
        site = headers.get("Sec-Fetch-Site")
        browser = origin is not None or site is not None
        if not (admin or browser):
            return None  # an SDK, the CLI or a container calling the AWS API: nothing to check
        if browser and not admin and any(allowed(request) for allowed in self.browser_allowed):
            return None
        host = headers.get("Host", "")
        if not self.own_host(host):
            return f"kumo does not answer this for the host {host!r} (allowed: localhost, loopback, --admin-hosts)"
        if origin is not None and origin.strip().lower() != f"{request.scheme}://{host.strip().lower()}":
            return f"requests from the origin {origin!r} are not allowed"
        if site is not None and site.lower() not in ("same-origin", "none"):
            return "requests from another site are not allowed"
        if admin and request.method not in READ_METHODS:
            if request.method != "POST":
                return f"kumo's endpoints take GET or POST, not {request.method}"
            if request.content_type != "application/json":
                return "kumo's endpoints that change something take a JSON body (Content-Type: application/json)"
        return None

    def screen(self, request: web.Request) -> web.Response | None:
        """The refusal to send instead of serving the request, or None."""
        reason = self.refusal(request)
        if reason is None:
            return None
        if is_admin(request.path):
            return web.json_response({"error": reason}, status=403)
        # The AWS API refuses in the shape of the protocol the request speaks.
        rid = new_request_id()
        error = AwsError("AccessDenied", f"Refused: {reason}.", status=403)
        protocol = "query" if "Action=" in request.query_string else routing.guess_protocol(request.headers,
                                                                                              request.path)
        answer = serialize_error(protocol, None, error, rid)
        answer.headers.setdefault("x-amzn-RequestId", rid)
        return web.Response(status=answer.status, headers=answer.headers, body=answer.body)

    def wrap(self, handler: Callable) -> Callable:
        """``handler`` (a /_kumo route) behind the guard.

        Routes are wrapped one by one and the AWS edge screens its own requests (``Gateway.handle``), rather
        than an aiohttp middleware screening everything: a middleware costs every AWS call its machinery,
        and the AWS path needs only a header test for the browser's marks.
        """

        async def guarded(request: web.Request):
            refused = self.screen(request)
            return refused if refused is not None else await handler(request)

        return guarded


def is_admin(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")
