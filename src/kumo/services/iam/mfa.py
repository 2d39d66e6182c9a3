"""Virtual MFA devices: a TOTP secret (RFC 6238, SHA-1, 6 digits, 30 s steps on kumo's clock) per device.

EnableMFADevice and ResyncMFADevice take two consecutive codes, as IAM does:
the first for some step within the window around now, the second for the step
right after it.  The QR code is a real PNG of the otpauth:// URI (segno).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import struct
from urllib.parse import quote

from ...aws.errors import AwsError
from .model import USER, check_name, check_path, find_user, page, sort_by, table, tags_in, untag

MFA = "iam.mfa"
STEP = 30
WINDOW = 10  # steps either side of now that a first code may come from (clock drift of a phone)
MAX_DEVICES_PER_USER = 8


def totp(secret_b32: str, counter: int) -> str:
    key = base64.b32decode(secret_b32)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def _devices(ctx):
    return table(ctx.store, ctx.account, MFA)


def _qr_png(uri: str) -> bytes:
    import segno

    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="png", scale=4)
    return out.getvalue()


def create_virtual_mfa_device(ctx, p):
    name = check_name(p["VirtualMFADeviceName"], "virtualMFADeviceName")
    path = check_path(p.get("Path"))
    serial = f"arn:aws:iam::{ctx.account}:mfa{path}{name}"
    if serial in _devices(ctx):
        raise AwsError("EntityAlreadyExists", "MFADevice entity at the same path and name already exists.")
    seed = base64.b32encode(os.urandom(40)).decode()  # 64 characters, as IAM's seeds
    device = {"SerialNumber": serial, "Tags": tags_in(p), "_seed": seed}
    _devices(ctx).put(serial, device)
    label = f"Amazon%20Web%20Services:{quote(name)}@{ctx.account}"
    uri = f"otpauth://totp/{label}?secret={seed}&issuer=Amazon%20Web%20Services"
    out = {"SerialNumber": serial, "Base32StringSeed": seed.encode(), "QRCodePNG": _qr_png(uri)}
    if device["Tags"]:
        out["Tags"] = device["Tags"]
    return {"VirtualMFADevice": out}


def _find(ctx, serial: str) -> dict:
    device = _devices(ctx).get(serial)
    if device is None:
        raise AwsError("NoSuchEntity", f"MFA device with serial number {serial} does not exist.")
    return device


def _user_view(ctx, user_name: str) -> dict:
    user = table(ctx.store, ctx.account, USER).get(user_name)
    if user is None:
        return {}
    return {k: v for k, v in user.items() if not k.startswith("_") and k != "Tags"}


def _view(ctx, device: dict) -> dict:
    out = {"SerialNumber": device["SerialNumber"]}
    if device.get("_user"):
        out["User"] = _user_view(ctx, device["_user"])
        out["EnableDate"] = device["EnableDate"]
    if device.get("Tags"):
        out["Tags"] = device["Tags"]
    return out


def delete_virtual_mfa_device(ctx, p):
    device = _find(ctx, p["SerialNumber"])
    if device.get("_user"):
        raise AwsError("DeleteConflict", "MFA VirtualDevice in use. Must deactivate first.")
    _devices(ctx).delete(device["SerialNumber"])
    return {}


def list_virtual_mfa_devices(ctx, p):
    status = p.get("AssignmentStatus") or "Any"
    items = [d for d in _devices(ctx).values()
             if status == "Any" or (status == "Assigned") == bool(d.get("_user"))]
    items = sort_by(items, "SerialNumber")
    return page([_view(ctx, d) for d in items], p, lambda d: d["SerialNumber"], "VirtualMFADevices", ctx.account)


def _check_codes(ctx, device: dict, code1: str, code2: str) -> int:
    """The step the second code belongs to, or InvalidAuthenticationCode."""
    now = int(ctx.now()) // STEP
    for step in range(now - WINDOW, now + WINDOW + 1):
        if totp(device["_seed"], step) == code1 and totp(device["_seed"], step + 1) == code2:
            if step + 1 <= device.get("_last_step", -1):
                break  # codes already used
            return step + 1
    raise AwsError("InvalidAuthenticationCode", "Authentication code for device is not valid.", status=403)


def enable_mfa_device(ctx, p):
    user = find_user(ctx.store, ctx.account, p["UserName"])
    device = _find(ctx, p["SerialNumber"])
    if device.get("_user"):
        raise AwsError("EntityAlreadyExists", "MFA Device is already in use.")
    if len(user.get("_mfa", [])) >= MAX_DEVICES_PER_USER:
        raise AwsError("LimitExceeded", f"Cannot exceed quota for MFADevicesPerUser: {MAX_DEVICES_PER_USER}")
    device["_last_step"] = _check_codes(ctx, device, p["AuthenticationCode1"], p["AuthenticationCode2"])
    device["_user"] = user["UserName"]
    device["EnableDate"] = ctx.now()
    _devices(ctx).put(device["SerialNumber"], device)
    user.setdefault("_mfa", []).append(device["SerialNumber"])
    table(ctx.store, ctx.account, USER).put(user["UserName"], user)
    return {}


def _assigned(ctx, p) -> tuple[dict, dict]:
    user = find_user(ctx.store, ctx.account, p["UserName"]) if p.get("UserName") else None
    device = _find(ctx, p["SerialNumber"])
    if not device.get("_user") or (user is not None and device["_user"] != user["UserName"]):
        raise AwsError("NoSuchEntity", f"MFA Device with serial number {p['SerialNumber']} does not exist.")
    return find_user(ctx.store, ctx.account, device["_user"]), device


def deactivate_mfa_device(ctx, p):
    user, device = _assigned(ctx, p)
    device.pop("_user")
    device.pop("EnableDate", None)
    _devices(ctx).put(device["SerialNumber"], device)
    user["_mfa"].remove(device["SerialNumber"])
    table(ctx.store, ctx.account, USER).put(user["UserName"], user)
    return {}


def resync_mfa_device(ctx, p):
    _, device = _assigned(ctx, p)
    device["_last_step"] = _check_codes(ctx, device, p["AuthenticationCode1"], p["AuthenticationCode2"])
    _devices(ctx).put(device["SerialNumber"], device)
    return {}


def list_mfa_devices(ctx, p):
    if p.get("UserName"):
        user = find_user(ctx.store, ctx.account, p["UserName"])
    elif ":user/" in ctx.identity.arn:
        user = find_user(ctx.store, ctx.account, ctx.identity.arn.rsplit("/", 1)[-1])
    else:
        user = None  # the root user's own devices: kumo's root has none
    items = []
    for serial in (user or {}).get("_mfa", []):
        device = _devices(ctx).get(serial)
        if device is not None:
            items.append({"UserName": user["UserName"], "SerialNumber": serial, "EnableDate": device["EnableDate"]})
    return page(items, p, lambda d: d["SerialNumber"], "MFADevices", (user or {}).get("Arn", ctx.account))


def get_mfa_device(ctx, p):
    user, device = _assigned(ctx, p)
    return {"UserName": user["UserName"], "SerialNumber": device["SerialNumber"], "EnableDate": device["EnableDate"]}


def tag_mfa_device(ctx, p):
    device = _find(ctx, p["SerialNumber"])
    device["Tags"] = tags_in(p, device.get("Tags"))
    _devices(ctx).put(device["SerialNumber"], device)
    return {}


def untag_mfa_device(ctx, p):
    device = _find(ctx, p["SerialNumber"])
    device["Tags"] = untag(device.get("Tags"), p["TagKeys"])
    _devices(ctx).put(device["SerialNumber"], device)
    return {}


def list_mfa_device_tags(ctx, p):
    device = _find(ctx, p["SerialNumber"])
    return page(list(device.get("Tags") or []), p, lambda t: t["Key"], "Tags", device["SerialNumber"])
