"""ACM for the rest of kumo: certificate material to serve TLS with, and InUseBy (see docs/acm.md).

Load balancers (and later API Gateway, CloudFront-like front ends) call
these on kumo's event loop with the ``Kumo`` object.  The certificate is
looked up in the account and region its ARN names, which is how AWS
resolves a certificate ARN given to an integrated service.  Keep these
signatures stable: other packages depend on them.
"""

from __future__ import annotations

from .model import CERTIFICATE, scope, split_arn, status


def _record(kumo, arn: str) -> tuple[object, dict | None]:
    where = split_arn(arn)
    if where is None:
        return None, None
    table = kumo.store.table(scope(*where), CERTIFICATE)
    return table, table.get(arn)


def certificate_material(kumo, arn: str) -> dict | None:
    """What a TLS server needs for the certificate ``arn``, or None unless it exists and is ISSUED now.

    Returns ``{"arn", "certificate_pem", "private_key_pem", "chain_pem", "names", "not_after"}``:
    PEM strings (the key unencrypted PKCS#8; ``chain_pem`` None when there is no chain, as for
    kumo's self-signed certificates), every DNS name the certificate covers (the domain first,
    wildcards as ``*.example.com``), and NotAfter as epoch seconds.  Read it again on each use,
    or at least after ``not_after``: a reimport replaces the material under the same ARN.
    """
    _, record = _record(kumo, arn)
    if record is None or status(record, kumo.clock.now()) != "ISSUED":
        return None
    return {
        "arn": arn,
        "certificate_pem": record["_certificate"],
        "private_key_pem": record["_private_key"],
        "chain_pem": record.get("_chain"),
        "names": list(record.get("SubjectAlternativeNames") or []),
        "not_after": float(record["NotAfter"]),
    }


def mark_in_use(kumo, arn: str, user_arn: str, in_use: bool) -> None:
    """Add (``in_use``) or remove ``user_arn`` in the certificate's InUseBy; unknown certificates are ignored.

    Idempotent.  A certificate in use cannot be deleted (ResourceInUseException).  This
    writes the store: call it inside the caller's transaction (a handler already runs in one).
    """
    table, record = _record(kumo, arn)
    if record is None:
        return
    users = [u for u in record["InUseBy"] if u != user_arn]
    if in_use:
        users.append(user_arn)
    if users != record["InUseBy"]:
        record["InUseBy"] = sorted(users)
        table.put(arn, record)
