"""ImportCertificate: bring your own certificate, key and chain, checked as ACM checks them."""

from __future__ import annotations

import uuid

from . import pki
from .model import find, save, validation
from .tagging import merge


def _read(p: dict, now: float):
    """(certificate, key, chain, the certificate's own fields), or ACM's ValidationException."""
    try:
        cert = pki.load_certificate(p["Certificate"])
        key = pki.load_private_key(p["PrivateKey"])
        chain = pki.load_chain(p["CertificateChain"]) if p.get("CertificateChain") else []
        pki.check_importable(cert, key, chain, now)
        fields = pki.describe(cert)
    except pki.InvalidMaterial as exc:
        raise validation(str(exc))
    except ValueError as exc:
        # cryptography parses extensions lazily, so a malformed one surfaces only here.
        raise validation(f"Unable to parse certificate: {exc}")
    return cert, key, chain, fields


def import_certificate(ctx, p):
    now = ctx.now()
    arn = p.get("CertificateArn")
    previous = None
    if arn:
        previous = find(ctx, arn)
        if previous["Type"] != "IMPORTED":
            raise validation(f"Certificate {arn} was not imported; only imported certificates can be reimported.")
        if p.get("Tags"):
            raise validation("Tagging is not permitted on re-import.")
    cert, key, chain, fields = _read(p, now)
    if previous is not None:
        if fields["KeyAlgorithm"] != previous["KeyAlgorithm"]:
            raise validation(f"The key algorithm of a reimported certificate must stay "
                             f"{previous['KeyAlgorithm']}; this certificate's is {fields['KeyAlgorithm']}.")
        if not fields["SubjectAlternativeNames"]:
            raise validation("A reimported certificate must keep at least one domain name.")
    if previous is None:
        tags = merge([], p.get("Tags"))
        arn = ctx.arn(f"certificate/{uuid.uuid4()}")
        record = {"CertificateArn": arn, "CreatedAt": now, "InUseBy": [], "_tags": tags}
    else:
        # A reimport keeps the ARN, its users and its tags; everything read from the certificate is replaced.
        record = {k: previous[k] for k in ("CertificateArn", "CreatedAt", "InUseBy", "_tags")}
    record.update(fields)
    record.update({
        "Type": "IMPORTED",
        "Status": "ISSUED",
        "ImportedAt": now,
        "_certificate": pki.certificate_pem(cert),
        "_private_key": pki.private_key_pem(key),
        "_chain": pki.chain_pem(chain),
    })
    save(ctx, record)
    return {"CertificateArn": arn}

