"""Sending SMS through the Twilio REST API (async client), errors mapped to retry or give up."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.outbox.channel import PermanentFailure, TemporaryFailure

#: Twilio error codes: the recipient opted out (STOP) / the number cannot receive SMS
UNSUBSCRIBED = 21610
INVALID_NUMBER_CODES = {21211, 21212, 21214, 21408, 21612, 21614}
#: how many of a number's latest messages :meth:`TwilioSender.find_sent` looks through
FIND_SENT_PAGE = 50
#: our clock and Twilio's may differ by this much
CLOCK_SKEW = timedelta(minutes=2)

log = logging.getLogger(__name__)


def twilio_client(account_sid: str, auth_token: str, api_url: str | None = None) -> Client:
    """An async-capable client; ``api_url`` points it elsewhere (tests, a proxy)."""
    client = Client(account_sid, auth_token, http_client=AsyncTwilioHttpClient())
    if api_url:
        client.api.base_url = api_url.rstrip("/")
    return client


def _response_status(exc: TwilioException) -> int:
    """The HTTP status of the response a ``TwilioException`` carries (0 if none)."""
    response = exc.args[1] if len(exc.args) > 1 else None
    return int(getattr(response, "status_code", 0) or 0)


class TwilioSender:
    channel = "sms"

    def __init__(
        self,
        client: Client,
        *,
        from_number: str | None,
        messaging_service_sid: str | None,
        status_callback: str | None,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("Twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        self.client = client
        self._origin = (
            {"messaging_service_sid": messaging_service_sid}
            if messaging_service_sid
            else {"from_": from_number}
        )
        self._from_number = from_number
        self._service = messaging_service_sid
        self.rate_key = f"sms:{messaging_service_sid or from_number}"
        self._callback = {"status_callback": status_callback} if status_callback else {}

    async def send(
        self,
        address: str,
        body: str,
        reply_markup: str | None = None,
        media: str | None = None,
    ) -> str | None:
        try:
            message = await self.client.messages.create_async(
                to=address, body=body, **self._origin, **self._callback
            )
        except TwilioRestException as exc:
            if exc.code == UNSUBSCRIBED:
                raise PermanentFailure("twilio 21610: unsubscribed", unsubscribed=True) from exc
            if exc.status == 429 or exc.status >= 500:
                raise TemporaryFailure(f"twilio {exc.status}: {exc.code}") from exc
            if exc.code in INVALID_NUMBER_CODES:
                raise PermanentFailure(f"twilio {exc.code}: invalid number") from exc
            raise PermanentFailure(f"twilio {exc.status}: {exc.code}") from exc
        except aiohttp.ClientConnectorError as exc:  # never reached Twilio
            raise TemporaryFailure(f"twilio: {type(exc).__name__}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:  # the answer was lost
            raise TemporaryFailure(f"twilio: {type(exc).__name__}", unknown_outcome=True) from exc
        return message.sid

    async def find_sent(self, address: str, body: str, since: datetime) -> list[str]:
        """Our messages of ``body`` to ``address`` created since ``since`` (less the
        clock skew), from the number's latest ones in Twilio's Messages list."""
        try:
            latest = await self.client.messages.list_async(
                to=address, limit=FIND_SENT_PAGE, page_size=FIND_SENT_PAGE
            )
        except TwilioException as exc:  # a page that did not load: no code, a response
            status = getattr(exc, "status", None) or _response_status(exc)
            if status == 429 or status >= 500:
                raise TemporaryFailure(f"twilio {status}: listing messages") from exc
            log.warning("cannot list Twilio messages (HTTP %s): sending again", status)
            return []
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TemporaryFailure(f"twilio: {type(exc).__name__}") from exc
        earliest = since - CLOCK_SKEW
        found = [
            m
            for m in latest
            if m.body == body
            and m.date_created is not None
            and m.date_created >= earliest
            and self._ours(m.from_, m.messaging_service_sid)
        ]
        return [m.sid for m in sorted(found, key=lambda m: m.date_created)]

    def _ours(self, from_number: str | None, service: str | None) -> bool:
        """Sent the way this sender sends (a number of a messaging service sends from
        the service's numbers, so only the service says whose it is)."""
        return service == self._service if self._service else from_number == self._from_number

    async def close(self) -> None:
        await self.client.http_client.close()
