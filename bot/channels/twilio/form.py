"""The shape of a Twilio webhook's form, checked after its signature and before acting.

Twilio signs the URL followed by every parameter's name and value joined with no
separator (``...MessageSidSM1f...NumMedia0...``). A signed request can therefore be
re-cut: drop ``NumMedia=0`` and append ``NumMedia0`` to the ``MessageSid`` value, and the
joined text, hence the signature, is the same. The new ``MessageSid`` is one the
deduplication has never seen, so a captured request (a staff ``BROADCAST``) would be
handled a second time. Only the shape of each parameter tells: a SID is two letters and
32 hex digits, counts are digits, the account is ours, and no parameter may be one of
ours with something appended (``NumMedia0``, ``MessageSidX``, ``MediaUrl3`` beyond
``NumMedia``). A form that fails is refused whole: :func:`inbound_problem` and
:func:`status_problem` say why, for the log (never a value: the values carry phone
numbers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: a message's SID: SM (SMS) or MM (MMS) and 32 lowercase hex digits
MESSAGE_SID = re.compile(r"(?:SM|MM)[0-9a-f]{32}")
_ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
_SERVICE_SID = re.compile(r"MG[0-9a-f]{32}")
_COUNT = re.compile(r"[0-9]{1,5}")
_STATUS = re.compile(r"[a-z_]{1,32}")
#: Twilio's ApiVersion, a date
_API_VERSION = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: MediaUrl0, MediaContentType12...
_MEDIA = re.compile(r"(MediaUrl|MediaContentType)([0-9]{1,3})")
#: the most media an MMS carries
MAX_MEDIA = 10

#: the parameters whose value must match a pattern (a parameter absent is not checked here)
_SHAPES: dict[str, re.Pattern[str]] = {
    "MessageSid": MESSAGE_SID,
    "SmsSid": MESSAGE_SID,
    "SmsMessageSid": MESSAGE_SID,
    "AccountSid": _ACCOUNT_SID,
    "MessagingServiceSid": _SERVICE_SID,
    "NumMedia": _COUNT,
    "NumSegments": _COUNT,
    "ReferralNumMedia": _COUNT,
    "ErrorCode": _COUNT,
    "MessageStatus": _STATUS,
    "SmsStatus": _STATUS,
    "ApiVersion": _API_VERSION,
}

#: every parameter of Twilio's messaging webhooks that civic-bot knows (those of
#: ``_SHAPES`` and free texts); one of these with anything appended is refused, any
#: other name is let through (Twilio adds parameters now and then)
KNOWN = frozenset(
    {
        *_SHAPES,
        "From",
        "To",
        "Body",
        "FromCity",
        "FromState",
        "FromZip",
        "FromCountry",
        "ToCity",
        "ToState",
        "ToZip",
        "ToCountry",
        "ErrorMessage",
        "RawDlrDoneDate",
    }
)


def _common_problem(form: Mapping[str, str], account_sid: str | None) -> str | None:
    for name, value in form.items():
        pattern = _SHAPES.get(name)
        if pattern is not None and not pattern.fullmatch(value):
            return f"{name} is not well formed"
        if name not in KNOWN and _MEDIA.fullmatch(name) is None:
            carried = next((known for known in KNOWN if name.startswith(known)), None)
            if carried is not None:
                return f"unexpected parameter {name[:40]!r} (carries {carried})"
    sids = {form[name] for name in ("MessageSid", "SmsSid", "SmsMessageSid") if name in form}
    if len(sids) > 1:
        return "MessageSid, SmsSid and SmsMessageSid differ"
    if account_sid is not None and form.get("AccountSid") != account_sid:
        return "AccountSid is not ours"
    return None


def inbound_problem(form: Mapping[str, str], account_sid: str | None) -> str | None:
    """Why the form of an incoming SMS is malformed; None if it is well formed.
    ``account_sid``: ours (the form's must equal it), None to check only its shape."""
    problem = _common_problem(form, account_sid)
    if problem is not None:
        return problem
    if "MessageSid" not in form and "SmsSid" not in form:
        return "MessageSid is missing"
    if "From" not in form:
        return "From is missing"
    media = int(form.get("NumMedia", "0"))
    if media > MAX_MEDIA:
        return "NumMedia is out of range"
    for name in form:
        found = _MEDIA.fullmatch(name)
        if found is not None and (found[2] != str(int(found[2])) or int(found[2]) >= media):
            return f"{found[1]} beyond NumMedia"
    return None


def status_problem(form: Mapping[str, str], account_sid: str | None) -> str | None:
    """Why the form of a status callback is malformed; None if it is well formed."""
    problem = _common_problem(form, account_sid)
    if problem is not None:
        return problem
    if "MessageSid" not in form or "MessageStatus" not in form:
        return "MessageSid and MessageStatus are required"
    if any(_MEDIA.fullmatch(name) for name in form):
        return "media in a status callback"
    return None
