"""SMS settings, the SMS sandbox, and opted-out numbers; kumo sends no text message.

Every account starts in the SMS sandbox, as on AWS.  A sandbox number is added Pending with a one-time
password that AWS would text to it; kumo texts nothing and keeps the password, which
``GET /_kumo/sns/sms-sandbox/<account>/<region>/<number>`` answers (docs/messaging.md); verifying with it
makes the number Verified.  The account's SMS attributes are stored and checked.  Numbers opt out by
replying STOP on AWS; kumo has no handsets, so ``POST`` to that same path with ``{"optOut": true}`` stands
for the reply, and OptInPhoneNumber takes it back.  The account has no origination numbers.

Publish to a PhoneNumber answers a MessageId as AWS does; what a handset would then receive is kept (the
last MAX_KEPT texts per number, with AWS's delivery outcome: delivered only to a verified sandbox number
that has not opted out) and answered by the same GET.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid

from aiohttp import web

from ...aws.errors import AwsError
from ...core import pagination
from .topics import invalid

SMS = "sns.sms"
PATH = "/_kumo/sns/sms-sandbox/{account}/{region}/{number}"
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
ATTRIBUTES = {"DefaultSenderID", "DefaultSMSType", "MonthlySpendLimit", "DeliveryStatusIAMRole",
              "DeliveryStatusSuccessSamplingRate", "UsageReportS3Bucket"}
MAX_SANDBOX = 10  # AWS's quota of sandbox destination numbers
MAX_KEPT = 100
MAX_SMS = 1600  # characters AWS takes in one SMS publish (sent as several parts)
_LANGUAGES = ("en-US", "en-GB", "es-419", "es-ES", "de-DE", "fr-CA", "fr-FR", "it-IT", "ja-JP", "pt-BR", "kr-KR",
              "zh-CN", "zh-TW")


def _state(store, scope: str) -> dict:
    return store.table(scope, SMS).get("state") or {"attributes": {}, "sandbox": {}, "opted_out": []}


def _save(store, scope: str, state: dict) -> None:
    store.table(scope, SMS).put("state", state)


def _number(number: str, member: str = "PhoneNumber") -> str:
    if not _E164.match(number or ""):
        raise invalid(f"{member} Reason: {number} is not a valid phone number in E.164 format")
    return number


# -- attributes ------------------------------------------------------------------------------------------


def set_sms_attributes(ctx, p):
    attrs = dict(p["attributes"])
    for name, value in attrs.items():
        if name not in ATTRIBUTES:
            raise invalid(f"attributes Reason: {name} is not a valid attribute")
        if name == "DefaultSMSType" and value not in ("Promotional", "Transactional"):
            raise invalid("DefaultSMSType Reason: must be Promotional or Transactional")
        if name in ("MonthlySpendLimit", "DeliveryStatusSuccessSamplingRate"):
            if not value.isdigit() or (name == "DeliveryStatusSuccessSamplingRate" and int(value) > 100):
                raise invalid(f"{name} Reason: {value} is not a valid value")
        if name == "DefaultSenderID" and not re.match(r"^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$", value):
            raise invalid("DefaultSenderID Reason: must be 1-11 letters and numbers, with at least one letter")
    state = _state(ctx.store, ctx.scope)
    state["attributes"].update(attrs)
    _save(ctx.store, ctx.scope, state)
    return {}


def get_sms_attributes(ctx, p):
    stored = _state(ctx.store, ctx.scope)["attributes"]
    wanted = p.get("attributes")
    return {"attributes": {k: v for k, v in stored.items() if not wanted or k in wanted}}


# -- the sandbox -------------------------------------------------------------------------------------------


def get_sms_sandbox_account_status(ctx, p):
    return {"IsInSandbox": True}


def create_sms_sandbox_phone_number(ctx, p):
    number = _number(p["PhoneNumber"])
    if p.get("LanguageCode") and p["LanguageCode"] not in _LANGUAGES:
        raise invalid(f"LanguageCode Reason: {p['LanguageCode']} is not supported")
    state = _state(ctx.store, ctx.scope)
    if number in state["opted_out"]:
        raise AwsError("OptedOut", "Phone number is opted out.")
    if number not in state["sandbox"] and len(state["sandbox"]) >= MAX_SANDBOX:
        raise AwsError("UserError", f"You can add at most {MAX_SANDBOX} destination phone numbers to the SMS "
                                    f"sandbox.")
    entry = state["sandbox"].get(number)
    if entry is None or entry["Status"] != "Verified":
        state["sandbox"][number] = {"Status": "Pending", "otp": f"{secrets.randbelow(10 ** 6):06d}"}
    _save(ctx.store, ctx.scope, state)
    return {}


def verify_sms_sandbox_phone_number(ctx, p):
    number = _number(p["PhoneNumber"])
    state = _state(ctx.store, ctx.scope)
    entry = state["sandbox"].get(number)
    if entry is None:
        raise AwsError("ResourceNotFound", "Phone number does not exist in the SMS sandbox.")
    if entry["Status"] != "Verified":
        if not secrets.compare_digest(p["OneTimePassword"], entry["otp"]):
            raise AwsError("VerificationException", "Invalid one-time password.")
        entry["Status"] = "Verified"
        _save(ctx.store, ctx.scope, state)
    return {}


def list_sms_sandbox_phone_numbers(ctx, p):
    numbers = sorted(_state(ctx.store, ctx.scope)["sandbox"].items())
    try:
        page, token = pagination.paginate(numbers, p.get("MaxResults"), p.get("NextToken"), key=lambda n: n[0],
                                          context="sandbox")
    except pagination.InvalidToken:
        raise invalid("NextToken")
    out = {"PhoneNumbers": [{"PhoneNumber": n, "Status": e["Status"]} for n, e in page]}
    if token:
        out["NextToken"] = token
    return out


def delete_sms_sandbox_phone_number(ctx, p):
    number = _number(p["PhoneNumber"])
    state = _state(ctx.store, ctx.scope)
    if state["sandbox"].pop(number, None) is None:
        raise AwsError("ResourceNotFound", "Phone number does not exist in the SMS sandbox.")
    _save(ctx.store, ctx.scope, state)
    return {}


def list_origination_numbers(ctx, p):
    if p.get("MaxResults") is not None and not 1 <= p["MaxResults"] <= 30:
        raise AwsError("ValidationException", "MaxResults must be between 1 and 30.")
    return {"PhoneNumbers": []}


# -- opt-outs ----------------------------------------------------------------------------------------------


def check_if_phone_number_is_opted_out(ctx, p):
    number = _number(p["phoneNumber"], "phoneNumber")
    return {"isOptedOut": number in _state(ctx.store, ctx.scope)["opted_out"]}


def list_phone_numbers_opted_out(ctx, p):
    numbers = sorted(_state(ctx.store, ctx.scope)["opted_out"])
    try:
        page, token = pagination.paginate(numbers, None, p.get("nextToken"), key=lambda n: n, context="opted")
    except pagination.InvalidToken:
        raise invalid("nextToken")
    out = {"phoneNumbers": page}
    if token:
        out["nextToken"] = token
    return out


def opt_in_phone_number(ctx, p):
    number = _number(p["phoneNumber"], "phoneNumber")
    state = _state(ctx.store, ctx.scope)
    if number in state["opted_out"]:
        state["opted_out"].remove(number)
        _save(ctx.store, ctx.scope, state)
    return {}


# -- Publish to a phone number -----------------------------------------------------------------------------


def publish_sms(ctx, p) -> dict:
    number = p["PhoneNumber"]
    if not _E164.match(number or ""):
        raise invalid(f"PhoneNumber Reason: {number} is not valid to publish to")
    message = p["Message"]
    if len(message) > MAX_SMS:
        raise invalid(f"Message too long: an SMS message may have at most {MAX_SMS} characters")
    message_id = str(uuid.uuid4())
    sms_type = ((p.get("MessageAttributes") or {}).get("AWS.SNS.SMS.SMSType") or {}).get("StringValue")
    keep_text(ctx.kumo, ctx.scope, number, message_id, message, sms_type, ctx.now())
    return {"MessageId": message_id}


def keep_text(kumo, scope: str, number: str, message_id: str, message: str, sms_type: str | None,
              now: float) -> None:
    """Keep the text a handset would get (a direct publish, or a topic's sms subscription), with its outcome."""
    state = _state(kumo.store, scope)
    entry = state["sandbox"].get(number)
    if number in state["opted_out"]:
        outcome = "FAILURE: Phone number is opted out"
    elif entry is None or entry["Status"] != "Verified":
        outcome = "FAILURE: the account is in the SMS sandbox and the number is not a verified destination"
    else:
        outcome = "SUCCESS"
    texts = state.setdefault("texts", {}).setdefault(number, [])
    texts.append({"MessageId": message_id, "Message": message[:MAX_SMS], "Status": outcome, "Timestamp": now,
                  "SMSType": sms_type or state["attributes"].get("DefaultSMSType", "Promotional")})
    del texts[:-MAX_KEPT]
    _save(kumo.store, scope, state)


# -- what a handset would do -------------------------------------------------------------------------------


def routes(kumo) -> None:
    async def read(request: web.Request) -> web.Response:
        info = request.match_info
        state = _state(kumo.store, f"{info['account']}/{info['region']}")
        entry = state["sandbox"].get(info["number"])
        texts = state.get("texts", {}).get(info["number"])
        if entry is None and texts is None:
            raise web.HTTPNotFound(text=json.dumps({"error": "no such sandbox number"}),
                                   content_type="application/json")
        return web.json_response({"PhoneNumber": info["number"], "Status": (entry or {}).get("Status"),
                                  "OneTimePassword": (entry or {}).get("otp"),
                                  "OptedOut": info["number"] in state["opted_out"], "Messages": texts or []})

    async def reply(request: web.Request) -> web.Response:
        info = request.match_info
        try:
            doc = await request.json()
        except ValueError:
            doc = None
        if not isinstance(doc, dict) or not isinstance(doc.get("optOut"), bool) or not _E164.match(info["number"]):
            raise web.HTTPBadRequest(text=json.dumps({"error": 'send {"optOut": true|false} for an E.164 number'}),
                                     content_type="application/json")
        scope = f"{info['account']}/{info['region']}"
        with kumo.store.transaction():
            state = _state(kumo.store, scope)
            opted = set(state["opted_out"])
            (opted.add if doc["optOut"] else opted.discard)(info["number"])
            state["opted_out"] = sorted(opted)
            _save(kumo.store, scope, state)
        return web.json_response({"PhoneNumber": info["number"], "OptedOut": doc["optOut"]})

    kumo.route("GET", PATH, read)
    kumo.route("POST", PATH, reply)
