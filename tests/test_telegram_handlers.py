"""The Telegram routers end to end: real Updates in, a real (fake) Bot API server out.

Each test feeds an Update through the Dispatcher and checks what the Bot API received
and what the database holds afterwards.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiogram import Bot
from aiogram.types import User

from bot.channels.telegram.dispatcher import build_dispatcher, choose_language, set_commands
from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data
from bot.core.services.errors import ServiceError
from handlers.text import handle_text
from storage.models import Municipality, Resident
from storage.repos import Repos
from tests.conftest import FakeClock, table_snapshot
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.webhooks import (
    telegram_callback_update,
    telegram_contact_update,
    telegram_message_update,
)
from tests.telegram_helpers import buttons

USER = 5_000_001
OTHER_USER = 5_000_002


@pytest.fixture
async def resident(repos: Repos, demo: Municipality) -> Resident:
    found = await repos.residents.by_phone(demo.id, demo_data.RESIDENT_PHONE)
    assert found is not None
    return found


@pytest.fixture
async def linked(repos: Repos, resident: Resident, clock: FakeClock) -> Resident:
    await repos.residents.link_telegram(resident.id, USER, now=iso(clock.now()))
    found = await repos.residents.by_id(resident.id)
    assert found is not None and found.telegram_user_id == USER
    return found


def sent(api: FakeTelegramAPI) -> list[dict[str, Any]]:
    return [call.params for call in api.calls("sendMessage")]


async def test_start_for_an_unlinked_user_asks_for_the_phone_and_offers_languages(
    feed, api: FakeTelegramAPI, renderer: Renderer, demo: Municipality
) -> None:
    await feed(telegram_message_update("/start", USER, language_code="ru"))

    welcome, languages = sent(api)
    assert welcome["chat_id"] == USER
    assert welcome["parse_mode"] == "HTML"
    assert welcome["text"] == renderer.render(
        "tg_welcome", "ru", "telegram", municipality=demo.name
    )
    [contact] = buttons(welcome)
    assert contact["request_contact"] is True
    assert contact["text"] == "📱 Поделиться номером"
    assert [b["callback_data"] for b in buttons(languages)] == ["lang:ky", "lang:ru", "lang:en"]


async def test_start_with_a_deep_link_payload_works_and_only_logs_it(
    feed, api: FakeTelegramAPI, repos: Repos, caplog: pytest.LogCaptureFixture
) -> None:
    before = await table_snapshot(repos)
    with caplog.at_level(logging.DEBUG, logger="handlers.telegram.start"):
        await feed(telegram_message_update("/start hearing-12", USER))

    assert len(sent(api)) == 2
    assert [r.levelno for r in caplog.records if "hearing-12" in r.getMessage()] == [logging.DEBUG]
    assert await table_snapshot(repos) == before


async def test_start_for_a_linked_resident_shows_the_menu(
    feed, api: FakeTelegramAPI, linked: Resident
) -> None:
    await feed(telegram_message_update("/start", USER, language_code="en"))

    [menu] = sent(api)
    assert linked.name in menu["text"]
    assert [b["callback_data"] for b in buttons(menu)] == [
        "menu:hearings",
        "menu:vote",
        "menu:budget",
        "menu:projects",
        "menu:rate",
        "menu:problems",
        "menu:me",
        "menu:lang",
        "menu:start" if linked.opted_out else "menu:stop",
        "menu:help",
    ]


async def test_own_contact_with_a_registered_number_links_the_account(
    feed, api: FakeTelegramAPI, repos: Repos, resident: Resident
) -> None:
    # Telegram sends the number without '+'.
    await feed(telegram_contact_update(USER, demo_data.RESIDENT_PHONE.lstrip("+")))

    after = await repos.residents.by_id(resident.id)
    assert after is not None and after.telegram_user_id == USER
    greeting, menu = sent(api)
    assert resident.name in greeting["text"]
    assert greeting["reply_markup"] == {"remove_keyboard": True}
    assert "menu:me" in {b["callback_data"] for b in buttons(menu)}


async def test_someone_elses_contact_is_refused_and_changes_nothing(
    feed, api: FakeTelegramAPI, repos: Repos, renderer: Renderer
) -> None:
    before = await table_snapshot(repos)
    await feed(telegram_contact_update(USER, demo_data.RESIDENT_PHONE, contact_user_id=OTHER_USER))

    assert await table_snapshot(repos) == before
    [refusal] = sent(api)
    assert refusal["text"] == renderer.render("tg_not_own_contact", "en", "telegram")


async def test_unknown_number_is_told_how_to_register_and_changes_nothing(
    feed, api: FakeTelegramAPI, repos: Repos, renderer: Renderer
) -> None:
    before = await table_snapshot(repos)
    await feed(telegram_contact_update(USER, demo_data.UNKNOWN_PHONE.lstrip("+")))

    assert await table_snapshot(repos) == before
    [reply] = sent(api)
    assert reply["text"] == renderer.render("unregistered", "en", "telegram")


async def test_language_button_persists_the_choice_of_a_linked_resident(
    feed, api: FakeTelegramAPI, repos: Repos, renderer: Renderer, linked: Resident
) -> None:
    update = telegram_callback_update("lang:ru", USER)
    await feed(update)

    after = await repos.residents.by_id(linked.id)
    assert after is not None and after.language == "ru"
    [answer] = api.calls("answerCallbackQuery")
    assert answer.params["callback_query_id"] == update["callback_query"]["id"]
    [reply] = sent(api)
    assert reply["text"] == renderer.render("lang_set", "ru", "telegram")
    assert "Обо мне" in {b["text"] for b in buttons(reply)}


async def test_language_button_of_an_unlinked_user_stores_nothing(
    feed, api: FakeTelegramAPI, repos: Repos, renderer: Renderer
) -> None:
    before = await table_snapshot(repos)
    await feed(telegram_callback_update("lang:ky", USER))

    assert await table_snapshot(repos) == before
    assert len(api.calls("answerCallbackQuery")) == 1
    [reply] = sent(api)
    assert reply["text"] == renderer.render("tg_share_phone", "ky", "telegram")
    assert buttons(reply)[0]["request_contact"] is True


async def test_the_language_picked_before_linking_is_kept_after(
    feed, api: FakeTelegramAPI, repos: Repos, renderer: Renderer, resident: Resident
) -> None:
    assert resident.language == "ky"
    await feed(telegram_callback_update("lang:ru", USER))
    await feed(telegram_contact_update(USER, demo_data.RESIDENT_PHONE))

    after = await repos.residents.by_id(resident.id)
    assert after is not None and after.language == "ru"
    greeting = sent(api)[-2]
    assert greeting["text"] == renderer.render("tg_linked", "ru", "telegram", name=resident.name)


@pytest.mark.parametrize("app_language", ["ru", "en"])
async def test_a_new_resident_keeps_the_language_of_their_telegram_app(
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    resident: Resident,
    app_language: str,
) -> None:
    assert resident.language == "ky" and resident.telegram_user_id is None
    contact = telegram_contact_update(USER, demo_data.RESIDENT_PHONE, language_code=app_language)
    await feed(contact)

    after = await repos.residents.by_id(resident.id)
    assert after is not None and after.language == app_language
    greeting, menu = sent(api)
    assert greeting["text"] == renderer.render(
        "tg_linked", app_language, "telegram", name=resident.name
    )
    assert menu["text"] == renderer.render("tg_menu", app_language, "telegram", name=resident.name)


async def test_an_app_in_another_language_leaves_a_language_the_resident_chose(
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    resident: Resident,
    clock: FakeClock,
) -> None:
    await repos.residents.set_language(resident.id, "ru", now=iso(clock.now()))  # LANG ru by SMS
    await feed(telegram_contact_update(USER, demo_data.RESIDENT_PHONE, language_code="en"))

    after = await repos.residents.by_id(resident.id)
    assert after is not None and after.language == "ru"
    greeting = sent(api)[0]
    assert greeting["text"] == renderer.render("tg_linked", "ru", "telegram", name=resident.name)


async def test_an_app_in_an_unknown_language_leaves_the_municipality_default(
    feed, repos: Repos, resident: Resident
) -> None:
    await feed(telegram_contact_update(USER, demo_data.RESIDENT_PHONE, language_code="de"))

    after = await repos.residents.by_id(resident.id)
    assert after is not None and after.telegram_user_id == USER and after.language == "ky"


async def test_about_me_button_shows_the_me_template(
    feed, api: FakeTelegramAPI, repos: Repos, renderer: Renderer, linked: Resident
) -> None:
    await feed(telegram_callback_update("menu:me", USER))

    card = await repos.residents.card(linked.id)
    [reply] = sent(api)
    assert reply["text"] == renderer.render("me", linked.language, "telegram", card=card)
    assert len(api.calls("answerCallbackQuery")) == 1


async def test_stop_button_opts_out_and_the_menu_offers_to_resume(
    feed, api: FakeTelegramAPI, repos: Repos, renderer: Renderer, linked: Resident
) -> None:
    assert not linked.opted_out
    await feed(telegram_callback_update("menu:stop", USER))

    after = await repos.residents.by_id(linked.id)
    assert after is not None and after.opted_out
    [reply] = sent(api)
    assert reply["text"] == renderer.render("stopped", linked.language, "telegram")
    assert "menu:start" in {b["callback_data"] for b in buttons(reply)}


async def test_text_from_a_linked_resident_is_the_text_command(
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    linked: Resident,
) -> None:
    await feed(telegram_message_update("ME", USER))

    expected = await handle_text(
        repos,
        renderer,
        municipality=demo,
        phone=linked.phone,
        text="ME",
        channel="telegram",
        now=clock.now(),
    )
    [reply] = sent(api)
    assert reply["text"] == expected.text
    assert reply["parse_mode"] == "HTML"


async def test_text_from_an_unlinked_user_asks_for_the_phone(
    feed, api: FakeTelegramAPI, repos: Repos, renderer: Renderer
) -> None:
    before = await table_snapshot(repos)
    await feed(telegram_message_update("ME", USER, language_code="ru"))

    assert await table_snapshot(repos) == before
    [reply] = sent(api)
    assert reply["text"] == renderer.render("tg_share_phone", "ru", "telegram")
    [contact] = buttons(reply)
    assert contact["request_contact"] is True


async def test_set_commands_sets_one_list_per_language_and_a_kyrgyz_default(
    bot: Bot, api: FakeTelegramAPI, renderer: Renderer
) -> None:
    await set_commands(bot, renderer)

    calls = api.calls("setMyCommands")
    assert [c.params.get("language_code") for c in calls] == ["ky", "ru", "en", None]
    for call in calls:
        assert [c["command"] for c in call.params["commands"]] == [
            "start",
            "menu",
            "me",
            "lang",
            "vote",
            "hearings",
            "budget",
            "rate",
            "help",
        ]
    assert calls[-1].params["commands"] == calls[0].params["commands"]
    assert calls[1].params["commands"][2]["description"] == "Обо мне"


async def test_a_linked_resident_writing_in_a_group_gets_no_answer(
    feed, api: FakeTelegramAPI, linked: Resident
) -> None:
    # ME in a group would show the resident's phone number to everyone there.
    await feed(telegram_message_update("ME", USER, chat_id=-1001234567890))

    assert sent(api) == []


async def test_an_unknown_municipality_slug_fails_at_start_up(
    repos: Repos, demo: Municipality, renderer: Renderer, clock: FakeClock, bot: Bot
) -> None:
    dp = build_dispatcher(
        repos=repos, renderer=renderer, clock=clock, municipality_slug="no-such-place"
    )
    with pytest.raises(ServiceError, match="no-such-place"):
        await dp.emit_startup(bot=bot)


@pytest.mark.parametrize(
    ("resident_language", "app_language", "expected"),
    [
        ("ru", "en", "ru"),  # the resident's own choice wins
        (None, "en-GB", "en"),
        (None, "de", "ky"),  # not one of ours: the municipality's default
        (None, None, "ky"),
    ],
)
def test_language_is_the_residents_then_the_apps_then_the_municipalitys(
    resident_language: str | None, app_language: str | None, expected: str
) -> None:
    municipality = Municipality(1, "ak-chiy", "Ak-Chiy", "ky")
    user = User(id=USER, is_bot=False, first_name="A", language_code=app_language)
    resident = None
    if resident_language:
        resident = Resident(
            1, 1, "+996700000001", "A", "f", None, 1, 1, resident_language, False, USER
        )
    assert choose_language(resident, user, municipality) == expected
