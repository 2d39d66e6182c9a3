"""Errors as AWS returns them.

Service code raises ``AwsError(code, message)`` with the code AWS uses on the
wire.  The serializer of the request's protocol renders it in that service's
error shape.  When the service model declares an error shape for the code, its
HTTP status and sender/receiver fault are taken from there, so handlers rarely
need to name a status.
"""

from __future__ import annotations

from typing import Any


class AwsError(Exception):
    def __init__(
        self,
        code: str,
        message: str = "",
        status: int | None = None,
        sender_fault: bool | None = None,
        fields: dict[str, Any] | None = None,
        **more_fields: Any,
    ):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        # Members of the modeled error shape beyond Code and Message.
        self.fields = {**(fields or {}), **more_fields}
        # Extra HTTP headers (e.g. Retry-After), set by whoever raises.
        self.headers: dict[str, str] = {}
        # Close the connection after answering (its framing can no longer be trusted, or it stalled).
        self.close = False

    def resolve(self, service_model) -> tuple[int, bool, Any]:
        """(status, sender_fault, error shape or None) for this error in ``service_model``."""
        shape = None
        if service_model is not None:
            try:
                shape = service_model.shape_for_error_code(self.code)
            except Exception:
                shape = None
        status, sender = self.status, self.sender_fault
        if shape is not None:
            meta = shape.metadata.get("error", {})
            if status is None:
                status = meta.get("httpStatusCode")
            if sender is None:
                if "senderFault" in meta:
                    sender = bool(meta["senderFault"])
                elif shape.metadata.get("fault") or getattr(shape, "_shape_model", {}).get("fault"):
                    # botocore keeps a shape's "fault": true out of ``metadata`` (its allow-list): read the model.
                    sender = False
        if status is None:
            status = 400 if sender in (None, True) else 500
        if sender is None:
            sender = status < 500
        return status, sender, shape


# Errors the edge itself raises; every service answers these the same way.


def not_implemented(service: str, operation: str) -> AwsError:
    return AwsError(
        "NotImplemented",
        f"The operation {operation} of service {service} is not implemented by kumo yet.",
        status=501,
        sender_fault=False,
    )


def internal_failure() -> AwsError:
    return AwsError(
        "InternalFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
        status=500,
        sender_fault=False,
    )


def too_large(limit: int) -> AwsError:
    return AwsError(
        "RequestEntityTooLarge",
        f"Request body exceeds the maximum size of {limit} bytes.",
        status=413,
    )


def request_timeout(seconds: float) -> AwsError:
    # S3's words for a body that stops arriving; other services answer the same way at their front door.
    err = AwsError(
        "RequestTimeout",
        f"Your socket connection to the server was not read from or written to within the timeout period "
        f"({seconds:g} s). Idle connections will be closed.",
        status=400,
    )
    err.close = True
    return err


class ProtocolError(Exception):
    """The bytes of a request could not be read as the protocol says (malformed body, bad value)."""

    def __init__(self, message: str, member: str | None = None):
        super().__init__(message)
        self.message = message
        self.member = member
