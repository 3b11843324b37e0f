"""An SMPP 3.4 ESME (transceiver) that sends the outbox's SMS and receives residents' SMS.

One TCP session at a time, kept by a background task: connect, ``bind_transceiver``,
then read PDUs until the link ends; ``enquire_link`` every ``enquire_link_interval``
seconds (an unanswered one ends the link); after a failure, reconnect with exponential
backoff. :meth:`SmppChannel.send` waits for a bound session (up to ``connect_timeout``).

Outbound limits: at most ``window`` ``submit_sm`` unanswered at once, and ``tps`` per
second (spaced by the outbox's :class:`~bot.outbox.limits.RateLimiter`). The SMSC's
answers map onto the outbox's failures: throttled or queue full → retry after
``throttle_retry_after``; an invalid number → never retry; a session lost while a submit
waited for its answer → retry, outcome unknown (SMPP cannot list what was sent, so
:meth:`find_sent` has nothing to offer and the outbox sends again).

A long text is several ``submit_sm``; :meth:`send` returns the SMSC's id of the first part,
and receipts of later parts are reported under that id while this process remembers them.
A part that fails after earlier ones went out fails the whole send as of unknown outcome:
the outbox sends the text again, whole (the resident may see the first parts twice).

Inbound ``deliver_sm`` — a resident's SMS (parts joined) or a delivery receipt — goes to
the ``on_event`` handler, and the SMSC gets its ``deliver_sm_resp`` only after the handler
returned: an event the runtime did not record is redelivered, never lost. A handler that
raises makes the answer ``ESME_RX_T_APPN`` (temporary), so the SMSC tries again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from dataclasses import dataclass
from datetime import datetime

from bot.channels.events import EventHandler
from bot.channels.smpp import pdu
from bot.channels.smpp.inbound import Inbound
from bot.channels.smpp.text import encode_text
from bot.core.phones import mask_phone
from bot.outbox.channel import PermanentFailure, TemporaryFailure
from bot.outbox.limits import RateLimiter

log = logging.getLogger(__name__)

TEMPORARY_STATUSES = {
    pdu.ESME_RINVBNDSTS,
    pdu.ESME_RTHROTTLED,
    pdu.ESME_RMSGQFUL,
    pdu.ESME_RSYSERR,
    pdu.ESME_RX_T_APPN,
}
INVALID_NUMBER_STATUSES = {pdu.ESME_RINVDSTADR, pdu.ESME_RINVDSTTON, pdu.ESME_RINVDSTNPI}


@dataclass(frozen=True)
class SmppConfig:
    host: str
    port: int
    system_id: str
    password: str
    #: our number or alphanumeric sender name
    source_addr: str
    system_type: str = ""
    #: most ``submit_sm`` waiting for their answer at once
    window: int = 10
    #: ``submit_sm`` per second
    tps: float = 10.0
    enquire_link_interval: float = 30.0
    #: how long an answer may take before the session is taken for dead
    response_timeout: float = 10.0
    #: how long :meth:`SmppChannel.send` waits for a bound session
    connect_timeout: float = 10.0
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0
    #: the retry delay after ESME_RTHROTTLED / ESME_RMSGQFUL (SMPP gives none)
    throttle_retry_after: float = 1.0
    #: send long texts as numbered independent messages ("1/3 ...") instead of joined parts
    number_parts: bool = False
    #: what says the recipient refuses our SMS (a stop list; ask the operator), in lower
    #: case: ``submit_sm_resp`` statuses as ``0x401`` and receipts' ``err:`` codes
    optout_codes: frozenset[str] = frozenset()


class _SessionLost(Exception):
    """The TCP session ended while a request waited for its answer."""


class _Session:
    """One bound TCP session: writes requests and matches answers by sequence number."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.timeout = timeout
        self.pending: dict[int, asyncio.Future[pdu.Pdu]] = {}
        self._sequence = itertools.count(1)

    async def request(self, name: str, **fields: object) -> pdu.Pdu:
        sequence = next(self._sequence)
        answer: asyncio.Future[pdu.Pdu] = asyncio.get_running_loop().create_future()
        self.pending[sequence] = answer
        try:
            self.writer.write(pdu.build(name, sequence, **fields))
            await self.writer.drain()
            return await asyncio.wait_for(answer, self.timeout)
        except (ConnectionError, TimeoutError) as exc:
            self.close()
            raise _SessionLost(f"{name}: {type(exc).__name__}") from exc
        finally:
            self.pending.pop(sequence, None)

    async def answer(self, name: str, sequence: int, **fields: object) -> None:
        self.writer.write(pdu.build(name, sequence, **fields))
        await self.writer.drain()

    def resolve(self, answer: pdu.Pdu) -> None:
        waiting = self.pending.get(answer.sequence)
        if waiting is not None and not waiting.done():
            waiting.set_result(answer)

    def close(self) -> None:
        for waiting in self.pending.values():
            if not waiting.done():
                waiting.set_exception(_SessionLost("connection lost"))
        self.writer.close()


def _international(address: str) -> dict[str, object]:
    """Destination fields of an E.164 number (``+996...`` → TON 1, NPI 1, digits)."""
    return {"dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": address.lstrip("+")}


def _source_fields(source: str) -> dict[str, object]:
    """A sender name is alphanumeric (TON 5, NPI 0), a number international (TON 1, NPI 1)."""
    digits = source.lstrip("+")
    if digits.isdigit():
        return {"source_addr_ton": 1, "source_addr_npi": 1, "source_addr": digits}
    return {"source_addr_ton": 5, "source_addr_npi": 0, "source_addr": source}


class SmppChannel:
    """The ``Sender`` of an SMPP account, and the receiver of its ``deliver_sm``."""

    channel = "sms"

    def __init__(self, config: SmppConfig, on_event: EventHandler) -> None:
        self.config = config
        self.rate_key = f"smpp:{config.system_id}@{config.host}"
        self._on_event = on_event
        self._session: _Session | None = None
        self._bound = asyncio.Event()
        self._window = asyncio.Semaphore(config.window)
        self._pacing = asyncio.Lock()
        loop = asyncio.get_running_loop()
        self._limiter = RateLimiter(config.tps, clock=loop.time)
        self._references = itertools.count()
        self._inbound = Inbound(config.optout_codes)
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        #: why the last bind or connection failed (for the failure of a waiting send)
        self.last_error = ""

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._keep_bound(), name="smpp-session")

    @property
    def bound(self) -> bool:
        """Whether a session is bound now: SMS can go out and come in (``/healthz``)."""
        return self._bound.is_set()

    async def wait_bound(self, within: float) -> bool:
        """Whether a session is bound, waiting ``within`` seconds for one."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._bound.wait(), within)
        return self.bound

    async def close(self) -> None:
        """Unbind politely and stop reconnecting."""
        task, self._task = self._task, None
        self._closing = True
        session = self._session
        if session is not None:
            with contextlib.suppress(_SessionLost):
                await asyncio.wait_for(session.request("unbind"), 2)
            session.close()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _keep_bound(self) -> None:
        delay = self.config.reconnect_min
        while True:
            try:
                await self._run_session()
                delay = self.config.reconnect_min
            except (OSError, _SessionLost, pdu.ProtocolError, asyncio.IncompleteReadError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                if self._closing:
                    return
                log.warning("SMPP session to %s ended: %s", self.config.host, self.last_error)
            except Exception as exc:  # a defect must not stop the channel for good
                self.last_error = type(exc).__name__
                log.exception("SMPP session to %s failed", self.config.host)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.config.reconnect_max)

    async def _run_session(self) -> None:
        """One TCP session, from connect to its end; sends use it only once it is bound."""
        config = self.config
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(config.host, config.port), config.response_timeout
        )
        session = _Session(reader, writer, config.response_timeout)
        inbox: asyncio.Queue[pdu.Pdu] = asyncio.Queue()
        reading = asyncio.create_task(self._read(session, inbox))
        handling = asyncio.create_task(self._handle_inbox(session, inbox))
        try:
            bound = await session.request(
                "bind_transceiver",
                system_id=config.system_id,
                password=config.password,
                system_type=config.system_type,
                interface_version=0x34,
                addr_ton=0,
                addr_npi=0,
                address_range="",
            )
            if bound.status != pdu.ESME_ROK:
                raise _SessionLost(f"bind refused: 0x{bound.status:02X}")
            self.last_error = ""
            self._session = session
            self._bound.set()
            log.info("SMPP bound to %s:%s as %s", config.host, config.port, config.system_id)
            await self._enquire_links(session, reading)
        finally:
            self._bound.clear()
            if self._session is session:
                self._session = None
            session.close()
            for task in (reading, handling):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _enquire_links(self, session: _Session, reading: asyncio.Task[None]) -> None:
        """Until the reader stops: an ``enquire_link`` each interval (no answer → lost)."""
        while not reading.done():
            done, _ = await asyncio.wait({reading}, timeout=self.config.enquire_link_interval)
            if not done:
                await session.request("enquire_link")
        reading.result()  # the reader's failure, if any, ends the session

    async def _read(self, session: _Session, inbox: asyncio.Queue[pdu.Pdu]) -> None:
        """Answers go to their requests at once; ``deliver_sm`` waits in ``inbox`` for the
        handler, so that a slow handler holds up neither sends nor ``enquire_link``."""
        while True:
            received = await pdu.read_pdu(session.reader)
            name = received.command
            if name.endswith("_resp") or name == "generic_nack":
                session.resolve(received)
            elif name == "enquire_link":
                await session.answer("enquire_link_resp", received.sequence)
            elif name == "deliver_sm":
                inbox.put_nowait(received)
            elif name == "unbind":
                await session.answer("unbind_resp", received.sequence)
                raise _SessionLost("the SMSC unbound")
            else:
                await session.answer(
                    "generic_nack", received.sequence, status=0x03
                )  # ESME_RINVCMDID

    async def _handle_inbox(self, session: _Session, inbox: asyncio.Queue[pdu.Pdu]) -> None:
        """Each ``deliver_sm`` in arrival order: hand it on, then answer it."""
        while True:
            received = await inbox.get()
            status = await self._deliver(received)
            await session.answer("deliver_sm_resp", received.sequence, status=status)

    # -- outbound ----------------------------------------------------------------------

    async def send(
        self,
        address: str,
        body: str,
        reply_markup: str | None = None,
        media: str | None = None,
    ) -> str | None:
        try:
            encoded = encode_text(
                body, reference=next(self._references) % 256, number_parts=self.config.number_parts
            )
        except ValueError as exc:
            raise PermanentFailure(f"smpp: {exc}") from exc
        first_id: str | None = None
        for number, short_message in enumerate(encoded.parts):
            message_id = await self._submit(
                address,
                data_coding=encoded.data_coding,
                esm_class=encoded.esm_class,
                short_message=short_message,
                partly_sent=number > 0,
            )
            if first_id is None:
                first_id = message_id
            else:
                self._inbound.remember_part(message_id, first_id)
        return first_id

    async def _submit(
        self, address: str, *, data_coding: int, esm_class: int, short_message: bytes,
        partly_sent: bool,
    ) -> str:  # fmt: skip
        if not await self.wait_bound(self.config.connect_timeout):
            raise TemporaryFailure(
                f"smpp: not bound ({self.last_error or 'connecting'})", unknown_outcome=partly_sent
            )
        async with self._window:
            # one reservation at a time, each made when the previous one's slot came: the
            # limiter then sees what completed meanwhile (reserved ahead, sends woken
            # together after a stall would burst)
            async with self._pacing:
                await asyncio.sleep(self._limiter.reserve(self.rate_key))
            session = self._session
            if session is None:
                raise TemporaryFailure("smpp: connection lost", unknown_outcome=partly_sent)
            try:
                answer = await session.request(
                    "submit_sm",
                    **_source_fields(self.config.source_addr),
                    **_international(address),
                    esm_class=esm_class,
                    registered_delivery=1,
                    data_coding=data_coding,
                    short_message=short_message,
                )
            except _SessionLost as exc:
                raise TemporaryFailure(f"smpp: {exc}", unknown_outcome=True) from exc
            finally:
                self._limiter.completed(self.rate_key)
        status = answer.status
        if status == pdu.ESME_ROK:
            return pdu.text_field(answer.message_id)
        reason = f"smpp 0x{status:02X}"
        if f"0x{status:02x}" in self.config.optout_codes:
            log.info("SMSC says %s refuses our SMS: opting out", mask_phone(address))
            raise PermanentFailure(f"{reason}: recipient refuses", unsubscribed=True)
        if status in (pdu.ESME_RTHROTTLED, pdu.ESME_RMSGQFUL):
            self._limiter.pause(self.config.throttle_retry_after)
        if status in TEMPORARY_STATUSES:
            raise TemporaryFailure(
                reason, self.config.throttle_retry_after, unknown_outcome=partly_sent
            )
        if status in INVALID_NUMBER_STATUSES:
            log.info("SMSC refused %s as a destination", mask_phone(address))
            raise PermanentFailure(f"{reason}: invalid number")
        raise PermanentFailure(reason)

    async def find_sent(self, address: str, body: str, since: datetime) -> list[str]:
        """SMPP cannot list what was sent."""
        return []

    # -- inbound -----------------------------------------------------------------------

    async def _deliver(self, received: pdu.Pdu) -> int:
        """Hand a ``deliver_sm`` on; the ``command_status`` of its answer."""
        try:
            event = self._inbound.event_of(received)
            if event is not None:
                await self._on_event(event)
        except Exception:
            log.exception("deliver_sm not recorded: the SMSC will deliver it again")
            return pdu.ESME_RX_T_APPN
        return pdu.ESME_ROK
