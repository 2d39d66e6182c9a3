"""SecureString values, encrypted with KMS under the parameter's ARN as encryption context, as AWS does.

Standard-tier values (4 KB at most) are encrypted by KMS directly, so the ciphertext GetParameter answers
without WithDecryption is a KMS ciphertext blob that KMS's own Decrypt accepts (with the context).
Advanced-tier values may reach 8 KB, past KMS's 4 KB Encrypt limit, so they are envelope-encrypted as AWS
does: a data key from GenerateDataKey encrypts the value with AES-256-GCM, and only the data key's KMS
blob is kept beside it.  KMS refusals come back as SSM's InvalidKeyId, naming KMS's own code the way AWS's
message does.
"""

from __future__ import annotations

import base64
import os
import struct

from ...aws.errors import AwsError


def _kms():
    # Imported on first SecureString use, so Parameter Store's other parameters never wait on KMS's import.
    from ..kms import internal

    return internal

DEFAULT_KEY = "alias/aws/ssm"
CONTEXT_KEY = "PARAMETER_ARN"
_ENVELOPE = b"KSSMENV1"  # kumo's envelope layout: magic, len(key blob), key blob, nonce, AES-GCM ciphertext


def _invalid_key(exc: Exception, request_id: str) -> AwsError:
    code = getattr(exc, "code", "KMSInvalidStateException")
    message = getattr(exc, "message", str(exc))
    return AwsError("InvalidKeyId", f"{message} (Service: AWSKMS; Status Code: 400; Error Code: {code}; "
                                    f"Request ID: {request_id}; Proxy: null)")


def encrypt(ctx, key_id: str, plaintext: str, parameter_arn: str, envelope: bool) -> str:
    """The base64 ciphertext to store and to answer without WithDecryption."""
    kms = _kms()
    context = {CONTEXT_KEY: parameter_arn}
    data = plaintext.encode()
    try:
        if not envelope:
            blob = kms.encrypt(ctx.kumo, ctx.account, ctx.region, key_id, data, context)
        else:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            key, key_blob, _ = kms.generate_data_key(ctx.kumo, ctx.account, ctx.region, key_id, context)
            nonce = os.urandom(12)
            sealed = AESGCM(key).encrypt(nonce, data, parameter_arn.encode())
            blob = _ENVELOPE + struct.pack(">H", len(key_blob)) + key_blob + nonce + sealed
    except kms.KmsError as exc:
        raise _invalid_key(exc, ctx.request_id)
    return base64.b64encode(blob).decode()


def decrypt(ctx, stored: str, parameter_arn: str) -> str:
    """The plaintext of a stored SecureString value; KMS's refusal (a disabled key ...) as InvalidKeyId."""
    return decrypt_in(ctx.kumo, ctx.account, ctx.region, stored, parameter_arn, ctx.request_id)


def decrypt_in(kumo, account: str, region: str, stored: str, parameter_arn: str, request_id: str = "") -> str:
    kms = _kms()
    blob = base64.b64decode(stored)
    context = {CONTEXT_KEY: parameter_arn}
    try:
        if not blob.startswith(_ENVELOPE):
            plaintext, _ = kms.decrypt(kumo, account, region, blob, context)
            return plaintext.decode()
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        offset = len(_ENVELOPE)
        (size,) = struct.unpack(">H", blob[offset:offset + 2])
        key_blob = blob[offset + 2:offset + 2 + size]
        rest = blob[offset + 2 + size:]
        key, _ = kms.decrypt(kumo, account, region, key_blob, context)
        return AESGCM(key).decrypt(rest[:12], rest[12:], parameter_arn.encode()).decode()
    except kms.KmsError as exc:
        raise _invalid_key(exc, request_id)


def check_key(ctx, key_id: str) -> str:
    """The key's ARN; InvalidKeyId if KMS does not know it."""
    kms = _kms()
    try:
        return kms.resolve_key(ctx.kumo, ctx.account, ctx.region, key_id)
    except kms.KmsError as exc:
        raise _invalid_key(exc, ctx.request_id)
