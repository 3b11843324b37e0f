"""Budget, monitoring acts and ratings in Telegram, end to end: real Updates in, a real
(fake) Bot API server out, the demo municipality's budget 2015 and projects 1..5."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot, Dispatcher

from bot.channels.telegram.dispatcher import build_dispatcher
from bot.core.clock import iso
from bot.core.rendering.charts import PNG_SIGNATURE, ChartCache
from bot.core.rendering.templates import Renderer
from bot.core.services import budget_summary, demo_data, monitoring, ratings
from bot.core.services.budget_import import import_budget
from bot.core.services.demo_budget import BUDGET_CSV
from handlers.telegram.act_form import ActStep
from handlers.text import handle_text
from storage.models import Municipality, Resident
from storage.repos import Repos
from tests.conftest import FakeClock, table_snapshot
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.webhooks import (
    next_update_id,
    telegram_callback_update,
    telegram_message,
)
from tests.telegram_helpers import TelegramApp, buttons
from tests.test_telegram_handlers import USER

MONITOR_USER = 5_000_101
STRANGER = 5_000_102
ACT_TABLES = ("monitoring_acts", "act_photos")


@pytest.fixture
def charts() -> ChartCache:
    return ChartCache()


@pytest.fixture
def dp(
    repos: Repos, demo: Municipality, renderer: Renderer, clock: FakeClock, charts: ChartCache
) -> Dispatcher:
    dp = build_dispatcher(repos=repos, renderer=renderer, clock=clock)
    dp["charts"] = charts  # the test's own cache, to count the drawings
    return dp


async def _link(repos: Repos, demo: Municipality, clock: FakeClock, phone: str, user: int):
    resident = await repos.residents.by_phone(demo.id, phone)
    assert resident is not None
    await repos.residents.link_telegram(resident.id, user, now=iso(clock.now()))
    found = await repos.residents.by_id(resident.id)
    assert found is not None
    return found


@pytest.fixture
async def resident(repos: Repos, demo: Municipality, clock: FakeClock) -> Resident:
    return await _link(repos, demo, clock, demo_data.RESIDENT_PHONE, USER)


@pytest.fixture
async def monitor(repos: Repos, demo: Municipality, clock: FakeClock) -> Resident:
    found = await _link(repos, demo, clock, demo_data.MONITOR_PHONES[3], MONITOR_USER)
    assert "monitor" in await repos.roles.of(found.id)
    return found


class Person(TelegramApp):
    """A Telegram user's app that also sends photos."""

    async def photo(self, file_id: str, album: str | None = None, caption: str = "") -> None:
        sizes = [
            {"file_id": f"{file_id}-s", "file_unique_id": f"{file_id}s", "width": 90,
             "height": 68, "file_size": 1_000},
            {"file_id": file_id, "file_unique_id": f"{file_id}x", "width": 1280,
             "height": 960, "file_size": 120_000},
            {"file_id": f"{file_id}-m", "file_unique_id": f"{file_id}m", "width": 320,
             "height": 240, "file_size": 9_000},
        ]  # fmt: skip
        extra: dict[str, Any] = {"photo": sizes}
        if album:
            extra["media_group_id"] = album
        if caption:
            extra["caption"] = caption
        message = telegram_message(None, self.user, **extra)
        await self.feed({"update_id": next_update_id(), "message": message})


@pytest.fixture
def me(dp: Dispatcher, bot: Bot, api: FakeTelegramAPI, resident: Resident) -> Person:
    return Person(dp, bot, api, USER)


@pytest.fixture
def member(dp: Dispatcher, bot: Bot, api: FakeTelegramAPI, monitor: Resident) -> Person:
    return Person(dp, bot, api, MONITOR_USER)


def step(action: str, value: str = "") -> str:
    return ActStep(action=action, value=value).pack()


def som(renderer: Renderer, language: str, amount: int) -> str:
    return renderer._envs["telegram"].from_string("{{ v|som }}").render(lang=language, v=amount)


# --- BUDGET -----------------------------------------------------------------------------


async def test_the_budget_button_shows_the_summary_and_the_chart(
    me: Person,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    resident: Resident,
    charts: ChartCache,
) -> None:
    await me.say("/menu")
    assert "menu:budget" in me.shown()

    await me.press("menu:budget")

    summary = await budget_summary.household_summary(repos, demo, resident)
    [shown] = me.screens()[1:]  # the summary in place of the menu: an edit, no new message
    assert shown.method == "editMessageText"
    text = me.screen()
    assert text["parse_mode"] == "HTML"
    assert text["text"] == renderer.render("budget", resident.language, "telegram", summary=summary)
    share = som(renderer, resident.language, summary.household_share)
    assert summary.household_share > 0 and share in text["text"]
    assert me.shown() == [
        *(f"bp:{project.id}" for project, _ in summary.projects),
        f"bc:{summary.budget.year}",
        "menu:menu",
    ]
    assert me.calls("sendPhoto") == []

    await me.press(f"bc:{summary.budget.year}")  # the chart at a tap

    [photo] = me.calls("sendPhoto")
    [upload] = photo.files.values()
    assert upload.data.startswith(PNG_SIGNATURE)
    assert charts.draws == 1
    file_id = photo.response["result"]["photo"][-1]["file_id"]
    assert charts.file_id((summary.budget.id, resident.language)) == file_id


async def test_tapping_through_the_main_menu_edits_the_one_menu_message(
    me: Person,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    resident: Resident,
) -> None:
    await me.say("/menu")
    menu = me.screen()
    menu_id = me.message_id()
    language = resident.language
    assert me.shown() == [
        "menu:hearings", "menu:vote", "menu:budget", "menu:projects", "menu:rate",
        "menu:problems", "menu:me", "menu:lang", "menu:stop", "menu:help",
    ]  # fmt: skip
    summary = await budget_summary.household_summary(repos, demo, resident)
    first_project = summary.projects[0][0]
    taps = [
        ("menu:hearings", None),
        ("menu:vote", None),
        ("menu:budget", renderer.render("budget", language, "telegram", summary=summary)),
        ("menu:projects", renderer.render("tg_projects", language, "telegram", summary=summary)),
        (f"bp:{first_project.id}", None),
        ("menu:rate", None),
        ("menu:problems", None),
        ("menu:me", None),
        ("menu:help", None),
        ("menu:lang", renderer.render("tg_choose_language", language, "telegram")),
    ]
    for data, text in taps:
        if data not in me.shown():
            await me.press("menu:menu")  # back to the menu, in place too
            assert me.screen()["text"] == menu["text"]
        await me.press(data)
        assert me.screens()[-1].method == "editMessageText", data
        assert me.message_id() == menu_id, data
        assert me.screen()["text"] != menu["text"], data
        if text is not None:
            assert me.screen()["text"] == text
    await me.press("lang:ru")
    assert me.screen()["text"] == renderer.render("lang_set", "ru", "telegram")
    assert "menu:hearings" in me.shown()

    assert len(me.calls("sendMessage")) == 1  # only /menu posted a message
    assert me.calls("sendPhoto") == []
    edits = me.calls("editMessageText")
    assert {int(edit.params["message_id"]) for edit in edits} == {menu_id}


async def test_a_double_tapped_menu_button_changes_nothing_more(
    me: Person, api: FakeTelegramAPI, renderer: Renderer, resident: Resident
) -> None:
    await me.say("/menu")
    menu_id = me.message_id()
    await me.press("menu:me")
    shown = me.screen()
    await me.feed(telegram_callback_update("menu:me", USER, message_id=menu_id))

    assert me.screen()["text"] == shown["text"]
    assert len(me.calls("sendMessage")) == 1
    assert len(api.calls("answerCallbackQuery")) == 2


async def test_a_second_budget_is_sent_by_file_id_without_drawing_again(
    me: Person, charts: ChartCache
) -> None:
    await me.say("/budget")
    [first] = me.calls("sendPhoto")
    uploaded = first.response["result"]["photo"][-1]["file_id"]

    await me.say("BUDGET")  # the keyword works as well as the command

    first, second = me.calls("sendPhoto")
    assert second.files == {}  # nothing uploaded
    assert second.params["photo"] == uploaded
    assert charts.draws == 1
    assert len(me.calls("sendMessage")) == 2  # the summary both times


async def test_a_new_budget_version_is_drawn_and_uploaded_again(
    me: Person, repos: Repos, demo: Municipality, clock: FakeClock, charts: ChartCache
) -> None:
    await me.say("/budget")
    await import_budget(repos, demo, BUDGET_CSV.encode(), now=clock.now())  # version 2

    await me.say("/budget")

    _, second = me.calls("sendPhoto")
    [upload] = second.files.values()
    assert upload.data.startswith(PNG_SIGNATURE)
    assert charts.draws == 2


async def test_without_a_budget_the_resident_is_told_so(
    me: Person,
    repos: Repos,
    renderer: Renderer,
    resident: Resident,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_budget(*args: object, **kwargs: object) -> None:
        return None

    monkeypatch.setattr(repos.budget, "current", no_budget)

    await me.say("/budget")

    refused = renderer.render("budget_refused", resident.language, "telegram", code="no_budget")
    assert me.screen()["text"] == refused
    assert me.calls("sendPhoto") == []


async def test_an_unlinked_user_is_asked_to_share_the_phone(
    dp: Dispatcher, bot: Bot, api: FakeTelegramAPI, demo: Municipality, charts: ChartCache
) -> None:
    stranger = Person(dp, bot, api, STRANGER)
    await stranger.say("/budget")
    await stranger.feed(telegram_callback_update("menu:budget", STRANGER))

    asked = stranger.calls("sendMessage")
    assert len(asked) == 2
    for call in asked:
        [contact] = buttons(call.params)
        assert contact["request_contact"] is True
    assert stranger.calls("sendPhoto") == [] and charts.draws == 0


async def test_a_project_by_command_and_by_button(
    me: Person, repos: Repos, renderer: Renderer, demo: Municipality, resident: Resident
) -> None:
    details = await budget_summary.project_details(repos, demo, 1)
    expected = renderer.render("project", resident.language, "telegram", details=details)

    await me.say("/project 1")
    assert me.screen()["text"] == expected

    await me.say("/budget")
    await me.press("bp:1")
    assert me.screen()["text"] == expected

    await me.say("/project 999")
    assert me.screen()["text"] == renderer.render(
        "budget_refused", resident.language, "telegram", code="unknown_project", number=999
    )


# --- monitoring acts --------------------------------------------------------------------


async def test_a_monitor_files_an_act_with_two_photos(
    member: Person,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    monitor: Resident,
) -> None:
    await member.say("/act")
    assert step("project", "1") in member.shown() and step("cancel") in member.shown()
    await member.press(step("project", "1"))
    assert member.shown() == [
        step("kind", "tender"),
        step("kind", "purchase"),
        step("kind", "handover"),
        step("kind", "use"),
        step("cancel"),
    ]
    await member.press(step("kind", "purchase"))
    assert member.shown() == [step("done"), step("cancel")]

    await member.say("120 t of gravel delivered;")
    await member.say("BUDGET")  # a keyword in the act's text is text, not a command
    statuses = len(member.calls("sendMessage"))
    await member.photo("PHOTO-A", album="album-1", caption="the invoices checked")
    await member.photo("PHOTO-B", album="album-1")
    # one status message for the album, edited as the photos arrive
    assert len(member.calls("sendMessage")) == statuses + 1
    assert member.screens()[-1].method == "editMessageText"
    assert member.calls("sendPhoto") == []  # the form did not show the budget

    await member.press(step("done"))

    [act] = await repos.db.fetchall(
        "SELECT id, project_id, author_id, kind, body FROM monitoring_acts WHERE project_id = 1"
    )
    assert tuple(act)[1:] == (
        1,
        monitor.id,
        "purchase",
        "120 t of gravel delivered; BUDGET the invoices checked",
    )
    photos = await repos.db.fetchall(
        "SELECT position, telegram_file_id FROM act_photos WHERE act_id = ? ORDER BY position",
        (act[0],),
    )
    assert [tuple(p) for p in photos] == [(1, "PHOTO-A"), (2, "PHOTO-B")]  # the largest sizes
    project = await repos.budget.project(demo.id, 1)
    assert member.screen()["text"] == renderer.render(
        "act_filed", monitor.language, "telegram", project=project, act_id=act[0], kind="purchase"
    )
    assert "menu:budget" in member.shown()


async def test_an_act_forms_receipt_refused_for_the_moment_is_queued(
    member: Person, api: FakeTelegramAPI, repos: Repos, monitor: Resident
) -> None:
    """The form's receipt of a line of the act is a message the handler sends itself: a
    Telegram busy for the moment queues it (the update does not fail, which would make
    Telegram deliver it again), and the line is kept."""
    await member.say("/act")
    await member.press(step("project", "1"))
    await member.press(step("kind", "purchase"))
    api.fail_next("sendMessage", 429, retry_after=3)

    await member.say("120 t of gravel delivered")

    rows = await repos.db.fetchall("SELECT address FROM outbox WHERE channel = 'telegram'")
    assert [row[0] for row in rows] == [str(MONITOR_USER)]
    await member.say("and checked")  # the next receipt goes out as usual
    await member.press(step("done"))
    [body] = await repos.db.fetchall("SELECT body FROM monitoring_acts WHERE project_id = 1")
    assert body[0] == "120 t of gravel delivered and checked"


async def test_a_resident_reads_the_acts_with_their_photos(
    me: Person,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    monitor: Resident,
    resident: Resident,
    clock: FakeClock,
) -> None:
    _, act_id = await monitoring.file_act(
        repos, demo, monitor, 1, "handover", "Handed over", now=clock.now(),
        photos=["PHOTO-A", "PHOTO-B"],
    )  # fmt: skip
    await monitoring.file_act(
        repos, demo, monitor, 1, "use", "", now=clock.now(), photos=["PHOTO-C"]
    )

    await me.say("/acts 1")

    _, acts = await monitoring.acts_for(repos, demo, 1)
    text = me.screen()["text"]
    assert "Handed over" in text and text.count("№") >= 3
    [album] = me.calls("sendMediaGroup")
    assert [item["media"] for item in album.params["media"]] == ["PHOTO-A", "PHOTO-B"]
    assert album.files == {}  # by file_id: nothing uploaded
    [single] = me.calls("sendPhoto")
    assert single.params["photo"] == "PHOTO-C" and single.files == {}
    assert f"№{act_id}" in album.params["media"][0]["caption"]
    assert [len(a.photos) for a in acts] == [1, 2]  # the newest first

    # the button under the project leads to the same list
    await me.say("/project 1")
    assert "ba:1" in me.shown()
    await me.press("ba:1")
    assert me.screen()["text"] == text


async def test_a_non_monitor_is_refused_and_nothing_is_stored(
    me: Person, repos: Repos, renderer: Renderer, resident: Resident
) -> None:
    before = await table_snapshot(repos, *ACT_TABLES)

    await me.say("/act")

    assert me.screen()["text"] == renderer.render(
        "budget_refused", resident.language, "telegram", code="not_monitor"
    )
    await me.feed(telegram_callback_update(step("done"), USER))  # a forged button
    await me.say("some text")  # not an act: the text command router answers
    assert await table_snapshot(repos, *ACT_TABLES) == before


async def test_cancel_leaves_nothing_behind(
    member: Person, repos: Repos, renderer: Renderer, monitor: Resident
) -> None:
    before = await table_snapshot(repos, *ACT_TABLES)
    await member.say("/act")
    await member.press(step("project", "2"))
    await member.press(step("kind", "tender"))
    await member.photo("PHOTO-X")
    await member.press(step("cancel"))

    assert await table_snapshot(repos, *ACT_TABLES) == before
    await member.say("/cancel")  # no form any more: nothing happens twice
    assert await table_snapshot(repos, *ACT_TABLES) == before


async def test_an_act_without_text_or_photos_is_not_filed(
    member: Person, repos: Repos, monitor: Resident
) -> None:
    await member.say("/act")
    await member.press(step("project", "1"))
    await member.press(step("kind", "use"))
    answer = await member.press(step("done"))
    assert answer.get("show_alert") is True
    # (the demo's acts are on the excavator, project 5)
    assert await repos.db.fetchall("SELECT id FROM monitoring_acts WHERE project_id = 1") == []
    await member.say("Built and used")
    await member.press(step("done"))
    assert len(await repos.db.fetchall("SELECT id FROM monitoring_acts WHERE project_id = 1")) == 1


# --- ratings ----------------------------------------------------------------------------


async def test_rating_buttons_store_one_rating_per_service_and_the_last_counts(
    me: Person,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    resident: Resident,
    clock: FakeClock,
) -> None:
    await ratings.open_round(repos, demo, "2026", ["Schools", "Roads"], now=clock.now())
    schools, roads = await ratings.current_services(repos, demo)

    await me.say("/rate")
    assert me.shown() == [
        f"rate:{schools.id}:0", *(f"rate:{schools.id}:{n}" for n in range(1, 6)),
        f"rate:{roads.id}:0", *(f"rate:{roads.id}:{n}" for n in range(1, 6)),
        "menu:menu",
    ]  # fmt: skip

    answer = await me.press(f"rate:{schools.id}:3")
    assert answer["text"] == renderer.render(
        "rated", resident.language, "telegram", service=schools, score=3
    )
    await me.press(f"rate:{schools.id}:5")
    await me.press(f"rate:{roads.id}:2")

    rows = await repos.db.fetchall(
        "SELECT service_id, resident_id, score FROM ratings WHERE service_id IN (?, ?)"
        " ORDER BY service_id",
        (schools.id, roads.id),
    )
    assert [tuple(r) for r in rows] == [(schools.id, resident.id, 5), (roads.id, resident.id, 2)]
    labels = [b["text"] for b in buttons(me.screen())]
    assert "✅ 5" in labels and "✅ 2" in labels and "✅ 3" not in labels


async def test_rating_marks_follow_a_rating_sent_by_sms(
    me: Person,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    resident: Resident,
    clock: FakeClock,
) -> None:
    await ratings.open_round(repos, demo, "2026", ["Schools", "Roads"], now=clock.now())
    schools, _ = await ratings.current_services(repos, demo)
    await me.say("/rate")
    await me.press(f"rate:{schools.id}:3")
    # the same resident rates by SMS: Schools 4, Roads 1
    for text in ("R 1 4", "R 2 1"):
        await handle_text(
            repos, renderer, municipality=demo, phone=resident.phone, text=text,
            channel="sms", now=clock.now(),
        )  # fmt: skip

    await me.say("/rate")

    labels = [b["text"] for b in buttons(me.screen())]
    assert [label for label in labels if label.startswith("✅")] == ["✅ 4", "✅ 1"]


async def test_without_a_round_rating_is_refused(
    me: Person, renderer: Renderer, resident: Resident
) -> None:
    await me.say("/rate")
    assert me.screen()["text"] == renderer.render(
        "rate_refused", resident.language, "telegram", code="no_round"
    )
