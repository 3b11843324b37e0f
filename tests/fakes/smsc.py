"""An SMSC simulator: a real asyncio TCP server on 127.0.0.1 speaking SMPP 3.4 PDUs.

It accepts ``bind_transceiver`` (checking system_id and password), answers ``submit_sm``
with message ids (and a delivery receipt when asked), answers ``enquire_link``, and can be
told to throttle the next submits, to enforce a throughput limit, to drop the connection
on the next submit (before answering it), and to deliver a resident's SMS (in parts with a
UDH when long) or a receipt::

    async with FakeSMSC() as smsc:
        channel = SmppChannel(smsc.config(), on_event=events.append)
        ...
        await smsc.deliver_sms("+996555123456", "Салам")
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from bot.channels.smpp import SmppConfig, pdu
from bot.channels.smpp.receipts import ESM_DELIVERY_RECEIPT
from bot.channels.smpp.text import encode_text


@dataclass
class Submit:
    """A ``submit_sm`` the SMSC accepted or refused, as received."""

    source_addr: str
    destination_addr: str
    dest_addr_ton: int
    data_coding: int
    esm_class: int
    short_message: bytes
    registered_delivery: int
    status: int
    message_id: str
    #: when it was answered (the event loop's clock)
    at: float


@dataclass
class _Link:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    bound: bool = False
    pending: dict[int, asyncio.Future[Any]] = field(default_factory=dict)


class FakeSMSC:
    def __init__(
        self,
        system_id: str = "civic",
        password: str = "secret",
        *,
        tps_limit: int | None = None,
        receipts: bool = False,
    ) -> None:
        self.system_id = system_id
        self.password = password
        #: most submits accepted in any one second; more are answered ESME_RTHROTTLED
        self.tps_limit = tps_limit
        #: send a DELIVRD receipt after each accepted submit
        self.receipts = receipts
        self.submits: list[Submit] = []
        self.binds: list[tuple[str, str, bool]] = []
        self.enquire_links = 0
        self.connections = 0
        #: the command_status of each deliver_sm_resp the ESME sent
        self.deliver_answers: list[int] = []
        #: seconds before a submit_sm is answered (to see the ESME's window)
        self.answer_delay = 0.0
        #: most submits received and not yet answered at any one time
        self.max_outstanding = 0
        #: ignore enquire_link (a link that died without closing)
        self.silent = False
        self._outstanding = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._refuse: tuple[int, int] = (0, pdu.ESME_RTHROTTLED)
        self._changed = asyncio.Condition()
        self._drop_on_submit = 0
        self._accepted_at: deque[float] = deque()
        self._ids = itertools.count(0x1000)
        self._sequence = itertools.count(1)
        self._links: list[_Link] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def config(self, **overrides: Any) -> SmppConfig:
        """Settings of an ESME that binds here (fast timers for tests)."""
        settings: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "system_id": self.system_id,
            "password": self.password,
            "source_addr": "AyilBudget",
            "reconnect_min": 0.01,
            "reconnect_max": 0.05,
            "connect_timeout": 2.0,
            "response_timeout": 2.0,
            "tps": 1000.0,
        }
        settings.update(overrides)
        return SmppConfig(**settings)

    # -- what tests tell it ------------------------------------------------------------

    def refuse_next(self, count: int, status: int = pdu.ESME_RTHROTTLED) -> None:
        """Answer the next ``count`` submits with ``status`` (default ESME_RTHROTTLED)."""
        self._refuse = (count, status)

    def drop_on_next_submit(self) -> None:
        """Close the connection when the next submit arrives, without answering it."""
        self._drop_on_submit = 1

    def drop(self) -> None:
        """Close every connection now."""
        for link in self._links:
            link.writer.close()
            for waiting in link.pending.values():
                if not waiting.done():
                    waiting.cancel()
        self._links.clear()

    @property
    def bound_links(self) -> int:
        return sum(link.bound for link in self._links)

    async def until(self, condition: Callable[[], bool], within: float = 5.0) -> None:
        """Wait (at most ``within`` seconds) until ``condition`` holds after some PDU."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(condition)

    async def wait_bound(self, count: int = 1) -> None:
        """Until ``count`` binds succeeded since the start and a link is bound."""
        await self.until(lambda: sum(ok for *_, ok in self.binds) >= count and self.bound_links)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def deliver_sms(
        self, sender: str, text: str, *, to: str = "7070", reference: int = 42
    ) -> list[int]:
        """A resident's SMS, in parts with a UDH when long; the ESME's answer to each."""
        encoded = encode_text(text, reference=reference)
        answers = []
        for short_message in encoded.parts:
            answers.append(
                await self.deliver(
                    source_addr_ton=1,
                    source_addr_npi=1,
                    source_addr=sender.lstrip("+"),
                    destination_addr=to,
                    esm_class=encoded.esm_class,
                    data_coding=encoded.data_coding,
                    short_message=short_message,
                )
            )
        return answers

    async def deliver_receipt(
        self, message_id: str, stat: str = "DELIVRD", err: str = "000", *, tlv: bool = True
    ) -> int:
        """A delivery receipt for ``message_id`` (also in the TLV when ``tlv``)."""
        text = (
            f"id:{message_id} sub:001 dlvrd:001 submit date:2611250400 "
            f"done date:2611250401 stat:{stat} err:{err} text:"
        )
        extra = {"receipted_message_id": message_id} if tlv else {}
        return await self.deliver(
            source_addr="996555000000",
            destination_addr="AyilBudget",
            esm_class=ESM_DELIVERY_RECEIPT,
            short_message=text.encode("ascii"),
            **extra,
        )

    async def deliver(self, **fields: Any) -> int:
        """Send a ``deliver_sm`` on the bound link; the ``command_status`` of its answer."""
        status = await self.request("deliver_sm", **fields)
        self.deliver_answers.append(status)
        return status

    async def request(self, name: str, **fields: Any) -> int:
        """Send PDU ``name`` on the bound link; the ``command_status`` of its answer."""
        link = next(link for link in self._links if link.bound)
        sequence = next(self._sequence)
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        link.pending[sequence] = answer
        link.writer.write(pdu.build(name, sequence, **fields))
        await link.writer.drain()
        async with asyncio.timeout(5):
            return int(await answer)

    # -- the protocol ------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = _Link(reader, writer)
        self._links.append(link)
        self.connections += 1
        await self._notify()
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, pdu.ProtocolError):
            while True:
                received = await pdu.read_pdu(reader)
                keep = await self._handle(link, received)
                await self._notify()
                if not keep:
                    break
        writer.close()
        if link in self._links:
            self._links.remove(link)

    async def _handle(self, link: _Link, received: pdu.Pdu) -> bool:
        """Answer one PDU; False to close the connection."""
        name, sequence = received.command, received.sequence
        reply = link.writer.write
        if name == "bind_transceiver":
            ok = (
                pdu.text_field(received.system_id) == self.system_id
                and pdu.text_field(received.password) == self.password
            )
            self.binds.append(
                (pdu.text_field(received.system_id), pdu.text_field(received.password), ok)
            )
            status = pdu.ESME_ROK if ok else pdu.ESME_RINVPASWD
            reply(pdu.build("bind_transceiver_resp", sequence, status=status, system_id="FAKE"))
            link.bound = ok
        elif name == "enquire_link":
            if self.silent:
                return True
            self.enquire_links += 1
            reply(pdu.build("enquire_link_resp", sequence))
        elif name == "unbind":
            reply(pdu.build("unbind_resp", sequence))
            await link.writer.drain()
            return False
        elif name in ("deliver_sm_resp", "enquire_link_resp", "unbind_resp", "generic_nack"):
            waiting = link.pending.pop(sequence, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(received.status)
        elif name == "submit_sm":
            if not link.bound:
                reply(pdu.build("submit_sm_resp", sequence, status=0x04))  # ESME_RINVBNDSTS
            elif self._drop_on_submit:
                self._drop_on_submit = 0
                return False
            else:
                self._spawn(self._submit(link, received))
        else:
            reply(pdu.build("generic_nack", sequence, status=0x03))
        await link.writer.drain()
        return True

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _submit(self, link: _Link, received: pdu.Pdu) -> None:
        self._outstanding += 1
        self.max_outstanding = max(self.max_outstanding, self._outstanding)
        try:
            if self.answer_delay:
                await asyncio.sleep(self.answer_delay)
            await self._answer_submit(link, received)
        finally:
            self._outstanding -= 1

    async def _answer_submit(self, link: _Link, received: pdu.Pdu) -> None:
        status, message_id = pdu.ESME_ROK, ""
        now = asyncio.get_running_loop().time()
        while self._accepted_at and self._accepted_at[0] <= now - 1.0:
            self._accepted_at.popleft()
        destination = pdu.text_field(received.destination_addr)
        if self._refuse[0]:
            self._refuse = (self._refuse[0] - 1, self._refuse[1])
            status = self._refuse[1]
        elif self.tps_limit is not None and len(self._accepted_at) >= self.tps_limit:
            status = pdu.ESME_RTHROTTLED
        elif not destination.isdigit() or len(destination) < 8:
            status = pdu.ESME_RINVDSTADR
        else:
            message_id = f"{next(self._ids):X}"
            self._accepted_at.append(now)
        self.submits.append(
            Submit(
                source_addr=pdu.text_field(received.source_addr),
                destination_addr=destination,
                dest_addr_ton=received.dest_addr_ton,
                data_coding=received.data_coding,
                esm_class=received.esm_class,
                short_message=bytes(received.short_message or b""),
                registered_delivery=received.registered_delivery,
                status=status,
                message_id=message_id,
                at=now,
            )
        )
        if link.writer.is_closing():
            return
        link.writer.write(
            pdu.build("submit_sm_resp", received.sequence, status=status, message_id=message_id)
        )
        await link.writer.drain()
        if message_id and self.receipts and received.registered_delivery:
            self._spawn(self.deliver_receipt(message_id))

    @property
    def accepted(self) -> list[Submit]:
        return [s for s in self.submits if s.status == pdu.ESME_ROK]
