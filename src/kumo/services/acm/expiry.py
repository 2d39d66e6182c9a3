"""ACM's approaching-expiration events, on kumo's clock.

From ExpiryEvents.DaysBeforeExpiry days (the account configuration, 45 by default) before a certificate's
NotAfter, ACM sends an ``ACM Certificate Approaching Expiration`` event (source ``aws.acm``) to the
account's default bus once a day until it expires.  The ``acm-expiry`` controller looks at each account
and region with certificates once a simulated day and remembers, per certificate, the day it last told.
"""

from __future__ import annotations

from ...core.controllers import Controller
from .manage import DEFAULT_DAYS
from .model import CERTIFICATE

DAY = 86400.0
ACCOUNT = "acm.account"


class ExpiryEvents(Controller):
    name = "acm-expiry"
    resync_interval = DAY

    def __init__(self, kumo):
        self.kumo = kumo

    def keys(self):
        return sorted({scope for scope, _, _ in self.kumo.store.all(CERTIFICATE)})

    async def reconcile(self, scope):
        store, now = self.kumo.store, self.kumo.clock.now()
        account, region = scope.split("/")
        config = store.table(scope, ACCOUNT).get("configuration") or {}
        window = config.get("DaysBeforeExpiry", DEFAULT_DAYS) * DAY
        today = int(now // DAY)
        with store.transaction():
            certificates = store.table(scope, CERTIFICATE)
            for arn, record in certificates.items():
                left = record["NotAfter"] - now
                if record["Status"] != "ISSUED" or not 0 < left <= window or record.get("_expiry_told") == today:
                    continue
                record["_expiry_told"] = today
                certificates.put(arn, record)
                self.kumo.events.publish(account, region, "aws.acm", "ACM Certificate Approaching Expiration",
                                         {"DaysToExpiry": int(left // DAY),
                                          "CommonName": record.get("DomainName") or ""}, [arn])
        return DAY
