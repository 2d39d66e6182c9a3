"""Everything a handler knows about the request it serves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.arns import arn as make_arn

if TYPE_CHECKING:  # pragma: no cover
    from ..server import Kumo
    from .specs import ServiceSpec


@dataclass
class Identity:
    """The principal behind the request's access key."""

    account: str
    arn: str
    user_id: str
    access_key: str | None = None
    expiration: float | None = None  # temporary credentials only

    @classmethod
    def root(cls, account: str, access_key: str | None = None) -> "Identity":
        return cls(account, f"arn:aws:iam::{account}:root", account, access_key)


@dataclass
class RequestContext:
    kumo: "Kumo"
    spec: "ServiceSpec"
    operation: str
    protocol: str
    request_id: str
    region: str
    identity: Identity
    host: str = "localhost:4566"
    scheme: str = "http"
    headers: Any = None
    path: str = "/"  # raw request path (old SQS SDKs post to the queue URL's path)
    extra: dict = field(default_factory=dict)

    @property
    def account(self) -> str:
        return self.identity.account

    @property
    def service(self) -> str:
        return self.spec.name

    @property
    def clock(self):
        return self.kumo.clock

    @property
    def store(self):
        return self.kumo.store

    @property
    def controllers(self):
        return self.kumo.controllers

    def now(self) -> float:
        return self.kumo.clock.now()

    @property
    def scope(self) -> str:
        """The store scope of this service for this caller: per account, and per region unless global."""
        if self.spec.global_service:
            return self.account
        return f"{self.account}/{self.region}"

    def table(self, kind: str, service: str | None = None):
        return self.kumo.store.table(self.scope, f"{service or self.spec.name}.{kind}")

    def arn(self, resource: str, service: str | None = None, region: str | None = None) -> str:
        svc = service or self.spec.signing_name
        reg = "" if self.spec.global_service and region is None else (region if region is not None else self.region)
        return make_arn(svc, reg, self.account, resource)

    def after(self, settle) -> None:
        """Answer only once ``await settle()`` returns, after the transaction committed."""
        self.extra.setdefault("after", []).append(settle)

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://{self.host}"


# The principal kumo's own services act as when one service calls another (Auto Scaling launching
# instances, say): AWS uses the caller service's service-linked role.
SERVICE_ROLES = {
    "autoscaling": ("autoscaling.amazonaws.com", "AWSServiceRoleForAutoScaling"),
}


def internal_context(kumo: "Kumo", service: str, account: str, region: str, caller: str = "autoscaling",
                     operation: str = "") -> RequestContext:
    """A context for calling ``service``'s handlers from inside kumo, on behalf of ``caller``."""
    import uuid

    from . import specs

    principal, role = SERVICE_ROLES.get(caller, (f"{caller}.amazonaws.com", f"AWSServiceRoleFor{caller.title()}"))
    identity = Identity(account, f"arn:aws:iam::{account}:role/aws-service-role/{principal}/{role}",
                        f"AROA{account}:{caller}")
    return RequestContext(kumo=kumo, spec=specs.SERVICES[service], operation=operation, protocol="internal",
                          request_id=str(uuid.uuid4()), region=region, identity=identity,
                          host=kumo.endpoint.split("://", 1)[1])
