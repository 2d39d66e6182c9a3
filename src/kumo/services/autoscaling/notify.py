"""Where Auto Scaling tells the world: SQS and SNS targets (hooks, notification configurations)."""

from __future__ import annotations

import json
import logging

log = logging.getLogger("kumo.autoscaling")


def iso(epoch: float) -> str:
    """AWS's timestamps in Auto Scaling messages and causes: second precision, Z."""
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(epoch: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def target_kind(arn: str) -> str | None:
    if arn.startswith("arn:aws:sqs:"):
        return "sqs"
    if arn.startswith("arn:aws:sns:"):
        return "sns"
    return None


def exists(kumo, arn: str) -> bool:
    kind = target_kind(arn)
    if kind == "sqs":
        from ..sqs import internal as sqs

        return sqs.exists(kumo, arn)
    if kind == "sns":
        from ..sns import internal as sns

        return sns.exists(kumo, arn)
    return False


def send(kumo, arn: str, message: dict, subject: str | None = None) -> bool:
    """Deliver ``message`` (as JSON) to a queue or topic; False (logged) when it cannot be delivered."""
    body = json.dumps(message, separators=(",", ":"))
    try:
        kind = target_kind(arn)
        if kind == "sqs":
            from ..sqs import internal as sqs

            sqs.send(kumo, arn, body)
        elif kind == "sns":
            from ..sns import internal as sns

            sns.publish(kumo, arn, body, subject=subject)
        else:
            return False
        return True
    except Exception:
        log.exception("Auto Scaling could not notify %s", arn)
        return False
