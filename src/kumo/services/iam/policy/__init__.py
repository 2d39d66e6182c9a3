"""IAM's policy language and AWS's evaluation logic, as pure functions (no store, no I/O).

``document`` parses, ``matching`` and ``conditions`` match a statement's elements against a
request, ``evaluate`` combines identity, resource, boundary and session policies into
allowed / explicitDeny / implicitDeny.  The gateway (kumo.aws.authorize) and the policy
simulator (kumo.services.iam.simulate) both call ``evaluate``.
"""

from .context import Context  # noqa: F401
from .document import MalformedPolicy, Policy, Statement, parse  # noqa: F401
from .evaluate import (  # noqa: F401
    ALLOWED, BOUNDARY, EXPLICIT_DENY, IDENTITY, IMPLICIT_DENY, RESOURCE, SESSION, Caller, PolicySet, Request, Result,
    evaluate,
)
