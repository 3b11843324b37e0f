"""A gateway's events into the runtime (bot/channels/gateway_events.py), on a controllable
clock: the SMPP channel bound to the SMSC simulator on 127.0.0.1, the database real (SQLite,
and PostgreSQL with TEST_POSTGRES_URL). ``tests/test_run_gateways.py`` runs the same path
in a ``civic-bot run`` process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.channels.gateway_events import GatewayEvents
from bot.channels.smpp import SmppChannel, pdu
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data
from bot.runtime.web import WebContext
from storage.models import Municipality
from storage.repos import Repos
from tests.conftest import FakeClock
from tests.fakes.smsc import FakeSMSC

PHONE = demo_data.RESIDENT_PHONE


@pytest.fixture
async def smsc() -> AsyncIterator[FakeSMSC]:
    async with FakeSMSC() as fake:
        yield fake


@pytest.fixture
async def events(
    repos: Repos, demo: Municipality, clock: FakeClock, renderer: Renderer, smsc: FakeSMSC
) -> AsyncIterator[GatewayEvents]:
    ctx = WebContext(
        repos=repos, renderer=renderer, clock=clock, municipality=demo, sms_gateway="smpp"
    )
    handler = GatewayEvents(ctx)
    channel = SmppChannel(smsc.config(), on_event=handler)
    channel.start()
    await smsc.wait_bound()
    yield handler
    await channel.close()


async def replies(repos: Repos) -> int:
    return int(
        await repos.db.fetchval(
            "SELECT COUNT(*) FROM outbox WHERE address = ? AND broadcast_id IS NULL", (PHONE,)
        )
    )


async def test_the_same_text_is_a_duplicate_within_minutes_and_new_later(
    events: GatewayEvents, smsc: FakeSMSC, repos: Repos, clock: FakeClock
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
    events: GatewayEvents, smsc: FakeSMSC, repos: Repos, demo: Municipality
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


async def test_no_reply_to_a_sender_that_is_no_phone_number(
    events: GatewayEvents, smsc: FakeSMSC, repos: Repos
) -> None:
    answers = await smsc.deliver(
        source_addr_ton=5, source_addr="MegaCom", destination_addr="7070", short_message=b"Hi"
    )
    assert answers == pdu.ESME_ROK
    assert await repos.db.fetchval("SELECT COUNT(*) FROM inbound") == 1
    assert await repos.db.fetchval("SELECT COUNT(*) FROM outbox") == 0
