"""A gateway's events into the runtime (bot/channels/gateway_events.py), on a controllable
clock: the SMPP channel bound to the SMSC simulator on 127.0.0.1, the database real (SQLite,
and PostgreSQL with TEST_POSTGRES_URL). ``tests/test_run_gateways.py`` runs the same path
in a ``civic-bot run`` process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.channels.gateway_events import GatewayEvents
from bot.channels.smpp import SmppChannel, pdu
from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import broadcast, demo_data
from bot.outbox.worker import ChannelLimit, OutboxWorker
from bot.runtime.web import WebContext
from storage.models import Municipality, OutboxDraft, OutboxMessage
from storage.repos import Repos
from tests.conftest import FakeClock
from tests.fakes.smsc import FakeSMSC

PHONE = demo_data.RESIDENT_PHONE
#: the operator's codes for "this subscriber refuses our SMS" (SMS_OPTOUT_CODES)
REFUSES_STATUS = 0x401
REFUSES_ERR = "045"


@pytest.fixture
async def smsc() -> AsyncIterator[FakeSMSC]:
    async with FakeSMSC() as fake:
        yield fake


@pytest.fixture
async def channel(
    repos: Repos, demo: Municipality, clock: FakeClock, renderer: Renderer, smsc: FakeSMSC
) -> AsyncIterator[SmppChannel]:
    ctx = WebContext(
        repos=repos, renderer=renderer, clock=clock, municipality=demo, sms_gateway="smpp"
    )
    codes = frozenset({f"0x{REFUSES_STATUS:x}", REFUSES_ERR})
    smpp = SmppChannel(smsc.config(optout_codes=codes), on_event=GatewayEvents(ctx))
    smpp.start()
    await smsc.wait_bound()
    yield smpp
    await smpp.close()


@pytest.fixture
def events(channel: SmppChannel) -> None:
    """The SMPP channel bound, its events into the runtime."""


async def replies(repos: Repos) -> int:
    return int(
        await repos.db.fetchval(
            "SELECT COUNT(*) FROM outbox WHERE address = ? AND broadcast_id IS NULL", (PHONE,)
        )
    )


async def test_the_same_text_is_a_duplicate_within_minutes_and_new_later(
    events: None, smsc: FakeSMSC, repos: Repos, clock: FakeClock
) -> None:
    assert await smsc.deliver_sms(PHONE, "ME") == [pdu.ESME_ROK]
    assert await replies(repos) == 1
    # the SMSC delivers it again (its answer lost), in this window and in the next
    assert await smsc.deliver_sms(PHONE, "ME") == [pdu.ESME_ROK]
    clock.advance(minutes=10)
    assert await smsc.deliver_sms(PHONE, "ME") == [pdu.ESME_ROK]
    assert await replies(repos) == 1
    # the resident sends the same text again the next day: a new SMS, answered
    clock.advance(days=1)
    assert await smsc.deliver_sms(PHONE, "ME") == [pdu.ESME_ROK]
    assert await replies(repos) == 2
    assert await repos.db.fetchval("SELECT COUNT(*) FROM inbound") == 2


async def test_a_reply_is_queued_sealed_for_the_resident(
    events: None, smsc: FakeSMSC, repos: Repos, demo: Municipality
) -> None:
    assert await smsc.deliver_sms(PHONE, "ME") == [pdu.ESME_ROK]
    resident = await repos.residents.by_phone(demo.id, PHONE)
    assert resident is not None
    stored = await repos.db.fetchval("SELECT body FROM outbox WHERE address = ?", (PHONE,))
    assert resident.name not in stored  # sealed with the ballot key
    [row] = await repos.db.fetchall(
        "SELECT resident_id, channel, status FROM outbox WHERE address = ?", (PHONE,)
    )
    assert tuple(row) == (resident.id, "sms", "queued")


async def test_a_reply_goes_ahead_of_a_broadcast_waiting_in_the_outbox(
    events: None, smsc: FakeSMSC, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    await broadcast.create_broadcast(repos, demo, body="Жыйын эртең", now=clock.now())
    clock.advance(minutes=1)
    assert await smsc.deliver_sms(PHONE, "ME") == [pdu.ESME_ROK]
    [first] = await repos.outbox.claim_due(
        municipality_id=demo.id, channel="sms", now=iso(clock.now()), limit=1
    )
    assert first.broadcast_id is None and first.address == PHONE


async def test_no_reply_to_a_sender_that_is_no_phone_number(
    events: None, smsc: FakeSMSC, repos: Repos
) -> None:
    answers = await smsc.deliver(
        source_addr_ton=5, source_addr="MegaCom", destination_addr="7070", short_message=b"Hi"
    )
    assert answers == pdu.ESME_ROK
    assert await repos.db.fetchval("SELECT COUNT(*) FROM inbound") == 1
    assert await repos.db.fetchval("SELECT COUNT(*) FROM outbox") == 0


async def send_to_resident(
    repos: Repos, demo: Municipality, clock: FakeClock, channel: SmppChannel
) -> OutboxMessage:
    """A notice to the demo resident, sent by the outbox worker through ``channel``."""
    resident = await repos.residents.by_phone(demo.id, PHONE)
    assert resident is not None and not resident.opted_out
    draft = OutboxDraft(demo.id, "test:notice", "sms", PHONE, "Notice", resident.id)
    await repos.outbox.enqueue([draft], now=iso(clock.now()))
    worker = OutboxWorker(
        repos, {"sms": channel}, {"sms": ChannelLimit(100)}, municipality_id=demo.id, clock=clock
    )
    assert await worker.drain_channel("sms") == 1
    message = await repos.outbox.by_key("test:notice")
    assert message is not None
    return message


async def opted_out(repos: Repos, demo: Municipality) -> bool:
    resident = await repos.residents.by_phone(demo.id, PHONE)
    assert resident is not None
    return resident.opted_out


async def test_a_refusal_that_says_the_recipient_refuses_opts_them_out(
    channel: SmppChannel, smsc: FakeSMSC, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    smsc.refuse_next(1, REFUSES_STATUS)
    message = await send_to_resident(repos, demo, clock, channel)
    assert message.status == "failed"
    assert await opted_out(repos, demo)


async def test_another_refusal_fails_the_message_only(
    channel: SmppChannel, smsc: FakeSMSC, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    smsc.refuse_next(1, REFUSES_STATUS + 1)
    message = await send_to_resident(repos, demo, clock, channel)
    assert message.status == "failed"
    assert not await opted_out(repos, demo)


@pytest.mark.parametrize(("err", "opts_out"), [(REFUSES_ERR, True), ("001", False)])
async def test_a_receipt_that_says_the_recipient_refuses_opts_them_out(
    channel: SmppChannel,
    smsc: FakeSMSC,
    repos: Repos,
    demo: Municipality,
    clock: FakeClock,
    err: str,
    opts_out: bool,
) -> None:
    message = await send_to_resident(repos, demo, clock, channel)
    assert message.status == "sent" and message.provider_id
    answer = await smsc.deliver_receipt(message.provider_id, "UNDELIV", err)
    assert answer == pdu.ESME_ROK
    refreshed = await repos.outbox.by_key("test:notice")
    assert refreshed is not None and refreshed.status == "undelivered"
    assert await opted_out(repos, demo) is opts_out
