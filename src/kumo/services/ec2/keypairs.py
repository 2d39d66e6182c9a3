"""Key pairs: created (with real key material) or imported, and stored."""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from ...aws.errors import AwsError
from .model import apply_filters, new_id, table, tag_specs


def _table(ctx):
    return table(ctx, "key")


def _openssh_fingerprint(public_key) -> str:
    blob = public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).split()[1]
    return base64.b64encode(hashlib.sha256(base64.b64decode(blob)).digest()).decode().rstrip("=")


def _colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def create_key_pair(ctx, p):
    name = p["KeyName"]
    if any(k["KeyName"] == name for k in _table(ctx).values()):
        raise AwsError("InvalidKeyPair.Duplicate", f"The keypair '{name}' already exists.")
    kind = p.get("KeyType") or "rsa"
    if (p.get("KeyFormat") or "pem") != "pem":
        raise AwsError("InvalidParameterValue", "kumo issues key material in PEM format only.")
    if kind == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
        material = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                     serialization.NoEncryption()).decode()
        fingerprint = _openssh_fingerprint(key.public_key())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        material = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                     serialization.NoEncryption()).decode()
        # AWS fingerprints keys it creates by the SHA-1 of the private key in PKCS#8 DER.
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        fingerprint = _colon_hex(hashlib.sha1(der).digest())
    record = _store(ctx, name, kind, fingerprint, key.public_key(), tag_specs(p, "key-pair"))
    return {"KeyName": name, "KeyFingerprint": fingerprint, "KeyMaterial": material, "KeyPairId": record["KeyPairId"],
            "Tags": record["Tags"]}


def _store(ctx, name: str, kind: str, fingerprint: str, public_key, tags: list) -> dict:
    public = public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    record = {"KeyPairId": new_id("key"), "KeyName": name, "KeyType": kind, "KeyFingerprint": fingerprint,
              "CreateTime": ctx.now(), "Tags": tags, "_public": f"{public} {name}"}
    _table(ctx).put(record["KeyPairId"], record)
    return record


def import_key_pair(ctx, p):
    name = p["KeyName"]
    if any(k["KeyName"] == name for k in _table(ctx).values()):
        raise AwsError("InvalidKeyPair.Duplicate", f"The keypair '{name}' already exists.")
    raw = p["PublicKeyMaterial"]
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
        if not text.lstrip().startswith(("ssh-", "ecdsa-")):
            text = base64.b64decode(text).decode()  # some clients base64 the key line once more
        public_key = serialization.load_ssh_public_key(" ".join(text.split()[:2]).encode())
    except Exception:
        raise AwsError("InvalidKey.Format", "Key is not in valid OpenSSH public key format")
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        kind, fingerprint = "ed25519", _openssh_fingerprint(public_key)
    elif isinstance(public_key, rsa.RSAPublicKey):
        der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        kind, fingerprint = "rsa", _colon_hex(hashlib.md5(der).digest())
    else:
        raise AwsError("InvalidKey.Format", "Key type not supported: only RSA and ED25519 keys can be imported")
    record = _store(ctx, name, kind, fingerprint, public_key, tag_specs(p, "key-pair"))
    return {"KeyName": name, "KeyFingerprint": fingerprint, "KeyPairId": record["KeyPairId"], "Tags": record["Tags"]}


def find_by_name(ctx, name: str) -> dict:
    for k in _table(ctx).values():
        if k["KeyName"] == name:
            return k
    raise AwsError("InvalidKeyPair.NotFound", f"The key pair '{name}' does not exist")


def describe_key_pairs(ctx, p):
    keys = _table(ctx).values()
    if p.get("KeyNames"):
        keys = [find_by_name(ctx, n) for n in p["KeyNames"]]
    if p.get("KeyPairIds"):
        wanted = set(p["KeyPairIds"])
        keys = [k for k in keys if k["KeyPairId"] in wanted]
        missing = wanted - {k["KeyPairId"] for k in keys}
        if missing:
            raise AwsError("InvalidKeyPair.NotFound", f"The key pair '{sorted(missing)[0]}' does not exist")
    keys = apply_filters(keys, p, {"key-name": lambda k: k["KeyName"], "key-pair-id": lambda k: k["KeyPairId"],
                                   "fingerprint": lambda k: k["KeyFingerprint"], "key-type": lambda k: k["KeyType"]})
    out = []
    for k in keys:
        view = {key: v for key, v in k.items() if not key.startswith("_")}
        if p.get("IncludePublicKey"):
            view["PublicKey"] = k["_public"]
        out.append(view)
    return {"KeyPairs": out}


def delete_key_pair(ctx, p):
    # Like AWS, deleting a key pair that does not exist succeeds.
    for k in _table(ctx).values():
        if k["KeyName"] == p.get("KeyName") or k["KeyPairId"] == p.get("KeyPairId"):
            _table(ctx).delete(k["KeyPairId"])
            return {"Return": True, "KeyPairId": k["KeyPairId"]}
    return {"Return": True}
