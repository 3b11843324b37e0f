"""The text lane (``bot.channels.telegram.lane``): a linked resident's plain text, handled without
the dispatcher, must be answered and recorded exactly as the dispatcher would have; what
it must not take goes on to the dispatcher untouched.

Real SQLite (or PostgreSQL) databases, the real dispatcher, a bot pointed at the fake
Bot API.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import SendMessage
from aiogram.types import Message

import handlers.telegram
from bot.channels.telegram.dispatcher import build_dispatcher, webhook_answer, webhook_feed
from bot.channels.telegram.lane import TextLane, plain_text_message
from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data
from bot.core.services.polls import OptionSpec, create_poll
from bot.runtime.web import WebContext
from handlers.telegram import get_router
from handlers.telegram.filters import LINKED, Keyword, feature_keywords
from handlers.telegram.hearing_form import HearingForm
from handlers.telegram.screens import Screen, text_answer
from handlers.text import handle_text
from storage.db import connect
from storage.migrate import migrate
from storage.repos import Repos
from tests.conftest import FakeClock
from tests.fakes.webhooks import (
    telegram_callback_update,
    telegram_contact_update,
    telegram_message_update,
)
from tests.processes import TEST_BALLOT_KEY

USER = 7_100_001
#: the keywords the Telegram features answer themselves, read from their routers
KEYWORDS = feature_keywords(get_router())


@dataclass
class Side:
    """A demo database with the resident linked to ``USER``, its dispatcher and lane."""

    repos: Repos
    dp: Dispatcher
    lane: TextLane
    web: WebContext


async def open_side(
    stack: contextlib.AsyncExitStack, url: str, bot: Bot, renderer: Renderer, clock: FakeClock
) -> Side:
    repos = Repos(await stack.enter_async_context(connect(url)), TEST_BALLOT_KEY)
    await migrate(repos.db)
    municipality, _ = await demo_data.ensure_demo(repos, now=clock.now())
    resident = await repos.residents.by_phone(municipality.id, demo_data.RESIDENT_PHONE)
    assert resident is not None
    await repos.residents.link_telegram(resident.id, USER, now=iso(clock.now()))
    ctx = WebContext(repos=repos, renderer=renderer, clock=clock, municipality=municipality)
    dp = build_dispatcher(
        repos=repos,
        renderer=renderer,
        clock=clock,
        municipality=municipality,
        batches=ctx.batches,
    )
    return Side(repos, dp, TextLane(dp, bot, ctx), ctx)


@pytest.fixture
async def sides(
    new_db_url: Callable[[], str], bot: Bot, renderer: Renderer, clock: FakeClock
) -> AsyncIterator[tuple[Side, Side]]:
    """Two databases alike: one for the lane, one for the dispatcher."""
    async with contextlib.AsyncExitStack() as stack:
        yield (
            await open_side(stack, new_db_url(), bot, renderer, clock),
            await open_side(stack, new_db_url(), bot, renderer, clock),
        )


@pytest.fixture
async def side(sides: tuple[Side, Side]) -> Side:
    return sides[0]


async def resident_row(repos: Repos) -> tuple[Any, ...]:
    row = await repos.db.fetchone(
        "SELECT language, opted_out FROM residents WHERE telegram_user_id = ?", (USER,)
    )
    assert row is not None
    return tuple(row)


async def inbound_rows(repos: Repos) -> list[tuple[Any, ...]]:
    """The Telegram inbound rows, each reply as answered again (the stored one is sealed)."""
    rows = await repos.db.fetchall(
        "SELECT provider_id, resident_id IS NOT NULL, command, municipality_id FROM inbound"
        " WHERE channel = 'telegram' ORDER BY id"
    )
    return [
        (
            *row[:3],
            await repos.inbound.reply_to(
                municipality_id=row[3], channel="telegram", provider_id=row[0]
            ),
        )
        for row in rows
    ]


TEXTS = ["ME", "HELP", "LANG RU", "me", "МЕН", "STOP", "START", "PROBLEMS", "V 1", "hello?", "",
         "LANG EN", "HELP", "x" * 5000]  # fmt: skip


async def test_the_lane_answers_and_changes_what_the_dispatcher_would(
    sides: tuple[Side, Side], bot: Bot
) -> None:
    """The same texts, one database through the lane, the other through the dispatcher:
    the very same answers (byte for byte) and the same resident at every step."""
    lane_side, dispatcher_side = sides
    through_dispatcher = webhook_feed(dispatcher_side.dp, bot)
    for n, text in enumerate(TEXTS):
        update = telegram_message_update(text, USER, update_id=n + 1)
        assert plain_text_message(update, KEYWORDS) is not None
        by_lane = await lane_side.lane(update, str(n + 1))
        by_dispatcher = await through_dispatcher(update)
        assert by_lane is not None and by_lane == by_dispatcher, text
        assert json.loads(by_lane)["chat_id"] == USER
        assert await resident_row(lane_side.repos) == await resident_row(dispatcher_side.repos)
    assert await resident_row(lane_side.repos) == ("en", False)
    # recorded as handled, with the answer it gave (the dispatcher's path is the webhook's)
    rows = await inbound_rows(lane_side.repos)
    assert [row[0] for row in rows] == [str(n + 1) for n in range(len(TEXTS))]
    assert [row[2] for row in rows[:4]] == ["me", "help", "lang", "me"]
    assert all(row[1] and json.loads(row[3])["method"] == "sendMessage" for row in rows)
    # the dispatcher's text command handles and records them the same one way
    assert await inbound_rows(dispatcher_side.repos) == rows


async def test_the_dispatcher_handles_a_text_update_once(side: Side, bot: Bot) -> None:
    """An update the dispatcher was given before (polling, or a webhook in another
    process) is not handled again: no answer, nothing changed."""
    through_dispatcher = webhook_feed(side.dp, bot)
    russian = telegram_message_update("LANG RU", USER, update_id=31)
    assert await through_dispatcher(russian) is not None
    assert await through_dispatcher(telegram_message_update("LANG EN", USER, update_id=32))
    assert await through_dispatcher(russian) is None
    assert await resident_row(side.repos) == ("en", False)
    assert [row[:3] for row in await inbound_rows(side.repos)] == [
        ("31", True, "lang"),
        ("32", True, "lang"),
    ]


@pytest.mark.parametrize(
    "text", ["", "Салам!", 'a "quoted" <b>bold</b> &amp;\nline\\', "😀 emoji", "\u2028\x00"]
)
def test_the_lanes_answer_is_the_one_aiogram_would_make(bot: Bot, text: str) -> None:
    assert text_answer(USER, text) == webhook_answer(bot, Screen(text).method(USER))


def _with(update: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**update, "message": {**update["message"], **fields}}


ME = telegram_message_update("ME", USER, update_id=1)


@pytest.mark.parametrize(
    "update",
    [
        pytest.param(telegram_message_update("/start", USER, update_id=1), id="slash-command"),
        pytest.param(telegram_message_update("/cancel", USER, update_id=1), id="cancel"),
        pytest.param(telegram_message_update("BUDGET", USER, update_id=1), id="feature-keyword"),
        pytest.param(telegram_message_update("акт", USER, update_id=1), id="feature-keyword-ky"),
        pytest.param(telegram_contact_update(USER, "996700000001", update_id=1), id="contact"),
        pytest.param(telegram_callback_update("menu:me", USER, update_id=1), id="button"),
        pytest.param({"update_id": 1, "edited_message": ME["message"]}, id="edited"),
        pytest.param({**ME, "callback_query": {}}, id="two-kinds"),
        pytest.param(
            _with(ME, chat={"id": -100123, "type": "supergroup", "title": "Ak-Chiy"}),
            id="group",
        ),
        pytest.param(_with(ME, **{"from": {**ME["message"]["from"], "is_bot": True}}), id="a-bot"),
        pytest.param(
            {"update_id": 1, "message": {k: v for k, v in ME["message"].items() if k != "from"}},
            id="no-sender",
        ),
        pytest.param(_with(ME, message_thread_id=7), id="topic"),
        pytest.param(_with(ME, business_connection_id="b1"), id="business"),
        pytest.param(_with(ME, text=["ME"]), id="text-not-a-string"),
        pytest.param(_with(ME, chat={"id": "7100001", "type": "private"}), id="chat-id-string"),
        pytest.param({"update_id": 1, "message": "ME"}, id="message-not-an-object"),
    ],
)
async def test_what_the_lane_leaves_to_the_dispatcher(side: Side, update: dict[str, Any]) -> None:
    assert plain_text_message(update, KEYWORDS) is None
    assert await side.lane(update, "1") is None
    assert await inbound_rows(side.repos) == []


async def test_an_unlinked_sender_is_left_to_the_dispatcher(side: Side) -> None:
    """Who is not linked is asked for their phone by the dispatcher: the lane does
    nothing, records nothing."""
    update = telegram_message_update("ME", USER + 1, update_id=5)
    assert plain_text_message(update, KEYWORDS) is not None
    assert await side.lane(update, "5") is None
    assert await inbound_rows(side.repos) == []


async def test_a_text_typed_into_a_form_is_left_to_the_form(side: Side, bot: Bot) -> None:
    """In the middle of a form (state kept in the database), ``ME`` is the form's answer
    to its question, not a command."""
    key = StorageKey(bot_id=bot.id, chat_id=USER, user_id=USER)
    await side.dp.fsm.storage.set_state(key, HearingForm.place)
    update = telegram_message_update("ME", USER, update_id=6)
    assert await side.lane(update, "6") is None
    assert await inbound_rows(side.repos) == []
    await side.dp.fsm.storage.set_state(key, None)  # the form ended
    assert await side.lane(update, "6") is not None


async def test_a_repeated_delivery_is_answered_from_the_record(side: Side) -> None:
    update = telegram_message_update("STOP", USER, update_id=7)
    first = await side.lane(update, "7")
    again = await side.lane(update, "7")
    assert first is not None and again == first
    assert len(await inbound_rows(side.repos)) == 1


async def test_a_delivery_recorded_but_never_handled_is_handled_once_more(
    side: Side, clock: FakeClock
) -> None:
    """Recorded on arrival by the dispatcher's path, which then failed (500): Telegram's
    retry is handled (there is no answer to give from the record), the record completed,
    and a later duplicate answered from it."""
    demo = await side.repos.municipalities.by_slug(demo_data.SLUG)
    assert demo is not None
    await side.repos.inbound.record(
        municipality_id=demo.id, channel="telegram", provider_id="8", now=iso(clock.now())
    )
    update = telegram_message_update("ME", USER, update_id=8)
    answer = await side.lane(update, "8")
    assert answer is not None and "Абдыкадыров" in json.loads(answer)["text"]
    assert await inbound_rows(side.repos) == [("8", True, "me", answer)]
    assert await side.lane(update, "8") == answer
    assert len(await inbound_rows(side.repos)) == 1


async def test_a_ballot_by_sms_and_one_by_telegram_at_once_count_once(
    side: Side, clock: FakeClock
) -> None:
    """The same resident votes by SMS and by Telegram in the same moment (one batch of
    the group commit): the two clash, the batch is rolled back and each handled alone,
    in the order they came: one ballot, the later one."""
    demo = side.web.municipality
    now = clock.now()
    poll = await create_poll(
        side.repos, demo, title="Priorities", ballot_type="approval", max_choices=3,
        options=[OptionSpec(f"Option {n}") for n in range(1, 4)], min_age=0,
        opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1), now=now,
    )  # fmt: skip
    by_sms = side.web.batches.run(
        demo_data.RESIDENT_PHONE,
        lambda: handle_text(
            side.repos, side.web.renderer, municipality=demo, phone=demo_data.RESIDENT_PHONE,
            text="V 2 3", channel="sms", now=now,
        ),
    )  # fmt: skip
    by_telegram = side.lane(telegram_message_update("V 1", USER, update_id=20), "20")
    telegram, sms = await asyncio.gather(by_telegram, by_sms)
    assert sms is not None and telegram is not None
    (ballot,) = await side.repos.polls.ballots(poll.id)
    options = {option.id: option.label for option in await side.repos.polls.options(poll.id)}
    assert sorted(options[option] for option in ballot.choices) == ["Option 2", "Option 3"]
    assert await side.repos.polls.turnout_count(poll.id) == 1


async def test_a_keyword_a_new_feature_answers_is_left_to_it(
    monkeypatch: pytest.MonkeyPatch,
    new_db_url: Callable[[], str],
    bot: Bot,
    renderer: Renderer,
    clock: FakeClock,
) -> None:
    """A feature that starts answering a text command itself (here ``ME``, with the
    ``Keyword`` filter of every feature) has it: the lane, which knows no feature, leaves
    it to the dispatcher, and the dispatcher's shortcut to the text commands does too."""

    async def me_card(message: Message) -> SendMessage:
        return SendMessage(chat_id=message.chat.id, text="the new card")

    class NewFeature:
        @staticmethod
        def register(router: Router) -> None:
            router.message.register(me_card, Keyword("me"), LINKED)

    features = handlers.telegram.FEATURES
    monkeypatch.setattr(handlers.telegram, "FEATURES", (NewFeature, *features))
    update = telegram_message_update("ME", USER, update_id=9)
    async with contextlib.AsyncExitStack() as stack:
        side = await open_side(stack, new_db_url(), bot, renderer, clock)
        assert await side.lane(update, "9") is None
        assert await inbound_rows(side.repos) == []
        answer = await webhook_feed(side.dp, bot)(update)
    assert answer is not None and json.loads(answer)["text"] == "the new card"
    # without it, ME is the text command's, through the lane
    monkeypatch.setattr(handlers.telegram, "FEATURES", features)
    async with contextlib.AsyncExitStack() as stack:
        side = await open_side(stack, new_db_url(), bot, renderer, clock)
        by_lane = await side.lane(update, "9")
    assert by_lane is not None and json.loads(by_lane)["text"] != "the new card"
