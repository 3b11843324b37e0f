"""Builders for inbound webhook requests, signed the way Telegram and Twilio sign them.

* Twilio posts ``application/x-www-form-urlencoded`` forms and signs them with the
  ``X-Twilio-Signature`` header: base64(HMAC-SHA1(auth_token, url + sorted key/value pairs)).
  :func:`twilio_signature` uses ``twilio.request_validator.RequestValidator`` itself.
* Telegram posts the ``Update`` as JSON and, when ``setWebhook`` had a ``secret_token``,
  sends it back verbatim in ``X-Telegram-Bot-Api-Secret-Token``.
"""

from __future__ import annotations

import itertools
import secrets
import time
from typing import Any

from twilio.request_validator import RequestValidator

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
"""Header carrying ``setWebhook``'s ``secret_token`` on every Telegram webhook call."""

TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
"""Header carrying Twilio's HMAC-SHA1 request signature."""

DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
"""A well-formed Account SID used by the fakes by default."""

DEFAULT_AUTH_TOKEN = "fedcba9876543210" * 2
"""A well-formed (32 hex chars) auth token used by the fakes by default."""

TWILIO_API_VERSION = "2010-04-01"


def new_sid(prefix: str) -> str:
    """A Twilio-style SID: two-letter ``prefix`` + 32 lowercase hex characters."""
    return prefix + secrets.token_hex(16)


# --------------------------------------------------------------------------------------
# Twilio
# --------------------------------------------------------------------------------------


def _country_of(number: str) -> str:
    """ISO country of an E.164 number ('' when unknown), like Twilio's FromCountry."""
    try:
        import phonenumbers
    except ImportError:  # pragma: no cover - phonenumbers is a project dependency
        return ""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return ""
    return phonenumbers.region_code_for_number(parsed) or ""


def twilio_inbound_form(
    from_: str,
    to: str,
    body: str,
    message_sid: str | None = None,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    *,
    messaging_service_sid: str | None = None,
    media: list[tuple[str, str]] | None = None,
    num_segments: int | None = None,
    **extra: str,
) -> dict[str, str]:
    """The form Twilio POSTs to a number's messaging webhook for an incoming SMS/MMS.

    :param from_: sender, E.164.
    :param to: your Twilio number, E.164.
    :param body: message text.
    :param message_sid: ``SM...``/``MM...`` SID (generated when omitted).
    :param account_sid: the receiving account.
    :param messaging_service_sid: added as ``MessagingServiceSid`` when the number is in a
        Messaging Service.
    :param media: ``[(url, content_type), ...]`` -> ``MediaUrl0``/``MediaContentType0``...
    :param num_segments: ``NumSegments`` (computed from ``body`` when omitted).
    :param extra: more fields to add or override (``FromCity="..."``...).
    """
    from tests.fakes.twilio_api import count_segments

    media = media or []
    sid = message_sid or new_sid("MM" if media else "SM")
    form: dict[str, str] = {
        "ToCountry": _country_of(to),
        "ToState": "",
        "SmsMessageSid": sid,
        "NumMedia": str(len(media)),
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": _country_of(from_),
        "To": to,
        "ToZip": "",
        "NumSegments": str(num_segments if num_segments is not None else count_segments(body)),
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": from_,
        "ApiVersion": TWILIO_API_VERSION,
    }
    if messaging_service_sid:
        form["MessagingServiceSid"] = messaging_service_sid
    for index, (url, content_type) in enumerate(media):
        form[f"MediaUrl{index}"] = url
        form[f"MediaContentType{index}"] = content_type
    form.update(extra)
    return form


def twilio_status_form(
    message_sid: str,
    status: str,
    *,
    to: str,
    from_: str | None,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    messaging_service_sid: str | None = None,
    error_code: int | str | None = None,
) -> dict[str, str]:
    """The form Twilio POSTs to a message's ``StatusCallback`` URL.

    ``ErrorCode`` is present only for ``failed``/``undelivered`` (defaulting to 30003 for
    undelivered and 30008 for failed when not given).
    """
    form: dict[str, str] = {
        "SmsSid": message_sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": to,
        "MessageSid": message_sid,
        "AccountSid": account_sid,
        "ApiVersion": TWILIO_API_VERSION,
    }
    if from_:
        form["From"] = from_
    if messaging_service_sid:
        form["MessagingServiceSid"] = messaging_service_sid
    if status in ("failed", "undelivered"):
        default = 30003 if status == "undelivered" else 30008
        form["ErrorCode"] = str(error_code if error_code is not None else default)
    elif error_code is not None:
        form["ErrorCode"] = str(error_code)
    if status == "delivered":
        form["RawDlrDoneDate"] = time.strftime("%y%m%d%H%M", time.gmtime())
    return form


def twilio_signature(auth_token: str, url: str, form: dict[str, str]) -> str:
    """``X-Twilio-Signature`` for a POST of ``form`` to the exact public ``url``."""
    return str(RequestValidator(auth_token).compute_signature(url, form))


def twilio_signed_headers(auth_token: str, url: str, form: dict[str, str]) -> dict[str, str]:
    """Headers Twilio sends with a webhook POST (signature, content type, user agent)."""
    return {
        TWILIO_SIGNATURE_HEADER: twilio_signature(auth_token, url, form),
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "TwilioProxy/1.1",
        "I-Twilio-Idempotency-Token": secrets.token_hex(16),
    }


# --------------------------------------------------------------------------------------
# Telegram
# --------------------------------------------------------------------------------------

_update_ids = itertools.count(10_000)
_message_ids = itertools.count(1_000)
_callback_ids = itertools.count(1)


def next_update_id() -> int:
    """The next update_id of the process-wide counter (strictly increasing)."""
    return next(_update_ids)


def telegram_user(
    user_id: int,
    *,
    first_name: str = "Test",
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "en",
    is_bot: bool = False,
) -> dict[str, Any]:
    """A Bot API ``User`` object."""
    user: dict[str, Any] = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if last_name:
        user["last_name"] = last_name
    if username:
        user["username"] = username
    if language_code:
        user["language_code"] = language_code
    return user


def telegram_chat(chat_id: int, user: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Bot API ``Chat``: private for positive ids (named after ``user``), else a group."""
    if chat_id > 0:
        chat: dict[str, Any] = {"id": chat_id, "type": "private"}
        if user is not None:
            chat["first_name"] = user["first_name"]
            for key in ("last_name", "username"):
                if key in user:
                    chat[key] = user[key]
        else:
            chat["first_name"] = "Test"
        return chat
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "title": f"Group {chat_id}", "type": kind}


def _command_entities(text: str) -> list[dict[str, Any]]:
    if not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]


def telegram_message(
    text: str | None = None,
    user_id: int = 111,
    chat_id: int | None = None,
    *,
    message_id: int | None = None,
    date: int | None = None,
    first_name: str = "Test",
    username: str | None = None,
    language_code: str | None = "en",
    **extra: Any,
) -> dict[str, Any]:
    """A Bot API ``Message`` from ``user_id`` in ``chat_id`` (defaults to the private chat).

    Commands (``/start ...``) get a ``bot_command`` entity like Telegram adds.
    """
    user = telegram_user(
        user_id, first_name=first_name, username=username, language_code=language_code
    )
    chat = telegram_chat(chat_id if chat_id is not None else user_id, user)
    message: dict[str, Any] = {
        "message_id": message_id if message_id is not None else next(_message_ids),
        "from": user,
        "chat": chat,
        "date": date if date is not None else int(time.time()),
    }
    if text is not None:
        message["text"] = text
        if entities := _command_entities(text):
            message["entities"] = entities
    message.update(extra)
    return message


def telegram_message_update(
    text: str,
    user_id: int = 111,
    chat_id: int | None = None,
    *,
    update_id: int | None = None,
    **message_fields: Any,
) -> dict[str, Any]:
    """An ``Update`` with a text ``message`` (see :func:`telegram_message` for fields)."""
    return {
        "update_id": update_id if update_id is not None else next_update_id(),
        "message": telegram_message(text, user_id, chat_id, **message_fields),
    }


def telegram_contact_update(
    user_id: int,
    phone_number: str,
    *,
    contact_user_id: int | None = None,
    first_name: str = "Test",
    chat_id: int | None = None,
    update_id: int | None = None,
    **message_fields: Any,
) -> dict[str, Any]:
    """An ``Update`` whose message shares a contact (a ``request_contact`` button press).

    When users share their own contact ``contact.user_id == from.id``
    (``contact_user_id`` defaults to ``user_id``); pass another id to model forwarding
    somebody else's contact.  Telegram sends ``phone_number`` as the user's client has it,
    often WITHOUT a leading ``+`` (e.g. ``"79991234567"``), so pass that form to test it.
    """
    contact = {
        "phone_number": phone_number,
        "first_name": first_name,
        "user_id": contact_user_id if contact_user_id is not None else user_id,
    }
    return {
        "update_id": update_id if update_id is not None else next_update_id(),
        "message": telegram_message(
            None, user_id, chat_id, first_name=first_name, contact=contact, **message_fields
        ),
    }


def telegram_callback_update(
    data: str,
    user_id: int = 111,
    chat_id: int | None = None,
    *,
    message_id: int | None = None,
    message_text: str = "…",
    bot_id: int = 123456,
    bot_username: str = "civic_test_bot",
    callback_id: str | None = None,
    update_id: int | None = None,
    first_name: str = "Test",
    language_code: str | None = "en",
) -> dict[str, Any]:
    """An ``Update`` with a ``callback_query`` (inline button press) on a bot message."""
    user = telegram_user(user_id, first_name=first_name, language_code=language_code)
    bot = {"id": bot_id, "is_bot": True, "first_name": "Bot", "username": bot_username}
    chat = telegram_chat(chat_id if chat_id is not None else user_id, user)
    message = {
        "message_id": message_id if message_id is not None else next(_message_ids),
        "from": bot,
        "chat": chat,
        "date": int(time.time()),
        "text": message_text,
    }
    return {
        "update_id": update_id if update_id is not None else next_update_id(),
        "callback_query": {
            "id": callback_id or str(4_000_000_000_000_000_000 + next(_callback_ids)),
            "from": user,
            "message": message,
            "chat_instance": str(-(abs(hash((bot_id, chat["id"]))) % 10**18)),
            "data": data,
        },
    }


def telegram_update(kind: str = "message", /, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Dispatch to :func:`telegram_message_update` / ``contact`` / ``callback`` builders.

    ``telegram_update("message", "hi", 42)``, ``telegram_update("contact", 42, "+4912")``,
    ``telegram_update("callback", "vote:1", 42)``.
    """
    builders = {
        "message": telegram_message_update,
        "contact": telegram_contact_update,
        "callback": telegram_callback_update,
        "callback_query": telegram_callback_update,
    }
    try:
        builder = builders[kind]
    except KeyError:
        msg = f"unknown update kind {kind!r}; expected one of {sorted(builders)}"
        raise ValueError(msg) from None
    return builder(*args, **kwargs)


def telegram_webhook_headers(secret_token: str | None) -> dict[str, str]:
    """Headers of a Telegram webhook POST (JSON body; secret header when configured)."""
    headers = {"Content-Type": "application/json"}
    if secret_token is not None:
        headers[TELEGRAM_SECRET_HEADER] = secret_token
    return headers
