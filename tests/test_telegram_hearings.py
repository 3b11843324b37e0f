"""Hearings in Telegram end to end: the staff form, Publish, and the residents' RSVP buttons.

Real Updates go through the Dispatcher; a real (fake) Bot API server receives what the
bot sends; the database is checked afterwards.
"""

from __future__ import annotations

import functools
import json
from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot, Dispatcher

from bot.channels.telegram.dispatcher import build_dispatcher
from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data, hearings
from storage.db import connect
from storage.models import Hearing, Municipality, Resident
from storage.repos import Repos
from tests.conftest import FakeClock, table_snapshot
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.webhooks import telegram_callback_update, telegram_message_update
from tests.telegram_helpers import feed_update

STAFF_USER = 6_000_001
RESIDENT_USER = 6_000_002
HEARING_TABLES = ("hearings", "invitations", "rsvps", "outbox")


async def _link(repos: Repos, demo: Municipality, phone: str, user: int, now: str) -> Resident:
    found = await repos.residents.by_phone(demo.id, phone)
    assert found is not None
    await repos.residents.link_telegram(found.id, user, now=now)
    linked = await repos.residents.by_id(found.id)
    assert linked is not None
    return linked


@pytest.fixture
async def staff(repos: Repos, demo: Municipality, clock: FakeClock) -> Resident:
    return await _link(repos, demo, demo_data.ADMIN_PHONE, STAFF_USER, iso(clock.now()))


@pytest.fixture
async def resident(repos: Repos, demo: Municipality, clock: FakeClock) -> Resident:
    linked = await _link(repos, demo, demo_data.RESIDENT_PHONE, RESIDENT_USER, iso(clock.now()))
    assert not await repos.roles.of(linked.id)
    return linked


def last_text(api: FakeTelegramAPI) -> dict[str, Any]:
    """The last message the bot sent or edited into place."""
    return [c.params for c in api.calls() if c.method in ("sendMessage", "editMessageText")][-1]


def callbacks(params: dict[str, Any]) -> list[str]:
    rows = (params.get("reply_markup") or {}).get("inline_keyboard") or []
    return [button["callback_data"] for row in rows for button in row]


def form(
    renderer: Renderer, language: str, step: str, error: str | None = None, limit: int = 0
) -> str:
    """The form's question of ``step`` as the bot words it (after ``error``, if any)."""
    return renderer.render(
        "tg_hearing_form", language, "telegram", step=step, error=error, limit=limit
    )


async def new_hearing(repos: Repos, demo: Municipality, clock: FakeClock, **extra) -> Hearing:
    return await hearings.create_hearing(
        repos,
        demo,
        kind="formation",
        starts_at=clock.now() + timedelta(days=10),
        place="Club, Ak-Chiy",
        now=clock.now(),
        **extra,
    )


async def published(
    repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock
) -> Hearing:
    hearing = await new_hearing(repos, demo, clock)
    await hearings.publish(repos, renderer, hearing, now=clock.now())
    return hearing


async def audited(repos: Repos, hearing: Hearing) -> list[tuple]:
    """(who, via, action) of the audit trail's rows about ``hearing``."""
    rows = await repos.db.fetchall(
        "SELECT actor_id, via, action FROM audit_log WHERE object_kind = 'hearing'"
        " AND object_id = ? ORDER BY id",
        (hearing.id,),
    )
    return [tuple(row) for row in rows]


@pytest.fixture
def fill(feed):
    """Answer the form's steps up to (not including) ``until``."""

    async def fill(until: str = "summary", *, village: int | None = None) -> None:
        steps = [
            ("kind", telegram_callback_update("hf:kind:formation", STAFF_USER)),
            ("date", telegram_message_update("2026-12-04", STAFF_USER)),
            ("time", telegram_message_update("10:00", STAFF_USER)),
            ("place", telegram_message_update("  Ak-Chiy   village club ", STAFF_USER)),
            (
                "audience",
                telegram_callback_update(f"hf:audience:{village or 'all'}", STAFF_USER),
            ),
            ("agenda", telegram_message_update("The draft budget for 2027", STAFF_USER)),
        ]
        await feed(telegram_message_update("/newhearing", STAFF_USER))
        for step, update in steps:
            if step == until:
                return
            await feed(update)

    return fill


# --- the staff form ---------------------------------------------------------------------


async def test_the_whole_form_creates_the_hearing_at_local_time_in_utc(
    fill,
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    staff: Resident,
) -> None:
    language = staff.language
    kachybek = next(v for v in await repos.municipalities.villages(demo.id) if v.name == "Kachybek")
    before = {h.id for h in await repos.hearings.all(demo.id)}

    await feed(telegram_message_update("/newhearing", STAFF_USER))
    ask = last_text(api)
    assert ask["text"] == form(renderer, language, "kind")
    assert callbacks(ask) == ["hf:kind:formation", "hf:kind:execution", "hf:cancel:"]

    await fill("summary", village=kachybek.id)
    summary = last_text(api)
    assert "Ak-Chiy village club" in summary["text"]
    assert "Kachybek" in summary["text"]
    assert callbacks(summary) == ["hf:create:", "hf:cancel:"]
    assert {h.id for h in await repos.hearings.all(demo.id)} == before  # nothing yet

    await feed(telegram_callback_update("hf:create:", STAFF_USER))

    [hearing] = [h for h in await repos.hearings.all(demo.id) if h.id not in before]
    assert hearing.starts_at == "2026-12-04T04:00:00.000+00:00"  # 10:00 in Bishkek (UTC+6)
    assert (hearing.kind, hearing.place, hearing.village_id, hearing.agenda) == (
        "formation",
        "Ak-Chiy village club",
        kachybek.id,
        "The draft budget for 2027",
    )
    assert hearing.status == "draft"
    assert await audited(repos, hearing) == [(staff.id, "telegram", "hearing created")]
    created = last_text(api)
    assert created["text"].startswith("✅ ") and f"№{hearing.id}" in created["text"]
    assert callbacks(created) == [f"hp:{hearing.id}"]
    assert len(api.calls("answerCallbackQuery")) == 3  # kind, audience, create
    # The form is over: a second tap on Create creates nothing more.
    await feed(telegram_callback_update("hf:create:", STAFF_USER))
    assert len(await repos.hearings.all(demo.id)) == len(before) + 1


async def test_a_restart_halfway_through_the_form_continues_it(
    fill,
    db_url: str,
    bot: Bot,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    clock: FakeClock,
    demo: Municipality,
    staff: Resident,
) -> None:
    """``civic-bot run`` restarted (a deploy, a crash) once the date and time were given:
    the new process, on the same database, goes on from the place and creates the hearing
    with the answers given before the restart."""
    before = {h.id for h in await repos.hearings.all(demo.id)}
    await fill("place")

    async with connect(db_url) as db:
        restarted = build_dispatcher(repos=Repos(db), renderer=renderer, clock=clock)
        feed = functools.partial(feed_update, restarted, bot)
        await feed(telegram_message_update("Ak-Chiy village club", STAFF_USER))
        assert last_text(api)["text"] == form(renderer, staff.language, "audience")
        await feed(telegram_callback_update("hf:audience:all", STAFF_USER))
        await feed(telegram_callback_update("hf:skip:", STAFF_USER))
        assert callbacks(last_text(api)) == ["hf:create:", "hf:cancel:"]
        await feed(telegram_callback_update("hf:create:", STAFF_USER))

    [hearing] = [h for h in await repos.hearings.all(demo.id) if h.id not in before]
    assert hearing.starts_at == "2026-12-04T04:00:00.000+00:00"  # 10:00 in Bishkek
    assert (hearing.kind, hearing.place, hearing.village_id, hearing.agenda) == (
        "formation",
        "Ak-Chiy village club",
        None,
        "",
    )


async def test_the_village_buttons_are_the_municipalitys_villages(
    fill, api: FakeTelegramAPI, repos: Repos, demo: Municipality, staff: Resident
) -> None:
    await fill("audience")

    villages = await repos.municipalities.villages(demo.id)
    assert callbacks(last_text(api)) == [
        "hf:audience:all",
        *[f"hf:audience:{v.id}" for v in villages],
        "hf:cancel:",
    ]


@pytest.mark.parametrize("how", ["button", "command"])
async def test_cancel_at_a_middle_step_creates_nothing_and_ends_the_form(
    how: str,
    fill,
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    staff: Resident,
) -> None:
    before = await table_snapshot(repos, *HEARING_TABLES)
    await fill("audience")

    if how == "button":
        await feed(telegram_callback_update("hf:cancel:", STAFF_USER))
    else:
        await feed(telegram_message_update("/cancel", STAFF_USER))

    assert last_text(api)["text"] == renderer.render(
        "tg_hearing_form_cancelled", staff.language, "telegram"
    )
    # The old buttons of the form lead nowhere now.
    await feed(telegram_callback_update("hf:audience:all", STAFF_USER))
    await feed(telegram_callback_update("hf:create:", STAFF_USER))
    assert await table_snapshot(repos, *HEARING_TABLES) == before


async def test_cancel_keeps_what_other_features_keep_in_the_fsm(
    fill, feed, dp: Dispatcher, bot: Bot, staff: Resident
) -> None:
    state = dp.fsm.get_context(bot, chat_id=STAFF_USER, user_id=STAFF_USER)
    await state.update_data(ballots={"7": [[1, None]]})
    await fill("time")

    await feed(telegram_callback_update("hf:cancel:", STAFF_USER))

    assert await state.get_state() is None
    assert await state.get_data() == {"ballots": {"7": [[1, None]]}}


@pytest.mark.parametrize(
    ("text", "error"),
    [("2026-13-45", "bad_date"), ("tomorrow", "bad_date"), ("2026-11-24", "past_date")],
)
async def test_a_bad_date_is_explained_and_the_step_asked_again(
    text: str,
    error: str,
    fill,
    feed,
    api: FakeTelegramAPI,
    renderer: Renderer,
    staff: Resident,
) -> None:
    await fill("date")

    await feed(telegram_message_update(text, STAFF_USER))
    assert last_text(api)["text"] == form(renderer, staff.language, "date", error)
    await feed(telegram_message_update(text, STAFF_USER))  # still the date step
    assert last_text(api)["text"] == form(renderer, staff.language, "date", error)

    await feed(telegram_message_update("04.12.2026", STAFF_USER))
    assert last_text(api)["text"] == form(renderer, staff.language, "time")


async def test_a_bad_or_past_time_and_an_empty_place_stay_on_their_step(
    fill, feed, api: FakeTelegramAPI, renderer: Renderer, clock: FakeClock, staff: Resident
) -> None:
    language = staff.language
    await fill("date")
    await feed(telegram_message_update("2026-11-25", STAFF_USER))  # today (10:00 local now)
    await feed(telegram_message_update("25:00", STAFF_USER))
    assert last_text(api)["text"] == form(renderer, language, "time", "bad_time")
    await feed(telegram_message_update("09:30", STAFF_USER))
    assert last_text(api)["text"] == form(renderer, language, "time", "past_time")
    await feed(telegram_message_update("18:00", STAFF_USER))
    assert last_text(api)["text"] == form(renderer, language, "place")

    await feed(telegram_message_update("   ", STAFF_USER))
    assert last_text(api)["text"] == form(renderer, language, "place", "empty_place")
    await feed(telegram_message_update("x" * 201, STAFF_USER))
    assert last_text(api)["text"] == form(renderer, language, "place", "too_long", limit=200)
    await feed(telegram_message_update("Club", STAFF_USER))
    assert last_text(api)["text"] == form(renderer, language, "audience")


async def test_skipping_the_agenda_and_a_form_left_open_past_its_time(
    fill,
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    clock: FakeClock,
    demo: Municipality,
    staff: Resident,
) -> None:
    await fill("agenda")
    await feed(telegram_callback_update("hf:skip:", STAFF_USER))
    assert callbacks(last_text(api)) == ["hf:create:", "hf:cancel:"]
    count = len(await repos.hearings.all(demo.id))

    clock.advance(days=30)  # the summary sat open until after the hearing's time
    await feed(telegram_callback_update("hf:create:", STAFF_USER))

    assert len(await repos.hearings.all(demo.id)) == count
    assert last_text(api)["text"] == form(renderer, staff.language, "date", "past_time")


async def test_a_non_staff_resident_is_refused_the_form_and_its_buttons(
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    resident: Resident,
) -> None:
    draft = await new_hearing(repos, demo, clock)
    before = await table_snapshot(repos, *HEARING_TABLES)
    refusal = renderer.render("staff_only", resident.language, "telegram")

    await feed(telegram_message_update("/newhearing", RESIDENT_USER))
    assert last_text(api)["text"] == refusal
    for forged in ("hf:kind:formation", "hf:create:", f"hp:{draft.id}"):
        await feed(telegram_callback_update(forged, RESIDENT_USER))
        answer = api.calls("answerCallbackQuery")[-1].params
        assert answer["text"] == refusal and answer["show_alert"] is True
    await feed(telegram_message_update("2026-12-04", RESIDENT_USER))  # not a form answer

    assert await table_snapshot(repos, *HEARING_TABLES) == before
    assert len(api.calls("sendMessage")) == 2  # the refusal and the text command's reply


async def test_a_role_taken_away_halfway_stops_the_form(
    fill,
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    staff: Resident,
) -> None:
    before = await table_snapshot(repos, *HEARING_TABLES)
    await fill("summary")
    for role in ("staff", "admin"):
        await repos.roles.revoke(resident_id=staff.id, role=role)

    await feed(telegram_callback_update("hf:create:", STAFF_USER))

    answer = api.calls("answerCallbackQuery")[-1].params
    assert answer["text"] == renderer.render("staff_only", staff.language, "telegram")
    assert await table_snapshot(repos, *HEARING_TABLES) == before


async def test_an_unlinked_user_is_asked_for_the_phone(
    feed, api: FakeTelegramAPI, repos: Repos, renderer: Renderer
) -> None:
    await feed(telegram_message_update("/newhearing", STAFF_USER, language_code="ru"))

    assert last_text(api)["text"] == renderer.render("tg_share_phone", "ru", "telegram")


# --- Publish ----------------------------------------------------------------------------


async def test_publish_queues_invitations_with_rsvp_buttons(
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    staff: Resident,
) -> None:
    hearing = await new_hearing(repos, demo, clock, village="Kachybek")

    await feed(telegram_callback_update(f"hp:{hearing.id}", STAFF_USER))

    rows = await repos.db.fetchall(
        "SELECT channel, reply_markup FROM outbox WHERE dedupe_key LIKE ?",
        (f"hearing:{hearing.id}:invite:%",),
    )
    assert rows
    telegram = [json.loads(r["reply_markup"]) for r in rows if r["channel"] == "telegram"]
    assert all(r["reply_markup"] is None for r in rows if r["channel"] != "telegram")
    for markup in telegram:
        data = [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
        assert data == [f"rsvp:{hearing.id}:{a}" for a in ("yes", "no", "maybe")]
    assert last_text(api)["text"] == renderer.render(
        "tg_hearing_published", staff.language, "telegram", number=hearing.id, queued=len(rows)
    )
    fresh = await repos.hearings.get(demo.id, hearing.id)
    assert fresh is not None and fresh.status == "published"
    assert (staff.id, "telegram", "hearing published") in await audited(repos, hearing)


async def test_a_double_tapped_publish_leaves_the_count_of_invitations(
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    staff: Resident,
) -> None:
    hearing = await new_hearing(repos, demo, clock, village="Kachybek")
    await feed(telegram_callback_update(f"hp:{hearing.id}", STAFF_USER, message_id=77))
    queued = await repos.db.fetchval(
        "SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE ?", (f"hearing:{hearing.id}:invite:%",)
    )
    shown = renderer.render(
        "tg_hearing_published", staff.language, "telegram", number=hearing.id, queued=queued
    )
    assert last_text(api)["text"] == shown
    screens = len(api.calls("editMessageText")) + len(api.calls("sendMessage"))

    await feed(telegram_callback_update(f"hp:{hearing.id}", STAFF_USER, message_id=77))

    assert len(api.calls("editMessageText")) + len(api.calls("sendMessage")) == screens
    assert last_text(api)["text"] == shown  # not "no new invitations"
    assert len(api.calls("answerCallbackQuery")) == 2
    assert await repos.db.fetchval(
        "SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE ?", (f"hearing:{hearing.id}:invite:%",)
    ) == queued  # fmt: skip


async def test_publish_of_a_cancelled_hearing_is_refused(
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    staff: Resident,
) -> None:
    hearing = await new_hearing(repos, demo, clock)
    await hearings.cancel(repos, renderer, hearing, now=clock.now())
    before = await table_snapshot(repos, *HEARING_TABLES)

    await feed(telegram_callback_update(f"hp:{hearing.id}", STAFF_USER))

    assert last_text(api)["text"] == renderer.render(
        "tg_hearing_error", staff.language, "telegram", code="cancelled", number=hearing.id
    )
    assert await table_snapshot(repos, *HEARING_TABLES) == before


async def test_publish_of_a_hearing_that_has_begun_is_refused(
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    staff: Resident,
) -> None:
    """Made with the form, its Publish button tapped only once it had begun: the
    service's refusal, in the staff member's language, and nobody invited."""
    hearing = await new_hearing(repos, demo, clock)
    clock.advance(days=10)
    before = await table_snapshot(repos, *HEARING_TABLES)

    await feed(telegram_callback_update(f"hp:{hearing.id}", STAFF_USER))

    assert last_text(api)["text"] == renderer.render(
        "tg_hearing_error", staff.language, "telegram", code="past", number=hearing.id
    )
    assert await table_snapshot(repos, *HEARING_TABLES) == before


# --- RSVP by button ---------------------------------------------------------------------


async def test_rsvp_buttons_record_the_answer_and_keep_the_code(
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    resident: Resident,
) -> None:
    hearing = await published(repos, renderer, demo, clock)
    update = telegram_callback_update(f"rsvp:{hearing.id}:yes", RESIDENT_USER, message_id=77)

    await feed(update)

    rsvp = await repos.hearings.rsvp(hearing.id, resident.id)
    assert rsvp is not None and rsvp.answer == "yes" and len(rsvp.code) == 5
    [answered] = api.calls("answerCallbackQuery")
    assert answered.params["callback_query_id"] == update["callback_query"]["id"]
    [edit] = api.calls("editMessageText")
    assert (edit.params["chat_id"], edit.params["message_id"]) == (RESIDENT_USER, 77)
    assert rsvp.code in edit.params["text"]
    assert callbacks(edit.params) == [f"rsvp:{hearing.id}:{a}" for a in ("yes", "no", "maybe")]

    await feed(telegram_callback_update(f"rsvp:{hearing.id}:no", RESIDENT_USER, message_id=77))

    again = await repos.hearings.rsvp(hearing.id, resident.id)
    assert again is not None and (again.answer, again.code) == ("no", rsvp.code)
    rows = await repos.db.fetchall("SELECT answer FROM rsvps WHERE hearing_id = ?", (hearing.id,))
    assert [r["answer"] for r in rows] == ["no"]
    assert last_text(api)["text"] == renderer.render(
        "rsvp_ok",
        resident.language,
        "telegram",
        hearing=hearing,
        starts=clock.now() + timedelta(days=10),
        answer="no",
        code=rsvp.code,
    )


async def test_an_rsvp_while_telegram_is_busy_is_recorded_and_its_confirmation_queued(
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    resident: Resident,
) -> None:
    """The button's answer and the edit of the invitation are refused for the moment:
    the answer is recorded all the same (the update does not fail), the spinner's answer
    let go, and the confirmation queued in the outbox as a message of its own."""
    hearing = await published(repos, renderer, demo, clock)
    queued_before = await repos.outbox.pending()
    api.fail_next("answerCallbackQuery", 429, retry_after=2)
    api.fail_next("editMessageText", 502)

    await feed(telegram_callback_update(f"rsvp:{hearing.id}:yes", RESIDENT_USER, message_id=77))

    rsvp = await repos.hearings.rsvp(hearing.id, resident.id)
    assert rsvp is not None and rsvp.answer == "yes"
    assert await repos.outbox.pending() == queued_before + 1
    [key] = await repos.db.fetchall(
        "SELECT dedupe_key FROM outbox WHERE dedupe_key LIKE '%:update:%'"
    )
    queued = await repos.outbox.by_key(key[0])  # a reply is kept sealed, read in clear
    assert queued is not None
    assert queued.address == str(RESIDENT_USER) and rsvp.code in queued.body
    assert queued.reply_markup is not None and f"rsvp:{hearing.id}:maybe" in queued.reply_markup
    assert api.calls("sendMessage") == []  # not tried again at once: Telegram is busy


async def test_rsvp_to_a_cancelled_hearing_is_refused_and_changes_nothing(
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    resident: Resident,
) -> None:
    hearing = await published(repos, renderer, demo, clock)
    await hearings.cancel(repos, renderer, hearing, now=clock.now())
    before = await table_snapshot(repos, *HEARING_TABLES)

    await feed(telegram_callback_update(f"rsvp:{hearing.id}:yes", RESIDENT_USER))

    assert await table_snapshot(repos, *HEARING_TABLES) == before
    assert len(api.calls("answerCallbackQuery")) == 1
    assert api.calls("editMessageText") == []  # the invitation stays as it was
    assert last_text(api)["text"] == renderer.render(
        "rsvp_refused", resident.language, "telegram", code="cancelled", number=hearing.id
    )


async def test_rsvp_from_an_unlinked_user_asks_for_the_phone(
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
) -> None:
    hearing = await published(repos, renderer, demo, clock)
    before = await table_snapshot(repos, *HEARING_TABLES)

    await feed(telegram_callback_update(f"rsvp:{hearing.id}:yes", RESIDENT_USER))

    assert await table_snapshot(repos, *HEARING_TABLES) == before
    assert last_text(api)["text"] == renderer.render("tg_share_phone", "en", "telegram")


async def test_hearings_command_lists_the_upcoming_hearings(
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    resident: Resident,
) -> None:
    hearing = await published(repos, renderer, demo, clock)
    await new_hearing(repos, demo, clock)  # a draft: not shown

    await feed(telegram_message_update("/hearings", RESIDENT_USER))

    starts = clock.now() + timedelta(days=10)
    assert last_text(api)["text"] == renderer.render(
        "hearings", resident.language, "telegram", hearings=[(hearing, starts)]
    )
