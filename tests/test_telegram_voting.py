"""The Telegram ballot end to end: real Updates in, a real (fake) Bot API server out.

A linked demo resident opens a poll, taps buttons (each tap edits the one ballot
message), sees a summary and confirms; the tests check the Bot API requests and the
ballots and turnout in the database.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram import Bot, Dispatcher

from bot.channels.telegram.dispatcher import build_dispatcher
from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data
from bot.core.services.polls import OptionSpec, create_poll
from handlers.telegram.voting import BallotStep, BallotTap, PollPick
from storage.db import connect
from storage.models import Municipality, Poll, PollOption, Resident
from storage.repos import Repos
from tests.conftest import FakeClock, table_snapshot
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.webhooks import telegram_callback_update
from tests.processes import TEST_BALLOT_KEY
from tests.telegram_helpers import SCREEN_METHODS, TelegramApp, buttons
from tests.test_telegram_handlers import USER

VOTING_TABLES = ("turnout", "box_ballots")
LABELS = ["Kindergarten", "Roads & bridges", "Street lighting", "Sports hall", "Park"]
COSTS = [400_000, 457_000, 467_500, 1_739_000, None]


@pytest.fixture
async def linked(repos: Repos, demo: Municipality, clock: FakeClock) -> Resident:
    resident = await repos.residents.by_phone(demo.id, demo_data.RESIDENT_PHONE)
    assert resident is not None
    await repos.residents.link_telegram(resident.id, USER, now=iso(clock.now()))
    found = await repos.residents.by_id(resident.id)
    assert found is not None and found.telegram_user_id == USER
    return found


@pytest.fixture
def voter(dp: Dispatcher, bot: Bot, api: FakeTelegramAPI) -> TelegramApp:
    """The linked resident's Telegram app."""
    return TelegramApp(dp, bot, api, USER)


async def make_poll(
    repos: Repos,
    demo: Municipality,
    clock: FakeClock,
    ballot_type: str,
    max_choices: int | None = None,
    title: str = "Priorities 2027",
) -> tuple[Poll, list[PollOption]]:
    poll = await create_poll(
        repos,
        demo,
        title=title,
        ballot_type=ballot_type,
        options=[OptionSpec(label, cost) for label, cost in zip(LABELS, COSTS, strict=True)],
        opens_at=clock.now() - timedelta(hours=1),
        closes_at=clock.now() + timedelta(days=7),
        now=clock.now(),
        max_choices=max_choices,
    )
    return poll, await repos.polls.options(poll.id)


def tap(poll: Poll, position: int, delta: int = 0) -> str:
    return BallotTap(poll=poll.id, option=position, delta=delta).pack()


def step(poll: Poll, name: str) -> str:
    return BallotStep(poll=poll.id, step=name).pack()


async def stored(repos: Repos, poll: Poll, options: list[PollOption]) -> list[dict[int, int]]:
    """Each stored ballot as option position -> weight."""
    position = {o.id: o.position for o in options}
    return [
        {position[option_id]: weight for option_id, weight in ballot.choices.items()}
        for ballot in await repos.polls.ballots(poll.id)
    ]


async def test_approval_toggle_done_confirm_casts_the_ballot_in_place(
    voter: TelegramApp,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    linked: Resident,
) -> None:
    poll, options = await make_poll(repos, demo, clock, "approval", 3)
    lang = linked.language
    await voter.say("/vote")  # the only open poll opens directly

    [ballot] = [c.params for c in api.calls("sendMessage")]
    assert ballot["chat_id"] == USER and ballot["parse_mode"] == "HTML"
    assert ballot["text"] == renderer.render(
        "tg_ballot", lang, "telegram", poll=poll, chosen=[], count=0
    )
    labels = [b["text"] for b in buttons(ballot)][:5]
    assert labels[0] == "Kindergarten · 400\xa0000 сом"
    assert labels[1] == "Roads & bridges · 457\xa0000 сом"  # plain text, not HTML-escaped
    assert labels[4] == "Park"  # no cost, no price
    message_id = voter.message_id()

    for position in (3, 1, 3, 5):  # 3 on, 1 on, 3 off again, 5 on
        answer = await voter.press(tap(poll, position))
        assert "text" not in answer and "show_alert" not in answer
    edits = api.calls("editMessageText")
    assert len(edits) == 4
    assert {(e.params["chat_id"], e.params["message_id"]) for e in edits} == {(USER, message_id)}
    chosen = [(options[0], 1), (options[4], 1)]
    assert voter.screen()["text"] == renderer.render(
        "tg_ballot", lang, "telegram", poll=poll, chosen=chosen, count=2
    )
    assert "3 ичинен 2" in voter.screen()["text"]  # the counter: 2 of 3
    marked = [b["text"] for b in buttons(voter.screen()) if b["text"].startswith("✅")]
    assert marked == ["✅ Kindergarten · 400\xa0000 сом", "✅ Park"]

    await voter.press(step(poll, "done"))
    summary = voter.screen()
    assert summary["text"] == renderer.render(
        "tg_ballot_summary", lang, "telegram", poll=poll, chosen=chosen
    )
    assert voter.shown() == [step(poll, "confirm"), step(poll, "change"), step(poll, "cancel")]
    assert await repos.polls.turnout_count(poll.id) == 0  # nothing until Confirm

    await voter.press(step(poll, "confirm"))
    assert await repos.polls.turnout_count(poll.id) == 1
    assert await repos.polls.turnout_channel(poll.id, linked.id) == "telegram"
    assert await stored(repos, poll, options) == [{1: 1, 5: 1}]
    done = voter.screen()
    assert done["message_id"] == message_id
    assert done["text"] == renderer.render(
        "voted", lang, "telegram", poll=poll, chosen=chosen, replaced=False
    )
    assert "menu:me" in voter.shown()  # the main menu under the receipt
    assert len(api.calls("sendMessage")) == 1  # every step edited the one message
    assert len(api.calls("answerCallbackQuery")) == 6


async def test_a_restart_halfway_through_the_ballot_continues_the_draft(
    voter: TelegramApp,
    db_url: str,
    bot: Bot,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    linked: Resident,
) -> None:
    """``civic-bot run`` restarted (a deploy, a crash) after two taps of a ranked ballot:
    the next tap, handled by the new process on the same database, adds the third rank."""
    poll, options = await make_poll(repos, demo, clock, "ranked", 3)
    await voter.say("/vote")
    await voter.press(tap(poll, 3))
    await voter.press(tap(poll, 1))
    # the draft beside the chat is sealed like a ballot: no choice in clear
    (data,) = await repos.db.fetchall("SELECT data FROM telegram_fsm WHERE data LIKE '%ballots%'")
    assert "sealed:v1:" in data[0] and "[3, null]" not in data[0] and "[[3" not in data[0]

    async with connect(db_url) as db:
        restarted = build_dispatcher(
            repos=Repos(db, TEST_BALLOT_KEY), renderer=renderer, clock=clock
        )
        voter = TelegramApp(restarted, bot, api, USER)
        await voter.press(tap(poll, 4))
        chosen = [(options[2], 1), (options[0], 2), (options[3], 3)]
        assert voter.screen()["text"] == renderer.render(
            "tg_ballot", linked.language, "telegram", poll=poll, chosen=chosen, count=3
        )
        await voter.press(step(poll, "done"))
        assert voter.screen()["text"] == renderer.render(
            "tg_ballot_summary", linked.language, "telegram", poll=poll, chosen=chosen
        )
        await voter.press(step(poll, "confirm"))

    assert await stored(repos, poll, options) == [{3: 1, 1: 2, 4: 3}]
    assert await repos.polls.turnout_channel(poll.id, linked.id) == "telegram"


async def test_a_tap_beyond_k_is_refused_with_an_alert_and_nothing_is_stored(
    voter: TelegramApp,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    linked: Resident,
) -> None:
    poll, options = await make_poll(repos, demo, clock, "approval", 2)
    await voter.say("/vote")
    await voter.press(tap(poll, 1))
    await voter.press(tap(poll, 2))
    before = await table_snapshot(repos, *VOTING_TABLES)

    answer = await voter.press(tap(poll, 4))
    assert answer["show_alert"] is True
    assert answer["text"] == renderer.render(
        "tg_ballot_alert", linked.language, "telegram", code="too_many", limit=2
    )
    assert len(api.calls("editMessageText")) == 2  # the third tap changed nothing
    assert await table_snapshot(repos, *VOTING_TABLES) == before
    assert await repos.polls.turnout_count(poll.id) == 0

    await voter.press(step(poll, "done"))
    await voter.press(step(poll, "confirm"))
    assert await stored(repos, poll, options) == [{1: 1, 2: 1}]


async def test_ranked_taps_are_stored_as_ranks_in_tap_order(
    voter: TelegramApp,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    linked: Resident,
) -> None:
    poll, options = await make_poll(repos, demo, clock, "ranked", 3)
    await voter.say("/vote")
    for position in (3, 1, 4):
        await voter.press(tap(poll, position))
    await voter.press(tap(poll, 1))  # out: 4 moves up to second place
    await voter.press(tap(poll, 2))  # third
    labels = [b["text"] for b in buttons(voter.screen())][:5]
    assert labels[1] == "3. Roads & bridges · 457\xa0000 сом"
    assert labels[2] == "1. Street lighting · 467\xa0500 сом"
    assert labels[3] == "2. Sports hall · 1\xa0739\xa0000 сом"
    assert not labels[0][0].isdigit()

    await voter.press(step(poll, "done"))
    chosen = [(options[2], 1), (options[3], 2), (options[1], 3)]
    assert voter.screen()["text"] == renderer.render(
        "tg_ballot_summary", linked.language, "telegram", poll=poll, chosen=chosen
    )
    await voter.press(step(poll, "confirm"))
    assert await stored(repos, poll, options) == [{3: 1, 4: 2, 2: 3}]


async def test_cumulative_points_are_capped_at_n(
    voter: TelegramApp,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    linked: Resident,
) -> None:
    poll, options = await make_poll(repos, demo, clock, "cumulative", 5)
    await voter.say("/vote")
    row = buttons(voter.screen())[:3]
    assert [b["callback_data"] for b in row] == [tap(poll, 1, -1), tap(poll, 1), tap(poll, 1, 1)]
    assert row[1]["text"] == "Kindergarten · 400\xa0000 сом: 0"

    edits = len(api.calls("editMessageText"))
    minus = await voter.press(tap(poll, 2, -1))  # nothing to take back: no change
    assert "show_alert" not in minus
    assert len(api.calls("editMessageText")) == edits
    for _ in range(4):
        await voter.press(tap(poll, 2, 1))
    await voter.press(tap(poll, 5, 1))
    assert "Калган упай: 5 ичинен 0" in voter.screen()["text"]
    refused = await voter.press(tap(poll, 5, 1))  # a sixth point
    assert refused["show_alert"] is True
    assert refused["text"] == renderer.render(
        "tg_ballot_alert", linked.language, "telegram", code="no_points", limit=5
    )
    await voter.press(tap(poll, 2, -1))
    await voter.press(tap(poll, 5, 1))
    full = await voter.press(tap(poll, 1))  # the label: its whole text, nothing changes
    assert full["text"] == "Kindergarten" and "show_alert" not in full
    assert [b["text"] for b in buttons(voter.screen())][4] == "Roads & bridges · 457\xa0000 сом: 3"

    await voter.press(step(poll, "done"))
    await voter.press(step(poll, "confirm"))
    assert await stored(repos, poll, options) == [{2: 3, 5: 2}]


async def test_choose_one_goes_straight_to_the_summary(
    voter: TelegramApp, repos: Repos, demo: Municipality, clock: FakeClock, linked: Resident
) -> None:
    poll, options = await make_poll(repos, demo, clock, "choose1")
    await voter.say("/vote")
    assert step(poll, "done") not in voter.shown()
    await voter.press(tap(poll, 2))
    assert voter.shown() == [step(poll, "confirm"), step(poll, "change"), step(poll, "cancel")]
    await voter.press(step(poll, "change"))
    await voter.press(tap(poll, 4))
    await voter.press(step(poll, "confirm"))
    assert await stored(repos, poll, options) == [{4: 1}]


async def test_a_double_tapped_confirm_leaves_the_receipt_in_view(
    voter: TelegramApp,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    linked: Resident,
) -> None:
    poll, options = await make_poll(repos, demo, clock, "choose1")
    await voter.say("/vote")
    await voter.press(tap(poll, 2))
    message_id = voter.message_id()
    confirm = step(poll, "confirm")
    await voter.press(confirm)
    receipt = voter.screen()
    assert receipt["text"] == renderer.render(
        "voted", linked.language, "telegram", poll=poll, chosen=[(options[1], 1)], replaced=False
    )
    screens = len([c for c in api.calls() if c.method in SCREEN_METHODS])

    # the second tap of a double tap arrives on the same message, now the receipt
    update = telegram_callback_update(confirm, USER, message_id=message_id)
    await voter.feed(update)

    [answer] = [
        c.params
        for c in api.calls("answerCallbackQuery")
        if c.params["callback_query_id"] == update["callback_query"]["id"]
    ]
    assert "show_alert" not in answer  # no "nothing chosen"
    assert len([c for c in api.calls() if c.method in SCREEN_METHODS]) == screens
    assert voter.screen() == receipt  # "vote accepted" stays, not an empty ballot
    assert await repos.polls.turnout_count(poll.id) == 1


async def test_taps_on_a_closed_polls_ballot_say_it_is_closed_and_store_nothing(
    voter: TelegramApp,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    linked: Resident,
) -> None:
    poll, _ = await make_poll(repos, demo, clock, "approval", 3)
    await voter.say("/vote")
    await voter.press(tap(poll, 1))
    clock.advance(days=8)
    before = await table_snapshot(repos, *VOTING_TABLES)

    answer = await voter.press(tap(poll, 2))

    refusal = renderer.render(
        "vote_refused", linked.language, "telegram", code="poll_closed", number=poll.id
    )
    assert answer["show_alert"] is True and answer["text"] == refusal
    assert voter.screen()["text"] == refusal  # the ballot gives way: no more buttons to tap
    assert not [data for data in voter.shown() if data.startswith("vt:")]
    assert await table_snapshot(repos, *VOTING_TABLES) == before


async def test_cancel_discards_the_draft_and_stores_nothing(
    voter: TelegramApp,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    linked: Resident,
) -> None:
    poll, _ = await make_poll(repos, demo, clock, "approval", 3)
    before = await table_snapshot(repos, *VOTING_TABLES)
    await voter.say("/vote")
    await voter.press(tap(poll, 1))
    await voter.press(step(poll, "done"))
    await voter.press(step(poll, "cancel"))

    assert voter.screen()["text"] == renderer.render(
        "tg_ballot_cancelled", linked.language, "telegram", number=poll.id
    )
    assert await table_snapshot(repos, *VOTING_TABLES) == before
    # Opening the poll again starts from an empty ballot.
    await voter.say(f"/vote {poll.id}")
    assert voter.screen()["text"] == renderer.render(
        "tg_ballot", linked.language, "telegram", poll=poll, chosen=[], count=0
    )
    answer = await voter.press(step(poll, "done"))
    assert answer["show_alert"] is True
    assert answer["text"] == renderer.render(
        "tg_ballot_alert", linked.language, "telegram", code="empty", limit=3
    )
    assert await table_snapshot(repos, *VOTING_TABLES) == before


async def test_confirming_after_the_poll_closed_shows_the_refusal(
    voter: TelegramApp,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    linked: Resident,
) -> None:
    poll, _ = await make_poll(repos, demo, clock, "approval", 3)
    await voter.say("/vote")
    await voter.press(tap(poll, 2))
    await voter.press(step(poll, "done"))
    clock.advance(days=8)
    before = await table_snapshot(repos, *VOTING_TABLES)

    await voter.press(step(poll, "confirm"))
    refusal = renderer.render(
        "vote_refused", linked.language, "telegram", code="poll_closed", number=poll.id
    )
    assert voter.screen()["text"] == refusal
    assert await table_snapshot(repos, *VOTING_TABLES) == before

    await voter.say(f"/vote {poll.id}")  # a closed poll does not open
    assert voter.screen()["text"] == refusal


async def test_several_open_polls_are_offered_and_one_opens_in_place(
    voter: TelegramApp,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    linked: Resident,
) -> None:
    first, _ = await make_poll(repos, demo, clock, "approval", 2)
    second, _ = await make_poll(repos, demo, clock, "ranked", 2, title="Roads first")
    await voter.say("/menu")
    assert "menu:vote" in voter.shown()
    await voter.press("menu:vote")

    offer = voter.screen()
    assert offer["text"] == renderer.render("tg_ballot_polls", linked.language, "telegram")
    assert [b["text"] for b in buttons(offer)] == [
        f"№{first.id} Priorities 2027",
        f"№{second.id} Roads first",
        renderer.render_table("tg_buttons", linked.language)["menu"],
    ]
    await voter.press(PollPick(poll=second.id).pack())
    assert api.calls()[-1].method == "editMessageText"
    assert voter.screen()["text"] == renderer.render(
        "tg_ballot", linked.language, "telegram", poll=second, chosen=[], count=0
    )
    await voter.say(f"/vote {first.id}")  # a number opens that poll directly
    assert voter.screen()["text"].startswith(f"<b>№{first.id} Priorities 2027</b>")


async def test_no_open_poll_is_said_so(
    voter: TelegramApp, renderer: Renderer, linked: Resident
) -> None:
    await voter.say("/vote")
    assert voter.screen()["text"] == renderer.render(
        "vote_refused", linked.language, "telegram", code="no_open_poll"
    )


async def test_an_unlinked_user_is_asked_for_the_phone_and_nothing_is_stored(
    voter: TelegramApp,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
) -> None:
    poll, _ = await make_poll(repos, demo, clock, "approval", 3)
    before = await table_snapshot(repos, *VOTING_TABLES)
    await voter.say("/vote")
    [ask] = [c.params for c in api.calls("sendMessage")]
    assert ask["text"] == renderer.render("tg_share_phone", "en", "telegram")
    assert buttons(ask)[0]["request_contact"] is True

    # An old ballot button (e.g. of an account since unlinked) asks the same.
    update = telegram_callback_update(tap(poll, 1), USER)
    await voter.feed(update)
    assert len(api.calls("answerCallbackQuery")) == 1
    assert voter.screen()["text"] == renderer.render("tg_share_phone", "en", "telegram")
    assert api.calls("editMessageText") == []
    assert await table_snapshot(repos, *VOTING_TABLES) == before


async def test_vote_in_a_group_gets_no_answer(
    voter: TelegramApp,
    api: FakeTelegramAPI,
    repos: Repos,
    demo: Municipality,
    clock: FakeClock,
    linked: Resident,
) -> None:
    await make_poll(repos, demo, clock, "approval", 3)
    await voter.say("/vote", chat_id=-1001234567890)
    assert api.calls() == []


async def test_every_callback_data_fits_64_bytes(
    voter: TelegramApp,
    api: FakeTelegramAPI,
    repos: Repos,
    demo: Municipality,
    clock: FakeClock,
    linked: Resident,
) -> None:
    poll, _ = await make_poll(repos, demo, clock, "cumulative", 999_999)
    await voter.say("/vote")
    await voter.press(tap(poll, 5, 1))
    await voter.press(step(poll, "done"))
    datas = [
        b["callback_data"]
        for c in api.calls()
        if c.method in SCREEN_METHODS
        for b in buttons(c.params)
    ]
    assert datas and max(len(d.encode()) for d in datas) <= 64


async def test_a_forged_ballot_button_is_only_answered(
    voter: TelegramApp, api: FakeTelegramAPI, repos: Repos, linked: Resident
) -> None:
    before = await table_snapshot(repos, *VOTING_TABLES)
    for data in ("vt:99999999999999999999:1:0", "vt:1:1:7", "vs:1:explode"):
        await voter.feed(telegram_callback_update(data, USER))
    assert len(api.calls("answerCallbackQuery")) == 3
    assert api.calls("sendMessage") == [] and api.calls("editMessageText") == []
    assert await table_snapshot(repos, *VOTING_TABLES) == before


async def test_a_vote_receipt_telegram_refuses_for_the_moment_is_queued_sealed(
    voter: TelegramApp,
    api: FakeTelegramAPI,
    repos: Repos,
    renderer: Renderer,
    demo: Municipality,
    clock: FakeClock,
    linked: Resident,
) -> None:
    """Telegram is busy when the receipt should replace the ballot: the receipt waits in
    the outbox, but sealed, so a copy of the database does not show the choice beside the
    chat; the worker reads it in clear to send it."""
    poll, options = await make_poll(repos, demo, clock, "choose1")
    await voter.say("/vote")
    await voter.press(tap(poll, 2))  # choose-1: straight to the summary
    api.fail_next("editMessageText", 429, retry_after=2)
    await voter.press(step(poll, "confirm"))

    assert await repos.polls.turnout_count(poll.id) == 1
    [row] = await repos.db.fetchall(
        "SELECT dedupe_key, address, body FROM outbox WHERE dedupe_key LIKE '%:update:%'"
    )
    assert row["address"] == str(USER)
    assert row["body"].startswith("sealed:") and options[1].label not in row["body"]
    message = await repos.outbox.by_key(row["dedupe_key"])
    assert message is not None
    assert message.body == renderer.render(
        "voted", linked.language, "telegram", poll=poll, chosen=[(options[1], 1)], replaced=False
    )
