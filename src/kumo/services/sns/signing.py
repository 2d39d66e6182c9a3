"""SNS message signatures: a real RSA key, a self-signed certificate kumo serves, AWS's canonical strings.

Subscribers verify an SNS message by fetching SigningCertURL and checking
Signature over the canonical string of the message's fields.  kumo makes
one key and certificate per data directory (kept in the store, so messages
signed before a restart still verify after it) and serves the certificate at
``/_kumo/sns/SimpleNotificationService-<fingerprint>.pem``.

SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA, as AWS signs them.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

from aiohttp import web

SCOPE, KIND, KEY = "", "sns.signing", "certificate"
PATH_PREFIX = "/_kumo/sns/"
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


def canonical(message: dict) -> bytes:
    """AWS's string to sign: each present field as ``name\\nvalue\\n``, in this fixed order."""
    fields = NOTIFICATION_FIELDS if message["Type"] == "Notification" else CONFIRMATION_FIELDS
    return "".join(f"{name}\n{message[name]}\n" for name in fields if message.get(name) is not None).encode()


class Signer:
    def __init__(self, kumo):
        self.kumo = kumo
        self._key = None
        self._pem: bytes | None = None
        self.name = ""

    def _load(self) -> None:
        if self._key is not None:
            return
        from cryptography.hazmat.primitives import serialization

        table = self.kumo.store.table(SCOPE, KIND)
        saved = table.get(KEY)
        if saved is None:
            key_pem, cert_pem = _new_certificate()
            with self.kumo.store.transaction():
                table.put(KEY, {"key": key_pem, "cert": cert_pem})
        else:
            key_pem, cert_pem = saved["key"], saved["cert"]
        self._key = serialization.load_pem_private_key(key_pem.encode(), password=None)
        self._pem = cert_pem.encode()
        self.name = f"SimpleNotificationService-{hashlib.md5(self._pem).hexdigest()}.pem"

    def cert_url(self) -> str:
        self._load()
        return f"{self.kumo.endpoint}{PATH_PREFIX}{self.name}"

    def sign(self, message: dict) -> dict:
        """Add SignatureVersion's Signature and the SigningCertURL to ``message``."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        self._load()
        version = message.get("SignatureVersion", "1")
        digest = hashes.SHA256() if version == "2" else hashes.SHA1()
        signature = self._key.sign(canonical(message), padding.PKCS1v15(), digest)
        message["Signature"] = base64.b64encode(signature).decode()
        message["SigningCertURL"] = self.cert_url()
        return message

    async def serve(self, request: web.Request) -> web.Response:
        self._load()
        if request.match_info.get("name") != self.name:
            raise web.HTTPNotFound()
        return web.Response(body=self._pem, content_type="application/x-pem-file")

    def forget(self) -> None:
        """After a reset wiped the store, a new key is made on next use."""
        self._key, self._pem, self.name = None, None, ""


def _new_certificate() -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kumo")])
    # Subscribers check the validity window against their own clocks, so it is real time, not kumo's.
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()
