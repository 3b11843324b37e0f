"""Twilio's webhooks: inbound SMS (``POST /sms/twilio``, answered with TwiML) and delivery
status callbacks (``POST /sms/twilio/status``).

Every request is authenticated first (``X-Twilio-Signature``): a forged one gets 403 and
changes nothing. A signed form is then checked parameter by parameter
(:mod:`bot.channels.twilio.form`: a signed request can be re-cut and keep its signature),
and input that is no form or malformed gets 400. An SMS is handled and recorded in one
transaction by the runtime (:func:`bot.runtime.web.handle_sms`); a duplicate delivery is
answered from the record.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape

from aiohttp import web
from twilio.request_validator import RequestValidator

from bot.channels.twilio import form as twilio_form
from bot.channels.twilio.sender import UNSUBSCRIBED
from bot.core.phones import sender_phone
from bot.outbox import status as delivery_status
from bot.runtime.inbound import Recorded, answer_once
from bot.runtime.web import CTX, WebContext, handle_sms

log = logging.getLogger(__name__)

#: the channel's name: its key in ``WebContext.channels``
NAME = "twilio"


@dataclass(frozen=True)
class TwilioChannel:
    """Twilio's state in the web server's context (``WebContext.channels[NAME]``)."""

    #: checks ``X-Twilio-Signature`` with our auth token
    validator: RequestValidator
    #: our Twilio account: a request naming another is refused (None: any well-formed one)
    account_sid: str | None = None


def attach(ctx: WebContext, auth_token: str, account_sid: str | None) -> TwilioChannel:
    """Have the webhooks of ``ctx`` take the requests Twilio signs with ``auth_token``
    (until then every Twilio request is refused 403)."""
    channel = TwilioChannel(RequestValidator(auth_token), account_sid)
    ctx.channels[NAME] = channel
    return channel


def channel_of(ctx: WebContext) -> TwilioChannel | None:
    channel = ctx.channels.get(NAME)
    return channel if isinstance(channel, TwilioChannel) else None


#: Twilio's message statuses → the outbox's
TWILIO_STATUS = {
    "accepted": "sent",
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}


async def _signed_form(
    request: web.Request, problem: Callable[[Mapping[str, str], str | None], str | None]
) -> dict[str, str]:
    """The form of a Twilio request whose signature is right and whose every parameter
    has its shape (``problem``: :mod:`bot.channels.twilio.form`). A missing or wrong signature is
    answered 403; a body that is no form (not UTF-8, a name twice) or a signed form that
    is malformed (re-cut: see :mod:`bot.channels.twilio.form`), 400: nothing is done with either."""
    ctx = request.app[CTX]
    twilio = channel_of(ctx)
    signature = request.headers.get("X-Twilio-Signature")
    if twilio is None or not signature:
        log.warning("Twilio request refused: missing signature")
        raise web.HTTPForbidden(text="signature")
    try:
        posted = await request.post()
    except (UnicodeDecodeError, ValueError):
        raise web.HTTPBadRequest(text="not a form") from None
    form = {k: v for k, v in posted.items() if isinstance(v, str)}
    if len(form) != len(posted):
        raise web.HTTPBadRequest(text="not a form")
    base = (ctx.public_base_url or f"{request.scheme}://{request.host}").rstrip("/")
    if not _signature_ok(twilio.validator, base + request.path_qs, form, signature):
        log.warning("Twilio request refused: wrong signature")
        raise web.HTTPForbidden(text="signature")
    why = problem(form, twilio.account_sid)
    if why is not None:
        log.warning("Twilio request refused, signed but malformed: %s", why)
        raise web.HTTPBadRequest(text="malformed")
    return form


def _signature_ok(
    validator: RequestValidator, url: str, form: dict[str, str], signature: str
) -> bool:
    """Twilio's check, cheapest case first: the URL exactly as configured (what Twilio
    signs). Only if that fails does the library's ``validate`` also try the URL with and
    without an explicit default port (two more HMACs)."""
    expected = validator.compute_signature(url, form)
    if hmac.compare_digest(expected.encode(), signature.encode()):
        return True
    return bool(validator.validate(url, form, signature))


_XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
#: characters XML 1.0 cannot carry, even escaped (control characters a reply may echo)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _twiml(text: str | None) -> web.Response:
    """``<Response><Message>text</Message></Response>``, as twilio's ``MessagingResponse``
    writes it (the same bytes, without building an element tree per request), minus
    the characters that would make it invalid XML."""
    text = _NOT_XML.sub("", text) if text else text
    body = f"<Response><Message>{escape(text)}</Message></Response>" if text else "<Response />"
    return web.Response(text=_XML_HEAD + body, content_type="application/xml")


async def sms_inbound(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    form = await _signed_form(request, twilio_form.inbound_problem)
    sid = form.get("MessageSid") or form["SmsSid"]
    phone = sender_phone(form["From"])
    body = form.get("Body", "")
    taken = await answer_once(
        ctx, phone, lambda: handle_sms(ctx, sid, phone, body), channel="sms", provider_id=sid
    )
    return _twiml(taken.reply if isinstance(taken, Recorded) else taken)


async def sms_status(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    form = await _signed_form(request, twilio_form.status_problem)
    sid, status = form["MessageSid"], form["MessageStatus"]
    error = form.get("ErrorCode")
    await ctx.batches.run(
        sid,
        lambda: delivery_status.apply_status(
            ctx.repos,
            "sms",
            sid,
            TWILIO_STATUS.get(status),
            f"twilio {error}" if error else None,
            unsubscribed=error == str(UNSUBSCRIBED),
            now=ctx.clock.now(),
        ),
    )
    return web.Response(status=204)


#: the routes the composition root adds to the web server
ROUTES = (
    web.post("/sms/twilio", sms_inbound),
    web.post("/sms/twilio/status", sms_status),
)
