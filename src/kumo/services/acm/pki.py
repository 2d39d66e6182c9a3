"""X.509 for ACM: reading what callers import, describing certificates as ACM does, issuing kumo's own.

Pure functions over the ``cryptography`` package; they know nothing of the
API.  Anything a caller handed us that cannot be used raises
``InvalidMaterial`` with a message in ACM's style, which the handlers turn
into a ``ValidationException``.
"""

from __future__ import annotations

import datetime
import re

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, SignatureAlgorithmOID


class InvalidMaterial(ValueError):
    """A certificate, chain or key ACM would refuse; the message says why."""


_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----")
_RSA_SIZES = (1024, 2048, 3072, 4096)
_CURVES = {"secp256r1": "EC_prime256v1", "secp384r1": "EC_secp384r1", "secp521r1": "EC_secp521r1"}

# What RequestCertificate may ask for (public certificates), and how kumo makes and signs each.
ISSUABLE = {
    "RSA_2048": (lambda: rsa.generate_private_key(65537, 2048), hashes.SHA256),
    "EC_prime256v1": (lambda: ec.generate_private_key(ec.SECP256R1()), hashes.SHA256),
    "EC_secp384r1": (lambda: ec.generate_private_key(ec.SECP384R1()), hashes.SHA384),
}

_EKU_NAMES = {
    ExtendedKeyUsageOID.SERVER_AUTH.dotted_string: "TLS_WEB_SERVER_AUTHENTICATION",
    ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string: "TLS_WEB_CLIENT_AUTHENTICATION",
    ExtendedKeyUsageOID.CODE_SIGNING.dotted_string: "CODE_SIGNING",
    ExtendedKeyUsageOID.EMAIL_PROTECTION.dotted_string: "EMAIL_PROTECTION",
    ExtendedKeyUsageOID.TIME_STAMPING.dotted_string: "TIME_STAMPING",
    ExtendedKeyUsageOID.OCSP_SIGNING.dotted_string: "OCSP_SIGNING",
    "1.3.6.1.5.5.7.3.5": "IPSEC_END_SYSTEM",
    "1.3.6.1.5.5.7.3.6": "IPSEC_TUNNEL",
    "1.3.6.1.5.5.7.3.7": "IPSEC_USER",
    "2.5.29.37.0": "ANY",
}
_KEY_USAGE_NAMES = (
    ("digital_signature", "DIGITAL_SIGNATURE"),
    ("content_commitment", "NON_REPUDIATION"),
    ("key_encipherment", "KEY_ENCIPHERMENT"),
    ("data_encipherment", "DATA_ENCIPHERMENT"),
    ("key_agreement", "KEY_AGREEMENT"),
    ("key_cert_sign", "CERTIFICATE_SIGNING"),
    ("crl_sign", "CRL_SIGNING"),
)
_RSA_SIGNATURES = {
    SignatureAlgorithmOID.RSA_WITH_MD5, SignatureAlgorithmOID.RSA_WITH_SHA1, SignatureAlgorithmOID.RSA_WITH_SHA224,
    SignatureAlgorithmOID.RSA_WITH_SHA256, SignatureAlgorithmOID.RSA_WITH_SHA384, SignatureAlgorithmOID.RSA_WITH_SHA512,
}
_ECDSA_SIGNATURES = {
    SignatureAlgorithmOID.ECDSA_WITH_SHA1, SignatureAlgorithmOID.ECDSA_WITH_SHA224,
    SignatureAlgorithmOID.ECDSA_WITH_SHA256, SignatureAlgorithmOID.ECDSA_WITH_SHA384,
    SignatureAlgorithmOID.ECDSA_WITH_SHA512,
}


# -- reading ----------------------------------------------------------------------------------


def load_certificate(data: bytes) -> x509.Certificate:
    if len(_PEM_CERT.findall(data)) > 1:
        raise InvalidMaterial("The certificate field contains more than one certificate. "
                              "You can specify only one certificate in this field.")
    try:
        return x509.load_pem_x509_certificate(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidMaterial("Unable to parse certificate. Please ensure the certificate is in PEM format.")


def load_chain(data: bytes) -> list[x509.Certificate]:
    try:
        chain = x509.load_pem_x509_certificates(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidMaterial("Unable to parse certificate chain. Please ensure the chain is in PEM format.")
    return chain


def load_private_key(data: bytes):
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:
        # cryptography says TypeError when the key wants a password it was not given.
        raise InvalidMaterial("The private key is encrypted. You must provide an unencrypted private key.")
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidMaterial("Unable to parse the private key. Please ensure the key is in PEM format.")


def _spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def check_importable(cert: x509.Certificate, key, chain: list[x509.Certificate], now: float) -> None:
    """ACM's rules for ImportCertificate, in the order a caller is most likely to break them."""
    if key_algorithm(cert.public_key()) is None:
        raise InvalidMaterial("The certificate's key algorithm is not supported. ACM accepts RSA keys of 1024, "
                              "2048, 3072 or 4096 bits and EC keys on the prime256v1, secp384r1 or secp521r1 curves.")
    if _spki(key.public_key()) != _spki(cert.public_key()):
        raise InvalidMaterial("The private key does not match the public key in the certificate.")
    if not cert.issuer.rdns:
        raise InvalidMaterial("The certificate's Issuer field must not be empty.")
    not_before, not_after = validity(cert)
    if now < not_before:
        raise InvalidMaterial(f"The certificate is not valid before {_iso(not_before)}.")
    if now > not_after:
        raise InvalidMaterial(f"The certificate expired on {_iso(not_after)}.")
    if chain and not any(_issued_by(cert, ca) for ca in chain):
        raise InvalidMaterial("Could not validate the certificate with the certificate chain.")


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    if cert.issuer != ca.subject:
        return False
    verify = getattr(cert, "verify_directly_issued_by", None)
    if verify is None:  # cryptography < 40 cannot check the signature; the names matched
        return True
    try:
        verify(ca)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


# -- describing -------------------------------------------------------------------------------


def _utc(cert: x509.Certificate, field: str) -> datetime.datetime:
    value = getattr(cert, f"{field}_utc", None)  # cryptography >= 42
    if value is None:
        value = getattr(cert, field).replace(tzinfo=datetime.timezone.utc)
    return value


def validity(cert: x509.Certificate) -> tuple[float, float]:
    return _utc(cert, "not_valid_before").timestamp(), _utc(cert, "not_valid_after").timestamp()


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_algorithm(public_key) -> str | None:
    """ACM's name for a key (RSA_2048, EC_prime256v1 ...), None for a key ACM does not take."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"RSA_{public_key.key_size}" if public_key.key_size in _RSA_SIZES else None
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return _CURVES.get(public_key.curve.name)
    return None


def signature_algorithm(cert: x509.Certificate) -> str:
    oid = cert.signature_algorithm_oid
    if oid == SignatureAlgorithmOID.ED25519:
        return "ED25519"
    if oid == SignatureAlgorithmOID.ED448:
        return "ED448"
    digest = cert.signature_hash_algorithm
    prefix = digest.name.upper().replace("-", "") if digest is not None else ""
    if oid == SignatureAlgorithmOID.RSASSA_PSS:
        return f"{prefix}WITHRSAANDMGF1"
    if oid in _ECDSA_SIGNATURES:
        return f"{prefix}WITHECDSA"
    if oid in _RSA_SIGNATURES:
        return f"{prefix}WITHRSA"
    return f"{prefix}WITHDSA" if isinstance(cert.public_key(), dsa.DSAPublicKey) else oid.dotted_string


def _extension(cert: x509.Certificate, kind):
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def names(cert: x509.Certificate) -> tuple[str | None, list[str]]:
    """(DomainName, SubjectAlternativeNames): the subject's CN or else the first SAN, then every name, CN first."""
    cns = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    cn = str(cns[0]) if cns else None
    sans: list[str] = []
    ext = _extension(cert, x509.SubjectAlternativeName)
    if ext is not None:
        sans = [str(n) for n in ext.get_values_for_type(x509.DNSName)]
        sans += [str(ip) for ip in ext.get_values_for_type(x509.IPAddress)]
    domain = cn or (sans[0] if sans else None)
    ordered = [domain] if domain else []
    ordered += [n for n in sans if n not in ordered]
    return domain, ordered


def key_usages(cert: x509.Certificate) -> list[dict]:
    ext = _extension(cert, x509.KeyUsage)
    if ext is None:
        return []
    out = [{"Name": name} for attr, name in _KEY_USAGE_NAMES if getattr(ext, attr)]
    if ext.key_agreement:  # the two below are only defined alongside key agreement
        out += [{"Name": n} for attr, n in (("encipher_only", "ENCIPHER_ONLY"), ("decipher_only", "DECIPHER_ONLY"))
                if getattr(ext, attr)]
    return out


def extended_key_usages(cert: x509.Certificate) -> list[dict]:
    ext = _extension(cert, x509.ExtendedKeyUsage)
    if ext is None:
        return []
    return [{"Name": _EKU_NAMES.get(oid.dotted_string, "CUSTOM"), "OID": oid.dotted_string} for oid in ext]


def _display_name(name: x509.Name) -> str:
    """ACM shows an issuer by its organization, else its common name."""
    for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
        values = name.get_attributes_for_oid(oid)
        if values:
            return str(values[0].value)
    return name.rfc4514_string()


def describe(cert: x509.Certificate) -> dict:
    """The members of ACM's CertificateDetail that come from the certificate itself."""
    domain, sans = names(cert)
    not_before, not_after = validity(cert)
    number = abs(cert.serial_number)  # negative serials exist in the wild; show their magnitude
    serial = number.to_bytes((number.bit_length() + 7) // 8 or 1, "big")
    out = {
        "SubjectAlternativeNames": sans,
        "Serial": ":".join(f"{b:02x}" for b in serial),
        "Subject": cert.subject.rfc4514_string(),
        "Issuer": _display_name(cert.issuer),
        "NotBefore": not_before,
        "NotAfter": not_after,
        "KeyAlgorithm": key_algorithm(cert.public_key()),
        "SignatureAlgorithm": signature_algorithm(cert),
        "KeyUsages": key_usages(cert),
        "ExtendedKeyUsages": extended_key_usages(cert),
    }
    if domain:
        out["DomainName"] = domain
    return out


# -- writing ----------------------------------------------------------------------------------


def certificate_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def chain_pem(chain: list[x509.Certificate]) -> str | None:
    return "".join(certificate_pem(c) for c in chain) or None


def private_key_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def encrypted_private_key_pem(key_pem: str, passphrase: bytes) -> str:
    """PKCS#8 encrypted with the passphrase, as ExportCertificate hands keys out (``openssl pkey`` reads it)."""
    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(passphrase)).decode()


def issue_self_signed(algorithm: str, domain: str, sans: list[str], not_before: float, not_after: float):
    """A leaf certificate for ``domain`` and ``sans`` signed by its own new key; returns (certificate, key).

    The extensions are those of a public TLS server certificate, so TLS
    stacks accept it for every name once the certificate itself is trusted.
    """
    make_key, digest = ISSUABLE[algorithm]
    key = make_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    is_rsa = isinstance(key, rsa.RSAPrivateKey)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime.fromtimestamp(not_before, datetime.timezone.utc))
        .not_valid_after(datetime.datetime.fromtimestamp(not_after, datetime.timezone.utc))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=is_rsa,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return builder.sign(key, digest()), key

