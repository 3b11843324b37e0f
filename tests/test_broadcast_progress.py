"""Live broadcast progress for staff in Telegram: one message, edited in place.

A staff member broadcasts from Telegram through the real Dispatcher; the outbox worker
and the progress editor run against a fake Bot API over real HTTP, all on the test's
clock (nothing really sleeps).
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot

from bot.channels.telegram.dispatcher import build_dispatcher
from bot.channels.telegram.progress import ProgressEditor
from bot.channels.telegram.sender import TelegramSender
from bot.core.clock import iso
from bot.core.rendering.sms import sms_size
from bot.core.rendering.templates import Renderer
from bot.core.services import broadcast, demo_data
from bot.outbox.channel import ConsoleSender
from bot.outbox.limits import RateLimiter
from bot.outbox.worker import ChannelLimit, OutboxWorker
from handlers.text import handle_text
from storage.models import Broadcast, Municipality, Resident
from storage.repos import Repos
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.webhooks import telegram_callback_update, telegram_message_update
from tests.telegram_helpers import buttons, feed_update

STAFF_USER = 5_000_001
FIRST = 20
AUDIENCE = 12  # residents 20..31 stay opted in, the rest opt out: a small, quick broadcast
LINKED = 8  # residents 20..27 have linked Telegram (chat id 5000 + id); 28..31 get SMS
LAST = FIRST + AUDIENCE - 1


@pytest.fixture
async def api(clock: FakeClock) -> AsyncIterator[FakeTelegramAPI]:
    # Telegram's limits, on the test's clock
    async with FakeTelegramAPI(
        global_rate=30, per_chat_rate=1, clock=lambda: clock.now().timestamp()
    ) as fake:
        yield fake


@pytest.fixture
async def staff(repos: Repos, demo: Municipality, clock: FakeClock) -> Resident:
    """The admin, linked to Telegram, reading Russian (and no recipient); a small audience."""
    now = iso(clock.now())
    await repos.db.execute(
        "UPDATE residents SET opted_out = TRUE WHERE id NOT BETWEEN ? AND ?", (FIRST, LAST)
    )
    for resident_id in range(FIRST, FIRST + LINKED):
        await repos.residents.link_telegram(resident_id, 5000 + resident_id, now=now)
    admin = await repos.residents.by_phone(demo.id, demo_data.ADMIN_PHONE)
    assert admin is not None and not FIRST <= admin.id <= LAST
    await repos.residents.link_telegram(admin.id, STAFF_USER, now=now)
    await repos.residents.set_language(admin.id, "ru", now=now)
    found = await repos.residents.by_id(admin.id)
    assert found is not None
    return found


@pytest.fixture
def feed(repos: Repos, renderer: Renderer, clock: FakeClock, bot: Bot):
    """Updates through a dispatcher of its own (no demo municipality needed first)."""
    return functools.partial(
        feed_update, build_dispatcher(repos=repos, renderer=renderer, clock=clock), bot
    )


@pytest.fixture
def sms_sent() -> list[str]:
    return []


@pytest.fixture
def worker(
    repos: Repos, demo: Municipality, bot: Bot, clock: FakeClock, sms_sent: list[str]
) -> OutboxWorker:
    async def sleep(seconds: float) -> None:  # time passes only on the test's clock
        clock.advance(seconds=seconds)

    return OutboxWorker(
        repos,
        {"telegram": TelegramSender(bot), "sms": ConsoleSender(sms_sent.append)},
        {"telegram": ChannelLimit(30, 1), "sms": ChannelLimit(100)},
        municipality_id=demo.id,
        clock=clock,
        sleep=sleep,
        rng=random.Random(1),
    )


@pytest.fixture
def editor(
    bot: Bot, repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock
) -> ProgressEditor:
    return ProgressEditor(bot, repos, renderer, municipality_id=demo.id, clock=clock)


def expected(renderer: Renderer, language: str = "ru", **counts: int) -> str:
    data = {"queued": 0, "sent": 0, "delivered": 0, "failed": 0} | counts
    return renderer.render(
        "broadcast_progress",
        language,
        "telegram",
        id=1,
        recipients=AUDIENCE,
        messages=AUDIENCE,
        done=data["queued"] == 0,
        **data,
    )


def edits(api: FakeTelegramAPI) -> list[dict[str, Any]]:
    """The progress editor's edits (after the Confirm that made the counts the progress
    message: :func:`start_broadcast`)."""
    return [call.params for call in api.calls("editMessageText") if call.status == 200][1:]


def staff_messages(api: FakeTelegramAPI) -> list[Any]:
    return [c for c in api.calls("sendMessage") if c.params["chat_id"] == STAFF_USER]


async def start_broadcast(feed, api: FakeTelegramAPI, clock: FakeClock) -> dict[str, Any]:
    """Broadcast from Telegram and confirm it; return the progress message as the fake
    has it."""
    await feed(telegram_message_update("BROADCAST Hearing on Friday <10:00>", STAFF_USER))
    [asked] = staff_messages(api)
    message_id = asked.response["result"]["message_id"]
    await feed(telegram_callback_update("bd:1:go", STAFF_USER, message_id=message_id))
    # the counts become the progress message, with its Cancel button
    [edit] = [c for c in api.calls("editMessageText") if c.params["chat_id"] == STAFF_USER]
    assert edit.params["message_id"] == message_id
    assert [b["callback_data"] for b in buttons(edit.params)] == ["bs:1"]
    return edit.response["result"]


async def test_staff_watch_the_broadcast_drain_in_one_message(
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    clock: FakeClock,
    staff: Resident,
    worker: OutboxWorker,
    editor: ProgressEditor,
    sms_sent: list[str],
) -> None:
    reply = await start_broadcast(feed, api, clock)

    # the reply is the progress message, in the staff member's language, kept on the broadcast
    assert reply["text"] == "Рассылка №1: получателей 12, сообщений 12\nВ очереди: 12\n" + (
        "Отправлено: 0\nДоставлено: 0\nНе доставлено: 0\n⏳ Отправляется…"
    )
    shown = await repos.broadcasts.get(1)
    assert shown is not None
    assert (shown.progress_chat_id, shown.progress_message_id) == (
        STAFF_USER,
        reply["message_id"],
    )
    assert await editor.tick() == 0  # nothing moved yet: no edit

    # the worker drains part (the SMS recipients): the message shows the new counts
    assert await worker.drain_channel("sms") == AUDIENCE - LINKED
    clock.advance(seconds=3)
    assert await editor.tick() == 1
    [edit] = edits(api)
    assert edit["chat_id"] == STAFF_USER
    assert edit["message_id"] == reply["message_id"]
    assert edit["parse_mode"] == "HTML"
    assert edit["text"] == expected(renderer, queued=LINKED, sent=AUDIENCE - LINKED)
    clock.advance(seconds=3)
    assert await editor.tick() == 0

    # the rest: the final edit says done
    assert await worker.drain_channel("telegram") == LINKED
    clock.advance(seconds=3)
    assert await editor.tick() == 1
    final = edits(api)[-1]["text"]
    assert final == expected(renderer, sent=AUDIENCE)
    assert "✅ Готово" in final
    # "civic-bot broadcast status 1" prints the same counts
    assert str(await broadcast.progress(repos, 1)).endswith(
        f"queued 0, sent {AUDIENCE}, delivered 0, failed 0"
    )

    # further looks edit nothing, however long they go on
    for _ in range(5):
        clock.advance(seconds=3)
        assert await editor.tick() == 0
    assert len(edits(api)) == 2
    assert len(sms_sent) == AUDIENCE - LINKED
    assert not api.duplicates()


async def test_a_later_delivery_report_is_shown_after_done(
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    clock: FakeClock,
    staff: Resident,
    worker: OutboxWorker,
    editor: ProgressEditor,
) -> None:
    await start_broadcast(feed, api, clock)
    await worker.drain_channel("sms")
    await worker.drain_channel("telegram")
    clock.advance(seconds=3)
    assert await editor.tick() == 1
    clock.advance(minutes=5)  # long after the last look: a status callback for one SMS
    sms = await repos.outbox.by_key(f"broadcast:1:resident:{LAST}")
    assert sms is not None
    await repos.outbox.set_status(sms.id, "delivered", None, now=iso(clock.now()))
    clock.advance(seconds=3)
    assert await editor.tick() == 1
    assert edits(api)[-1]["text"] == expected(renderer, sent=AUDIENCE - 1, delivered=1)


async def test_a_429_pauses_the_editor_for_retry_after_then_it_catches_up(
    feed,
    api: FakeTelegramAPI,
    renderer: Renderer,
    clock: FakeClock,
    staff: Resident,
    worker: OutboxWorker,
    editor: ProgressEditor,
) -> None:
    await start_broadcast(feed, api, clock)
    await worker.drain_channel("sms")
    api.fail_next("editMessageText", 429, retry_after=7)
    clock.advance(seconds=3)
    assert await editor.tick() == 0
    assert len(api.calls("editMessageText")) == 2  # the Confirm's, and this one refused
    clock.advance(seconds=6)
    assert await editor.tick() == 0
    assert len(api.calls("editMessageText")) == 2  # still paused: not even asked
    await worker.drain_channel("telegram")
    clock.advance(seconds=1)
    assert await editor.tick() == 1  # straight to the latest counts
    assert [e["text"] for e in edits(api)] == [expected(renderer, sent=AUDIENCE)]


async def test_not_modified_and_network_errors_are_handled(
    feed,
    api: FakeTelegramAPI,
    renderer: Renderer,
    clock: FakeClock,
    staff: Resident,
    worker: OutboxWorker,
    editor: ProgressEditor,
) -> None:
    await start_broadcast(feed, api, clock)
    await worker.drain_channel("sms")
    # a server error: not recorded, so the next look tries again
    api.fail_next("editMessageText", 502)
    clock.advance(seconds=3)
    assert await editor.tick() == 0
    clock.advance(seconds=3)
    assert await editor.tick() == 1
    # "message is not modified" (another process edited it already): recorded, no retry
    await worker.drain_channel("telegram")
    api.fail_next(
        "editMessageText",
        400,
        description="Bad Request: message is not modified: specified new message content"
        " and reply markup are exactly the same as a current content and reply markup of"
        " the message",
    )
    clock.advance(seconds=3)
    assert await editor.tick() == 0
    for _ in range(3):
        clock.advance(seconds=3)
        assert await editor.tick() == 0
    assert len(api.calls("editMessageText")) == 1 + 3  # the Confirm's, then the editor's


async def test_sms_staff_still_get_the_short_queued_reply(
    repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock
) -> None:
    handled = await handle_text(
        repos,
        renderer,
        municipality=demo,
        phone=demo_data.ADMIN_PHONE,
        text="BROADCAST Hearing on Friday",
        channel="sms",
        now=clock.now(),
    )
    handled = await handle_text(
        repos, renderer, municipality=demo, phone=demo_data.ADMIN_PHONE, text="YES",
        channel="sms", now=clock.now(),
    )  # fmt: skip
    assert handled.broadcast_id == 1
    assert handled.text.startswith("Жарыя №1 ")
    assert (await repos.broadcasts.get(1)).progress_message_id is None  # type: ignore[union-attr]


async def test_the_editor_stops_cleanly(editor: ProgressEditor, staff: Resident) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(editor.run(stop, interval=3600))
    await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, timeout=2)


@pytest.mark.parametrize("language", ["ky", "ru", "en"])
@pytest.mark.parametrize("done", [False, True])
def test_the_sms_variant_fits_two_segments_with_large_counts(
    renderer: Renderer, language: str, done: bool
) -> None:
    n = 188_888
    text = renderer.render(
        "broadcast_progress",
        language,
        "sms",
        id=12_345,
        recipients=n,
        messages=n,
        queued=0 if done else n,
        sent=n,
        delivered=n,
        failed=n,
        done=done,
    )
    assert sms_size(text).units <= 134


async def test_counts_follow_the_cli_status(repos: Repos, demo: Municipality) -> None:
    progress = broadcast.Progress(
        broadcast=(await _any_broadcast(repos, demo)),
        counts={
            "queued": 2,
            "sending": 1,
            "sent": 5,
            "delivered": 4,
            "failed": 1,
            "undelivered": 2,
        },
    )
    figures = broadcast.progress_figures(progress)
    assert str(progress).endswith(
        f"queued {figures['queued']}, sent {figures['sent']},"
        f" delivered {figures['delivered']}, failed {figures['failed']}"
    )
    assert (figures["queued"], figures["failed"], figures["done"]) == (3, 3, False)


async def _any_broadcast(repos: Repos, demo: Municipality) -> Broadcast:
    progress = await broadcast.create_broadcast(
        repos, demo, body="hello", village="Ak-Chiy", now=datetime(2026, 1, 1, tzinfo=UTC)
    )
    return progress.broadcast


# The worker's rate limit, which the broadcast benchmark (bench/broadcast.py) measures.


def test_the_limit_holds_at_the_provider_whatever_the_latency() -> None:
    """Arrival is between a send's start and its completion: 30 completed more than a
    second before the next starts means never 31 in a second at Telegram, even after a
    late start (an overslept sleep) bunches the planned slots."""
    now = [0.0]
    limiter = RateLimiter(30, per_key_rate=1, clock=lambda: now[0])
    starts, completions = [], []
    for n in range(120):
        now[0] += limiter.reserve(f"chat{n}")
        if n % 30 == 0:
            now[0] += 0.004  # overslept
        starts.append(now[0])
        now[0] += 0.012 if n % 7 == 0 else 0.0005  # the request's latency
        completions.append(now[0])
        limiter.completed(f"chat{n}")
    assert all(starts[n] >= completions[n - 30] + 1.0 for n in range(30, 120))
    assert starts[-1] - starts[0] < 119 / 30 + 0.1  # and hardly slower than the limit
    # a chat's next message: a full second after its last one completed
    assert limiter.key_delay("chat119") == pytest.approx(1.0)


# ---------------------------------------------------------------- confirm and cancel

CONFIRM_TEXTS = {
    "ky": ("Жарыя <b>12</b> кишиге: Telegram 8, SMS 4. Жөнөтөлүбү?", "Жарыя жокко чыгарылды"),
    "ru": ("Рассылка <b>12</b> получателям: Telegram 8, SMS 4. Отправить?", "Рассылка отменена"),
    "en": ("Broadcast to <b>12</b> residents: Telegram 8, SMS 4. Send it?", "Broadcast cancelled"),
}


async def ask(feed, api: FakeTelegramAPI, repos: Repos, language: str, clock: FakeClock) -> int:
    """BROADCAST from the staff member reading ``language``: the id of the message with
    the counts by channel and Confirm / Cancel under it; nothing queued yet."""
    admin = await repos.residents.by_telegram(1, STAFF_USER)
    assert admin is not None
    await repos.residents.set_language(admin.id, language, now=iso(clock.now()))
    await feed(telegram_message_update("BROADCAST Hearing on Friday", STAFF_USER))
    asked = staff_messages(api)[-1]
    assert asked.params["text"] == CONFIRM_TEXTS[language][0]
    assert [b["callback_data"] for b in buttons(asked.params)] == ["bd:1:go", "bd:1:drop"]
    assert await repos.db.fetchval("SELECT COUNT(*) FROM outbox") == 0
    return asked.response["result"]["message_id"]


@pytest.mark.parametrize("language", ["ky", "ru", "en"])
async def test_a_double_tapped_confirm_queues_the_broadcast_once(
    feed, api: FakeTelegramAPI, repos: Repos, clock: FakeClock, staff: Resident, language: str
) -> None:
    message_id = await ask(feed, api, repos, language, clock)
    tap = functools.partial(telegram_callback_update, "bd:1:go", STAFF_USER, message_id=message_id)
    await feed(tap())
    await feed(tap())
    assert await repos.db.fetchval("SELECT COUNT(*) FROM broadcasts") == 1
    assert await repos.db.fetchval("SELECT COUNT(*) FROM outbox") == AUDIENCE
    second = api.calls("answerCallbackQuery")[-1].params
    assert second.get("text")  # said: nothing more was sent


@pytest.mark.parametrize("language", ["ky", "ru", "en"])
async def test_cancel_under_the_counts_queues_nothing(
    feed, api: FakeTelegramAPI, repos: Repos, clock: FakeClock, staff: Resident, language: str
) -> None:
    message_id = await ask(feed, api, repos, language, clock)
    await feed(telegram_callback_update("bd:1:drop", STAFF_USER, message_id=message_id))
    [edit] = api.calls("editMessageText")
    assert edit.params["text"].startswith(CONFIRM_TEXTS[language][1])
    assert not buttons(edit.params)
    # Confirm tapped after Cancel: still nothing
    await feed(telegram_callback_update("bd:1:go", STAFF_USER, message_id=message_id))
    assert await repos.db.fetchval("SELECT COUNT(*) FROM broadcasts") == 0
    assert await repos.db.fetchval("SELECT COUNT(*) FROM outbox") == 0


async def test_cancel_under_the_progress_stops_what_waits_and_the_button_goes(
    feed,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    clock: FakeClock,
    staff: Resident,
    worker: OutboxWorker,
    editor: ProgressEditor,
) -> None:
    reply = await start_broadcast(feed, api, clock)
    await worker.drain_channel("sms")
    clock.advance(seconds=3)
    assert await editor.tick() == 1
    assert [b["callback_data"] for b in buttons(edits(api)[-1])] == ["bs:1"]  # still waiting
    # a resident who is not staff cannot cancel it
    resident = await repos.residents.by_id(FIRST)
    assert resident is not None and resident.telegram_user_id is not None
    await feed(telegram_callback_update("bs:1", resident.telegram_user_id, message_id=1))
    assert await repos.db.fetchval("SELECT COUNT(*) FROM outbox WHERE status = 'queued'") == LINKED
    # staff tap Cancel: what waits (the Telegram messages) will not go
    tap = telegram_callback_update("bs:1", STAFF_USER, message_id=reply["message_id"])
    await feed(tap)
    answer = api.calls("answerCallbackQuery")[-1].params
    assert answer["text"] == f"Рассылка отменена: {LINKED} сообщений не будут отправлены."
    assert await repos.db.fetchval("SELECT COUNT(*) FROM outbox WHERE status = 'queued'") == 0
    assert await worker.drain_channel("telegram") == 0
    clock.advance(seconds=3)
    assert await editor.tick() == 1
    final = edits(api)[-1]
    assert final["text"] == expected(renderer, sent=AUDIENCE - LINKED, failed=LINKED)
    assert not buttons(final)  # done: no Cancel any more
