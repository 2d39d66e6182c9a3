"""X.509 signing certificates and SSH public keys of users, and server certificates (for load balancers).

Certificates are parsed with ``cryptography``: a body that is not a PEM
certificate is MalformedCertificate, a server certificate's private key must
be the certificate's own (KeyPairMismatch), and its Expiration is the
certificate's notAfter.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from ...aws.errors import AwsError
from ...core import ids
from .model import (
    by_path, caller_user_name, check_name, check_path, exists, find_user, page, sort_by, table, tags_in, untag,
)

SIGNING, SERVER, SSH = "iam.signing-certificate", "iam.server-certificate", "iam.ssh-public-key"
MAX_SIGNING_PER_USER = 2
MAX_SSH_PER_USER = 5


def load_certificate(body: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(body.strip().encode())
    except (ValueError, UnsupportedAlgorithm):
        raise AwsError("MalformedCertificate", "Certificate body is malformed.")


def _status(value: str | None) -> str:
    return value or "Active"


# -- signing certificates --------------------------------------------------------------------------------------


def upload_signing_certificate(ctx, p):
    user = find_user(ctx.store, ctx.account, p.get("UserName") or caller_user_name(ctx))
    cert = load_certificate(p["CertificateBody"])
    certs = table(ctx.store, ctx.account, SIGNING)
    mine = [c for c in certs.values() if c["UserName"] == user["UserName"]]
    cert_id = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()[:32].upper()  # stable per cert
    if cert_id in certs:
        raise AwsError("DuplicateCertificate", "The request was rejected because the same certificate is associated "
                                               "with an IAM user in the account.")
    if len(mine) >= MAX_SIGNING_PER_USER:
        raise AwsError("LimitExceeded", f"Cannot exceed quota for CertificatesPerUser: {MAX_SIGNING_PER_USER}")
    record = {"UserName": user["UserName"], "CertificateId": cert_id, "CertificateBody": p["CertificateBody"],
              "Status": "Active", "UploadDate": ctx.now()}
    certs.put(cert_id, record)
    return {"Certificate": record}


def _signing(ctx, cert_id: str, user_name: str | None) -> dict:
    record = table(ctx.store, ctx.account, SIGNING).get(cert_id)
    if record is None or (user_name and record["UserName"] != user_name):
        raise AwsError("NoSuchEntity", f"The Certificate with id {cert_id} cannot be found.")
    return record


def list_signing_certificates(ctx, p):
    user = find_user(ctx.store, ctx.account, p.get("UserName") or caller_user_name(ctx))
    items = [c for c in table(ctx.store, ctx.account, SIGNING).values() if c["UserName"] == user["UserName"]]
    return page(sort_by(items, "CertificateId"), p, lambda c: c["CertificateId"], "Certificates", user["Arn"])


def update_signing_certificate(ctx, p):
    record = _signing(ctx, p["CertificateId"], p.get("UserName"))
    record["Status"] = p["Status"]
    table(ctx.store, ctx.account, SIGNING).put(record["CertificateId"], record)
    return {}


def delete_signing_certificate(ctx, p):
    record = _signing(ctx, p["CertificateId"], p.get("UserName"))
    table(ctx.store, ctx.account, SIGNING).delete(record["CertificateId"])
    return {}


# -- server certificates ---------------------------------------------------------------------------------------------


def _servers(ctx):
    return table(ctx.store, ctx.account, SERVER)


def _metadata(record: dict) -> dict:
    return {k: record[k] for k in ("Path", "ServerCertificateName", "ServerCertificateId", "Arn", "UploadDate",
                                   "Expiration")}


def upload_server_certificate(ctx, p):
    name = check_name(p["ServerCertificateName"], "serverCertificateName")
    path = check_path(p.get("Path"))
    if name in _servers(ctx):
        raise exists("Server Certificate", name)
    cert = load_certificate(p["CertificateBody"])
    try:
        key = serialization.load_pem_private_key(p["PrivateKey"].strip().encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise AwsError("MalformedCertificate", "Unable to parse private key.")
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, pub) != \
            cert.public_key().public_bytes(serialization.Encoding.DER, pub):
        raise AwsError("KeyPairMismatch", "Certificate and private key do not match.")
    if p.get("CertificateChain"):
        for block in p["CertificateChain"].split("-----END CERTIFICATE-----")[:-1]:
            load_certificate(block + "-----END CERTIFICATE-----")
    record = {"Path": path, "ServerCertificateName": name, "ServerCertificateId": ids.iam_id("server-certificate"),
              "Arn": f"arn:aws:iam::{ctx.account}:server-certificate{path}{name}", "UploadDate": ctx.now(),
              "Expiration": cert.not_valid_after_utc.timestamp(), "CertificateBody": p["CertificateBody"],
              "Tags": tags_in(p)}
    if p.get("CertificateChain"):
        record["CertificateChain"] = p["CertificateChain"]
    _servers(ctx).put(name, record)
    out = {"ServerCertificateMetadata": _metadata(record)}
    if record["Tags"]:
        out["Tags"] = record["Tags"]
    return out


def _server(ctx, name: str) -> dict:
    record = _servers(ctx).get(name)
    if record is None:
        raise AwsError("NoSuchEntity", f"The Server Certificate with name {name} cannot be found.")
    return record


def get_server_certificate(ctx, p):
    record = _server(ctx, p["ServerCertificateName"])
    out = {"ServerCertificateMetadata": _metadata(record), "CertificateBody": record["CertificateBody"]}
    for key in ("CertificateChain", "Tags"):
        if record.get(key):
            out[key] = record[key]
    return {"ServerCertificate": out}


def list_server_certificates(ctx, p):
    items = sort_by(by_path(_servers(ctx).values(), p.get("PathPrefix")), "ServerCertificateName")
    return page([_metadata(i) for i in items], p, lambda i: i["ServerCertificateName"],
                "ServerCertificateMetadataList", ctx.account)


def update_server_certificate(ctx, p):
    record = _server(ctx, p["ServerCertificateName"])
    new_name = p.get("NewServerCertificateName")
    if p.get("NewPath"):
        record["Path"] = check_path(p["NewPath"], "newPath")
    if new_name and new_name != record["ServerCertificateName"]:
        check_name(new_name, "newServerCertificateName")
        if new_name in _servers(ctx):
            raise exists("Server Certificate", new_name)
        _servers(ctx).delete(record["ServerCertificateName"])
        record["ServerCertificateName"] = new_name
    record["Arn"] = f"arn:aws:iam::{ctx.account}:server-certificate{record['Path']}{record['ServerCertificateName']}"
    _servers(ctx).put(record["ServerCertificateName"], record)
    return {}


def delete_server_certificate(ctx, p):
    record = _server(ctx, p["ServerCertificateName"])
    _servers(ctx).delete(record["ServerCertificateName"])
    return {}


def tag_server_certificate(ctx, p):
    record = _server(ctx, p["ServerCertificateName"])
    record["Tags"] = tags_in(p, record.get("Tags"))
    _servers(ctx).put(record["ServerCertificateName"], record)
    return {}


def untag_server_certificate(ctx, p):
    record = _server(ctx, p["ServerCertificateName"])
    record["Tags"] = untag(record.get("Tags"), p["TagKeys"])
    _servers(ctx).put(record["ServerCertificateName"], record)
    return {}


def list_server_certificate_tags(ctx, p):
    record = _server(ctx, p["ServerCertificateName"])
    return page(list(record.get("Tags") or []), p, lambda t: t["Key"], "Tags", record["Arn"])


# -- SSH public keys (CodeCommit) ------------------------------------------------------------------------------------


def _public_key(body: str):
    """An SSH public key given in OpenSSH or PEM form."""
    try:
        return serialization.load_ssh_public_key(body.strip().encode())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        pass
    try:
        return serialization.load_pem_public_key(body.strip().encode())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise AwsError("InvalidPublicKey", "The request was rejected because the public key is malformed or "
                                           "otherwise invalid.")


def _ssh_fingerprint(body: str) -> str:
    """MD5 of the key blob as colon-separated hex, as IAM shows it."""
    key = _public_key(body)
    blob = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).split()[1]
    digest = hashlib.md5(base64.b64decode(blob)).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


def upload_ssh_public_key(ctx, p):
    user = find_user(ctx.store, ctx.account, p["UserName"])
    fingerprint = _ssh_fingerprint(p["SSHPublicKeyBody"])
    keys = table(ctx.store, ctx.account, SSH)
    mine = [k for k in keys.values() if k["UserName"] == user["UserName"]]
    if any(k["Fingerprint"] == fingerprint for k in mine):
        raise AwsError("DuplicateSSHPublicKey", "The request was rejected because the SSH public key is already "
                                                "associated with the specified IAM user.")
    if len(mine) >= MAX_SSH_PER_USER:
        raise AwsError("LimitExceeded", f"Cannot exceed quota for KeysPerUser: {MAX_SSH_PER_USER}")
    key_id = "APKA" + ids.iam_id("access-key", 16)[4:]
    record = {"UserName": user["UserName"], "SSHPublicKeyId": key_id, "Fingerprint": fingerprint,
              "SSHPublicKeyBody": p["SSHPublicKeyBody"], "Status": "Active", "UploadDate": ctx.now()}
    keys.put(key_id, record)
    return {"SSHPublicKey": record}


def _ssh(ctx, user_name: str, key_id: str) -> dict:
    find_user(ctx.store, ctx.account, user_name)
    record = table(ctx.store, ctx.account, SSH).get(key_id)
    if record is None or record["UserName"] != user_name:
        raise AwsError("NoSuchEntity", f"The Public Key with id {key_id} cannot be found.")
    return record


def get_ssh_public_key(ctx, p):
    record = _ssh(ctx, p["UserName"], p["SSHPublicKeyId"])
    if p["Encoding"] == "PEM":
        key = _public_key(record["SSHPublicKeyBody"])
        record = {**record, "SSHPublicKeyBody": key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()}
    return {"SSHPublicKey": record}


def list_ssh_public_keys(ctx, p):
    name = p.get("UserName") or caller_user_name(ctx)
    user = find_user(ctx.store, ctx.account, name)
    items = [{k: v for k, v in key.items() if k in ("UserName", "SSHPublicKeyId", "Status", "UploadDate")}
             for key in table(ctx.store, ctx.account, SSH).values() if key["UserName"] == name]
    return page(sort_by(items, "SSHPublicKeyId"), p, lambda k: k["SSHPublicKeyId"], "SSHPublicKeys", user["Arn"])


def update_ssh_public_key(ctx, p):
    record = _ssh(ctx, p["UserName"], p["SSHPublicKeyId"])
    record["Status"] = p["Status"]
    table(ctx.store, ctx.account, SSH).put(record["SSHPublicKeyId"], record)
    return {}


def delete_ssh_public_key(ctx, p):
    record = _ssh(ctx, p["UserName"], p["SSHPublicKeyId"])
    table(ctx.store, ctx.account, SSH).delete(record["SSHPublicKeyId"])
    return {}


def user_has(ctx, kind: str, user_name: str) -> bool:
    return any(r["UserName"] == user_name for r in table(ctx.store, ctx.account, kind).values())

