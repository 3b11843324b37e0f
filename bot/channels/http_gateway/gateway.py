"""A generic HTTP SMS gateway, configured by URL and body templates.

Like RapidPro's "External API" channel: for a local aggregator whose HTTP API no adapter
knows, a deployment writes the request. The URL and body are templates with ``{{to}}``,
``{{to_no_plus}}``, ``{{text}}`` and ``{{from}}``; each value is escaped for where it
lands: URL-encoded in the URL and in a form body, a JSON string literal (quotes included)
in a JSON body — so ``{"phone": {{to}}, "sms": {{text}}}`` is valid JSON whatever the
text holds. Only these names are allowed (a template is not a program). The provider's
message id is read from the JSON answer by a dotted path (``data.0.id``).

Inbound, the aggregator POSTs a form or JSON with configurable field names and a shared
secret in a header (compared in constant time). Delivery reports, as RapidPro's channel
takes them: one URL per outcome (``.../sent``, ``.../delivered``, ``.../failed``), the
message id in the field ``id`` (:data:`STATUS_OUTCOMES`), the same secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote

import aiohttp
from aiohttp import web

from bot.channels.events import EventHandler, InboundSms, StatusEvent
from bot.channels.webhooks import WebhookRejected, event_handler
from bot.core.phones import mask_phone
from bot.outbox.channel import PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
VARIABLES = ("to", "to_no_plus", "text", "from")
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
_WORD = re.compile(r"\w+")
#: the last step of a delivery report's URL → the outbox's status
STATUS_OUTCOMES = {"sent": "sent", "delivered": "delivered", "failed": "failed"}
#: the field of a delivery report naming the message (the id its send returned)
STATUS_ID_FIELD = "id"


@dataclass(frozen=True)
class HttpGatewayConfig:
    send_url: str
    #: empty: a GET (or POST) with everything in the URL
    body_template: str = ""
    method: str = "POST"
    content_type: str = JSON
    #: a whole header line, e.g. ``Authorization: Bearer abc``
    auth_header: str = ""
    from_number: str = ""
    #: dotted path of the message id in the JSON answer; empty: the provider gives none
    id_path: str = ""
    #: inbound: the shared secret and the header carrying it
    inbound_secret: str = ""
    inbound_secret_header: str = "X-Gateway-Secret"
    inbound_from_field: str = "from"
    inbound_text_field: str = "text"
    inbound_to_field: str = "to"
    #: the provider's id of an inbound SMS (its dedupe key); empty: none given
    inbound_id_field: str = "id"
    #: a refusal (4xx) whose HTTP status or a word of whose answer is one of these (lower
    #: case) says the recipient refuses our SMS (a stop list): they are opted out
    optout_codes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in ("send_url", "body_template"):
            placeholders = _PLACEHOLDER.findall(getattr(self, name))
            unknown = {p.strip() for p in placeholders} - set(VARIABLES)
            if unknown:
                raise InvalidSetting(name, f"unknown template variable {sorted(unknown)[0]!r}")
        if self.method not in ("GET", "POST", "PUT"):
            raise InvalidSetting("method", "must be GET, POST or PUT")
        if self.content_type not in (FORM, JSON):
            raise InvalidSetting("content_type", f"must be {JSON} or {FORM}")
        if self.auth_header and ":" not in self.auth_header:
            raise InvalidSetting("auth_header", "must be a header line 'Name: value'")


class InvalidSetting(ValueError):
    """A wrong :class:`HttpGatewayConfig` value; ``field`` names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def render(template: str, values: Mapping[str, str], escape: Callable[[str], str]) -> str:
    """``template`` with each ``{{name}}`` replaced by ``escape(values[name])``."""
    return _PLACEHOLDER.sub(lambda match: escape(values[match.group(1).strip()]), template)


def _url_escape(value: str) -> str:
    return quote(value, safe="")


def _json_escape(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _dig(document: Any, path: str) -> str | None:
    """The value at a dotted path (``data.0.id``) of parsed JSON, as text."""
    for step in path.split("."):
        if isinstance(document, dict):
            document = document.get(step)
        elif isinstance(document, list) and step.isdigit() and int(step) < len(document):
            document = document[int(step)]
        else:
            return None
    return None if document is None or isinstance(document, dict | list) else str(document)


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


class HttpGatewaySender:
    """The ``Sender`` of a templated HTTP API."""

    channel = "sms"

    def __init__(self, config: HttpGatewayConfig, session: aiohttp.ClientSession) -> None:
        self.config = config
        self.session = session
        self.rate_key = f"http:{config.send_url.split('?')[0]}"

    def _request(self, address: str, body: str) -> tuple[str, dict[str, str], str | None]:
        config = self.config
        values = {
            "to": address,
            "to_no_plus": address.lstrip("+"),
            "text": body,
            "from": config.from_number,
        }
        url = render(config.send_url, values, _url_escape)
        headers = {}
        if config.auth_header:
            name, _, value = config.auth_header.partition(":")
            headers[name.strip()] = value.strip()
        data = None
        if config.body_template:
            escape = _json_escape if config.content_type == JSON else _url_escape
            data = render(config.body_template, values, escape)
            headers["Content-Type"] = config.content_type
        return url, headers, data

    async def send(
        self,
        address: str,
        body: str,
        reply_markup: str | None = None,
        media: str | None = None,
    ) -> str | None:
        url, headers, data = self._request(address, body)
        try:
            async with self.session.request(
                self.config.method, url, headers=headers, data=data
            ) as response:
                status = response.status
                answer = await response.text()
                retry_after = _retry_after(response)
        except aiohttp.ClientConnectorError as exc:  # never reached the gateway
            raise TemporaryFailure(f"http gateway: {type(exc).__name__}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:  # the answer was lost
            raise TemporaryFailure(
                f"http gateway: {type(exc).__name__}", unknown_outcome=True
            ) from exc
        if status == 429 or status >= 500:
            raise TemporaryFailure(f"http gateway {status}", retry_after)
        if status >= 400:
            log.info("HTTP gateway refused a message to %s: %s", mask_phone(address), status)
            words = {str(status), *_WORD.findall(answer.lower())}
            raise PermanentFailure(
                f"http gateway {status}: {answer[:200]}",
                unsubscribed=not words.isdisjoint(self.config.optout_codes),
            )
        if not self.config.id_path:
            return None
        try:
            return _dig(json.loads(answer), self.config.id_path)
        except json.JSONDecodeError:
            log.warning("HTTP gateway answered %s without JSON: no message id", status)
            return None

    async def find_sent(self, address: str, body: str, since: datetime) -> list[str]:
        """A generic API offers no list of what it sent."""
        return []


def _fields_of(
    body: bytes, headers: Mapping[str, str], config: HttpGatewayConfig
) -> dict[str, Any]:
    """The posted fields, once the shared secret is checked; raises ``WebhookRejected``."""
    given = headers.get(config.inbound_secret_header, "")
    if not config.inbound_secret or not hmac.compare_digest(
        given.encode(), config.inbound_secret.encode()
    ):
        raise WebhookRejected("missing or wrong secret", 401)
    return _fields(body, headers.get("Content-Type", ""))


def _field(fields: Mapping[str, Any], name: str, *, required: bool, drop_nul: bool = False) -> str:
    """A text field (a number is taken as its digits). A NUL is dropped from the message
    (``drop_nul``) and refused anywhere else: PostgreSQL stores none, so the event could
    never be recorded."""
    value = fields.get(name)
    if value is None and not required:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or (required and not value.strip()):
        raise WebhookRejected(f"field {name!r} must be a non-empty string", 400)
    if drop_nul:
        return value.replace("\x00", "")
    if "\x00" in value:
        raise WebhookRejected(f"field {name!r} holds a NUL", 400)
    return value


def parse_status(
    body: bytes, headers: Mapping[str, str], config: HttpGatewayConfig, outcome: str
) -> StatusEvent:
    """A delivery report POSTed to the URL of ``outcome``; raises ``WebhookRejected``."""
    message_id = _field(_fields_of(body, headers, config), STATUS_ID_FIELD, required=True)
    return StatusEvent(
        provider_id=message_id,
        provider_status=outcome,
        status=STATUS_OUTCOMES[outcome],
        error="http gateway: failed" if outcome == "failed" else None,
        dedupe_key=f"http:dlr:{message_id}:{outcome}",
    )


def parse_inbound(body: bytes, headers: Mapping[str, str], config: HttpGatewayConfig) -> InboundSms:
    """The resident's SMS an aggregator POSTed; raises ``WebhookRejected``."""
    fields = _fields_of(body, headers, config)

    sender = _field(fields, config.inbound_from_field, required=True)
    message = _field(fields, config.inbound_text_field, required=False, drop_nul=True)
    provider_id = (
        _field(fields, config.inbound_id_field, required=False) if config.inbound_id_field else ""
    )
    digest = hashlib.sha256(f"{sender}\n{message}".encode()).hexdigest()[:16]
    return InboundSms(
        sender=sender,
        text=message,
        to=_field(fields, config.inbound_to_field, required=False),
        dedupe_key=f"http:{provider_id}" if provider_id else f"http:{sender}:{digest}",
        keyed_by_content=not provider_id,
    )


def _fields(body: bytes, content_type: str) -> dict[str, Any]:
    try:
        if content_type.split(";")[0].strip() == JSON:
            document = json.loads(body)
            if not isinstance(document, dict):
                raise WebhookRejected("JSON body must be an object", 400)
            return document
        return dict(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body)))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookRejected("unreadable body", 400) from exc


def inbound_handler(
    config: HttpGatewayConfig, on_event: EventHandler
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler of the URL the aggregator POSTs residents' SMS to."""
    return event_handler("HTTP gateway", lambda body, headers: parse_inbound(
        body, headers, config), on_event)  # fmt: skip


def status_handler(
    config: HttpGatewayConfig, outcome: str, on_event: EventHandler
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler of the URL the aggregator POSTs ``outcome`` reports to."""
    return event_handler("HTTP gateway", lambda body, headers: parse_status(
        body, headers, config, outcome), on_event)  # fmt: skip
