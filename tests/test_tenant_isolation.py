"""Tenant isolation: two municipalities on one database, with the same phone in both
registers, colliding Telegram update ids and Twilio message ids, and a poll number of one
sent to the other. Nothing of one touches the other: deduplication, votes, opt-outs and
replies stay each in its own municipality (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from twilio.request_validator import RequestValidator

from bot.app import http_app
from bot.channels.telegram.dispatcher import build_dispatcher, webhook_feed
from bot.channels.telegram.webhook import NAME, TelegramChannel
from bot.channels.twilio.webhook import NAME as TWILIO
from bot.channels.twilio.webhook import TwilioChannel
from bot.core.rendering.templates import Renderer
from bot.core.services.municipalities import create_municipality
from bot.core.services.polls import OptionSpec, create_poll
from bot.core.services.register_import import import_households, import_residents
from bot.runtime.web import WebContext
from storage.models import Municipality, Poll
from storage.repos import Repos
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.webhooks import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    telegram_contact_update,
    telegram_message_update,
    telegram_webhook_headers,
    twilio_inbound_form,
    twilio_signed_headers,
)
from tests.telegram_helpers import fake_bot

PUBLIC = "https://bot.example.kg"
NUMBER = "+15005550006"
PHONE = "+996555123456"
USER = 4242  # one Telegram user, a resident of both


@dataclass(eq=False)
class Tenant:
    municipality: Municipality
    poll: Poll
    server: TestServer
    secret: str

    async def telegram(self, http: aiohttp.ClientSession, update: dict, secret: str = "") -> str:
        """POST ``update`` to this municipality's bot webhook; the reply it answers with."""
        headers = telegram_webhook_headers(secret or self.secret)
        url = self.server.make_url("/telegram/webhook")
        async with http.post(url, data=json.dumps(update), headers=headers) as r:
            assert r.status == 200, await r.text()
            return await r.text()

    async def sms(self, http: aiohttp.ClientSession, text: str, sid: str) -> str:
        form = twilio_inbound_form(PHONE, NUMBER, text, sid)
        headers = twilio_signed_headers(DEFAULT_AUTH_TOKEN, PUBLIC + "/sms/twilio", form)
        async with http.post(self.server.make_url("/sms/twilio"), data=form, headers=headers) as r:
            assert r.status == 200
            return await r.text()


async def tenant(
    repos: Repos,
    renderer: Renderer,
    clock: FakeClock,
    slug: str,
    stack: AsyncExitStack,
    api: FakeTelegramAPI,
    token: str,
) -> Tenant:
    municipality = await create_municipality(
        repos, slug=slug, name=slug, villages=["Centre"], default_language="en", now=clock.now()
    )
    await import_households(repos, municipality, b"code,village\nH-1,Centre\n", now=clock.now())
    await import_residents(
        repos,
        municipality,
        f"phone,name,gender,birth_year,household\n{PHONE},Aigul,f,1980,H-1\n".encode(),
        now=clock.now(),
    )
    poll = await create_poll(
        repos,
        municipality,
        title=f"Priorities of {slug}",
        ballot_type="choose1",
        options=[OptionSpec(label, 1000) for label in ("Roads", "School", "Water")],
        opens_at=clock.now() - timedelta(hours=1),
        closes_at=clock.now() + timedelta(days=7),
        now=clock.now(),
    )
    bot = fake_bot(api, token)
    stack.push_async_callback(bot.session.close)
    dp = build_dispatcher(repos=repos, renderer=renderer, clock=clock, municipality=municipality)
    ctx = WebContext(
        repos=repos,
        renderer=renderer,
        clock=clock,
        municipality=municipality,
        public_base_url=PUBLIC,
        channels={
            NAME: TelegramChannel("webhook", f"secret-of-{slug}", webhook_feed(dp, bot)),
            TWILIO: TwilioChannel(RequestValidator(DEFAULT_AUTH_TOKEN), DEFAULT_ACCOUNT_SID),
        },
    )
    server = TestServer(http_app(ctx), host="127.0.0.1")
    await server.start_server()
    stack.push_async_callback(server.close)
    return Tenant(municipality, poll, server, f"secret-of-{slug}")


@pytest.fixture
async def tenants(
    repos: Repos, renderer: Renderer, clock: FakeClock
) -> AsyncIterator[tuple[Tenant, Tenant]]:
    async with AsyncExitStack() as stack:
        api = await stack.enter_async_context(FakeTelegramAPI())
        a = await tenant(repos, renderer, clock, "ak-chiy", stack, api, "111:AAA")
        b = await tenant(repos, renderer, clock, "kara-suu", stack, api, "222:BBB")
        yield a, b


async def resident_of(repos: Repos, tenant: Tenant):
    found = await repos.residents.by_phone(tenant.municipality.id, PHONE)
    assert found is not None
    return found


async def test_an_sms_to_one_municipality_never_touches_the_other(
    repos: Repos, tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = tenants
    assert a.poll.id != b.poll.id
    async with aiohttp.ClientSession() as http:
        at_a = await a.sms(http, "V 1", "SM" + "1" * 32)
        at_b = await b.sms(http, "V 2", "SM" + "1" * 32)  # the same message id
        assert f"Vote in poll {a.poll.id} received: 1) Roads" in at_a
        assert f"Vote in poll {b.poll.id} received: 2) School" in at_b
        # A's poll number sent to B's number: not a poll of B, A's poll untouched
        refused = await b.sms(http, f"V{a.poll.id} 3", "SM" + "2" * 32)
        assert "received" not in refused
        # the repeated delivery at A is answered from A's record, not B's
        assert await a.sms(http, "V 1", "SM" + "1" * 32) == at_a
        stopped = await b.sms(http, "STOP", "SM" + "3" * 32)
        assert stopped
    for tenant, option in ((a, 0), (b, 1)):
        assert await repos.polls.turnout_count(tenant.poll.id) == 1
        (ballot,) = await repos.polls.ballots(tenant.poll.id)
        options = await repos.polls.options(tenant.poll.id)
        assert ballot.choices == {options[option].id: 1}
    assert not (await resident_of(repos, a)).opted_out
    assert (await resident_of(repos, b)).opted_out
    rows = await repos.db.fetchall(
        "SELECT municipality_id, COUNT(*) FROM inbound GROUP BY municipality_id ORDER BY 1"
    )
    assert [tuple(row) for row in rows] == [(a.municipality.id, 1), (b.municipality.id, 3)]


async def test_a_telegram_update_to_one_bot_never_touches_the_other(
    repos: Repos, tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = tenants
    async with aiohttp.ClientSession() as http:
        for t in (a, b):  # the same update ids at both bots
            await t.telegram(http, telegram_contact_update(USER, PHONE, update_id=1))
        at_a = await a.telegram(http, telegram_message_update("V 1", USER, update_id=2))
        at_b = await b.telegram(http, telegram_message_update("V 2", USER, update_id=2))
        assert f"Vote in poll {a.poll.id} received:\\n1. Roads" in at_a
        assert f"Vote in poll {b.poll.id} received:\\n2. School" in at_b
        # Telegram delivers update 2 again to A: A's answer again, nothing handled twice
        again = await a.telegram(http, telegram_message_update("V 3", USER, update_id=2))
        assert again == at_a
        refused = await b.telegram(
            http, telegram_message_update(f"V{a.poll.id} 3", USER, update_id=3)
        )
        assert f"There is no poll {a.poll.id}" in refused
        # B's webhook secret does not open A's webhook
        forged = telegram_message_update("V 3", USER, update_id=4)
        url = a.server.make_url("/telegram/webhook")
        headers = telegram_webhook_headers(b.secret)
        async with http.post(url, data=json.dumps(forged), headers=headers) as r:
            assert r.status == 403
    for t, option in ((a, 0), (b, 1)):
        assert (await resident_of(repos, t)).telegram_user_id == USER
        assert await repos.polls.turnout_count(t.poll.id) == 1
        (ballot,) = await repos.polls.ballots(t.poll.id)
        assert ballot.choices == {(await repos.polls.options(t.poll.id))[option].id: 1}
    rows = await repos.db.fetchall(
        "SELECT municipality_id, provider_id FROM inbound WHERE channel = 'telegram'"
        " ORDER BY municipality_id, provider_id"
    )
    assert [tuple(row) for row in rows] == [
        (a.municipality.id, "1"),
        (a.municipality.id, "2"),
        (b.municipality.id, "1"),
        (b.municipality.id, "2"),
        (b.municipality.id, "3"),
    ]
