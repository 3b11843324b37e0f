"""The Telegram ballot: tap to choose, approve, rank or spend points; a summary; confirm.

``/vote`` (or ``/vote 12``, or the menu's Vote button) opens the ballot of the poll;
with several open polls it first offers them as buttons. Every tap edits the same
message in place. The draft lives in the FSM storage (per user and chat, in the
database), one per poll: ``[[position, points or None], ...]`` in the order tapped, which
is the ranking, sealed like a ballot (``voting.seal_draft``) since it sits beside the chat.

The rules are the voting service's: Done checks the draft with ``voting.validate``
and Confirm calls ``voting.cast`` (channel ``telegram``), which checks everything
again. A tap only refuses what would surely be refused later (a (k+1)-th option, a
point beyond N), so the voter hears it at once.
"""

from __future__ import annotations

import logging
from typing import Annotated

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from pydantic import Field

from bot.core.ballot_kinds import CHOOSE1, CUMULATIVE, RANKED
from bot.core.services import voting
from bot.core.services.ballot_text import BallotText
from bot.core.services.errors import Refused
from bot.core.services.voting import Draft
from handlers.telegram.filters import LINKED, slash_command
from handlers.telegram.screens import (
    ALERT_MAX,
    MAX_ID,
    ButtonId,
    MenuAction,
    Screen,
    edit_or_send,
    with_back,
)
from handlers.telegram.turn import Turn
from storage.models import Poll, PollOption

log = logging.getLogger(__name__)


class PollPick(CallbackData, prefix="vp"):
    """``vp:12``: open the ballot of poll 12."""

    poll: ButtonId


class BallotTap(CallbackData, prefix="vt"):
    """``vt:12:3:0``: option 3 of poll 12 tapped; ``delta`` is -1/+1 for a point."""

    poll: ButtonId
    option: ButtonId
    delta: Annotated[int, Field(ge=-1, le=1)] = 0


class BallotStep(CallbackData, prefix="vs"):
    """``vs:12:done``: ``done``, ``change``, ``confirm`` or ``cancel``."""

    poll: ButtonId
    step: str


def register(router: Router) -> None:
    """Unlinked users fall through to the ``text`` router, which asks for the phone."""
    router.message.register(vote_command, slash_command, Command("vote"), LINKED)
    router.callback_query.register(vote_button, MenuAction.filter(F.action == "vote"), LINKED)
    router.callback_query.register(pick_poll, PollPick.filter(), LINKED)
    router.callback_query.register(tap, BallotTap.filter(), LINKED)
    for step, handler in (
        ("done", done),
        ("change", change),
        ("confirm", confirm),
        ("cancel", cancel),
    ):
        router.callback_query.register(handler, BallotStep.filter(F.step == step), LINKED)


# --- entry: which poll ------------------------------------------------------------------


async def vote_command(
    message: Message, command: CommandObject, turn: Turn, state: FSMContext
) -> None:
    wanted = (command.args or "").strip().lstrip("#№PpПп")
    number = int(wanted) if wanted.isdecimal() and int(wanted) <= MAX_ID else None
    await (await _entry(turn, state, number)).send(turn.bot, message.chat.id)


async def vote_button(callback: CallbackQuery, turn: Turn, state: FSMContext) -> None:
    """The menu's Vote button: the ballot (or the open polls) in place of the menu."""
    await callback.answer()
    screen = with_back(turn.renderer, turn.language, await _entry(turn, state, None))
    await edit_or_send(turn.bot, callback, screen)


async def pick_poll(
    callback: CallbackQuery, callback_data: PollPick, turn: Turn, state: FSMContext
) -> None:
    await callback.answer()
    await edit_or_send(turn.bot, callback, await _entry(turn, state, callback_data.poll))


async def _entry(turn: Turn, state: FSMContext, number: int | None) -> Screen:
    """The ballot of poll ``number`` (or of the only open one), the list, or a refusal."""
    resident, now = turn.linked, turn.now
    if number is None:
        polls = await voting.open_polls(turn.repos, turn.municipality, resident, now)
        if len(polls) > 1:
            return _poll_list(turn, polls)
        number = polls[0].id if polls else None
    try:
        poll, options = await voting.ballot_to_fill(
            turn.repos, turn.municipality, resident, number, now
        )
    except Refused as exc:
        return _refusal(turn, exc)
    return _ballot(turn, poll, options, await _load_draft(turn, state, poll.id))


# --- taps and steps ---------------------------------------------------------------------


async def tap(
    callback: CallbackQuery, callback_data: BallotTap, turn: Turn, state: FSMContext
) -> None:
    found = await _poll(turn, callback_data.poll)
    poll, options = found or (None, [])
    option = next((o for o in options if o.position == callback_data.option), None)
    if poll is None or option is None:  # a button of a poll or option that is gone
        await callback.answer()
        return
    if await _not_open(callback, turn, poll):
        return
    if poll.ballot_type == CUMULATIVE and callback_data.delta == 0:
        await callback.answer(option.label[:ALERT_MAX])  # the whole label, cut on the button
        return
    if not voting.available(turn.repos):  # a button of before: voting is closed now
        await callback.answer(
            turn.alert("vote_refused", code="voting_unavailable"), show_alert=True
        )
        return
    draft = await _load_draft(turn, state, poll.id)
    changed = voting.tap(poll, draft, option.position, callback_data.delta)
    if isinstance(changed, str):
        alert = turn.alert("tg_ballot_alert", code=changed, limit=poll.max_choices)
        await callback.answer(alert, show_alert=True)
        return
    await callback.answer()
    if changed == draft and poll.ballot_type != CHOOSE1:
        return
    await _save_draft(turn, state, poll.id, changed)
    if poll.ballot_type == CHOOSE1:  # one tap is the whole ballot
        await edit_or_send(turn.bot, callback, _summary(turn, poll, options, changed))
        return
    await edit_or_send(turn.bot, callback, _ballot(turn, poll, options, changed))


async def done(
    callback: CallbackQuery, callback_data: BallotStep, turn: Turn, state: FSMContext
) -> None:
    found = await _drafted(callback, callback_data, turn, state)
    if found is None:
        return
    poll, options, draft = found
    try:
        screen = _summary(turn, poll, options, draft)
    except Refused as exc:
        alert = turn.alert("vote_refused", code=exc.code, **exc.details)
        await callback.answer(alert, show_alert=True)
        return
    await callback.answer()
    await edit_or_send(turn.bot, callback, screen)


async def change(
    callback: CallbackQuery, callback_data: BallotStep, turn: Turn, state: FSMContext
) -> None:
    found = await _poll(turn, callback_data.poll)
    if found is None:
        await callback.answer()
        return
    poll, options = found
    if not await _not_open(callback, turn, poll):
        await callback.answer()
        draft = await _load_draft(turn, state, poll.id)
        await edit_or_send(turn.bot, callback, _ballot(turn, poll, options, draft))


async def confirm(
    callback: CallbackQuery, callback_data: BallotStep, turn: Turn, state: FSMContext
) -> None:
    # a draft gone (stale and deleted, or cast already): start over
    found = await _drafted(callback, callback_data, turn, state, start_over=True)
    if found is None:
        return
    poll, _, draft = found
    await callback.answer()
    ballot = BallotText(poll.id, _entries(poll, draft))
    resident = turn.linked
    try:
        cast = await voting.cast(
            turn.repos, turn.municipality, resident, ballot, channel="telegram", now=turn.now
        )
    except Refused as exc:
        log.info("telegram ballot refused: poll=%s code=%s", poll.id, exc.code)
        screen = _refusal(turn, exc)
    else:
        log.info("telegram ballot cast: poll=%s resident=%s", poll.id, resident.id)
        screen = turn.with_menu("voted", poll=cast.poll, chosen=cast.chosen, replaced=cast.replaced)
    await _save_draft(turn, state, poll.id, {})
    await edit_or_send(turn.bot, callback, screen)


async def cancel(
    callback: CallbackQuery, callback_data: BallotStep, turn: Turn, state: FSMContext
) -> None:
    await callback.answer()
    await _save_draft(turn, state, callback_data.poll, {})
    screen = turn.with_menu("tg_ballot_cancelled", number=callback_data.poll)
    await edit_or_send(turn.bot, callback, screen)


# --- the draft --------------------------------------------------------------------------


def _entries(poll: Poll, draft: Draft) -> tuple[tuple[int, int | None], ...]:
    """The draft as a text ballot's entries: ranked in tap order, others by option number."""
    items = list(draft.items())
    return tuple(items if poll.ballot_type == RANKED else sorted(items))


async def _load_draft(turn: Turn, state: FSMContext, poll_id: int) -> Draft:
    ballots = (await state.get_data()).get("ballots", {})
    entries = voting.open_draft(turn.repos, poll_id, ballots.get(str(poll_id)))
    return {position: points for position, points in entries}


async def _save_draft(turn: Turn, state: FSMContext, poll_id: int, draft: Draft) -> None:
    """Keep ``draft`` sealed (a JSON string, for any FSM storage); an empty one is
    dropped."""
    ballots = dict((await state.get_data()).get("ballots", {}))
    if draft:
        entries: list[list[int | None]] = [[position, points] for position, points in draft.items()]
        ballots[str(poll_id)] = voting.seal_draft(turn.repos, poll_id, entries)
    else:
        ballots.pop(str(poll_id), None)
    await state.update_data(ballots=ballots)


async def _drafted(
    callback: CallbackQuery,
    callback_data: BallotStep,
    turn: Turn,
    state: FSMContext,
    *,
    start_over: bool = False,
) -> tuple[Poll, list[PollOption], Draft] | None:
    """The poll, its options and the resident's draft ballot. None, with the button
    answered, if the poll is gone or the draft is empty (an alert says so; with
    ``start_over`` the empty ballot is shown again)."""
    found = await _poll(turn, callback_data.poll)
    if found is None:
        await callback.answer()
        return None
    poll, options = found
    if await _not_open(callback, turn, poll):
        return None
    draft = await _load_draft(turn, state, poll.id)
    if not draft and start_over and await turn.repos.polls.turnout_channel(poll.id, turn.linked.id):
        # Confirm tapped twice: the first cast the ballot and its receipt stays in view
        await callback.answer()
        return None
    if not draft:
        alert = turn.alert("tg_ballot_alert", code="empty", limit=poll.max_choices)
        await callback.answer(alert, show_alert=True)
        if start_over:
            await edit_or_send(turn.bot, callback, _ballot(turn, poll, options, draft))
        return None
    return poll, options, draft


async def _not_open(callback: CallbackQuery, turn: Turn, poll: Poll) -> bool:
    """A button of a ballot whose poll is no longer (or not yet) open is answered with
    why, and the ballot gives way to the refusal: it no longer invites a vote."""
    state_now = voting.poll_state(poll, turn.now)
    if state_now == "open":
        return False
    refused = Refused(f"poll_{state_now}", number=poll.id)
    alert = turn.alert("vote_refused", code=refused.code, **refused.details)
    await callback.answer(alert, show_alert=True)
    await edit_or_send(turn.bot, callback, _refusal(turn, refused))
    return True


async def _poll(turn: Turn, poll_id: int) -> tuple[Poll, list[PollOption]] | None:
    return await voting.poll_with_options(turn.repos, turn.municipality, poll_id)


# --- screens ----------------------------------------------------------------------------


def _weights(poll: Poll, options: list[PollOption], draft: Draft) -> list[tuple[PollOption, int]]:
    """The chosen options with their weight (1, rank or points), in display order."""
    by_position = {option.position: option for option in options}
    return [
        (by_position[position], rank if poll.ballot_type == RANKED else points or 1)
        for rank, (position, points) in enumerate(_entries(poll, draft), start=1)
        if position in by_position
    ]


def _ballot(turn: Turn, poll: Poll, options: list[PollOption], draft: Draft) -> Screen:
    chosen = _weights(poll, options, draft)
    count = sum(w for _, w in chosen) if poll.ballot_type == CUMULATIVE else len(chosen)
    text = turn.text("tg_ballot", poll=poll, chosen=chosen, count=count)
    weight = {option.position: w for option, w in chosen}
    rows = []
    for option in options:
        label = turn.plain(
            "tg_ballot_option",
            option=option,
            kind=poll.ballot_type,
            weight=weight.get(option.position),
        )
        if poll.ballot_type == CUMULATIVE:
            rows.append(
                [
                    _tap("−", poll, option, -1),
                    _tap(label, poll, option, 0),
                    _tap("+", poll, option, 1),
                ]
            )
        else:
            rows.append([_tap(label, poll, option, 0)])
    steps = ("ballot_cancel",) if poll.ballot_type == CHOOSE1 else ("ballot_done", "ballot_cancel")
    rows.append(_steps(turn, poll, steps))
    return Screen(text, InlineKeyboardMarkup(inline_keyboard=rows))


def _summary(turn: Turn, poll: Poll, options: list[PollOption], draft: Draft) -> Screen:
    """The draft as it would be cast; :class:`Refused` if it would be refused."""
    chosen = voting.validate(poll, options, _entries(poll, draft))
    text = turn.text("tg_ballot_summary", poll=poll, chosen=chosen)
    rows = [
        _steps(turn, poll, ("ballot_confirm",)),
        _steps(turn, poll, ("ballot_change", "ballot_cancel")),
    ]
    return Screen(text, InlineKeyboardMarkup(inline_keyboard=rows))


def _poll_list(turn: Turn, polls: list[Poll]) -> Screen:
    text = turn.text("tg_ballot_polls", polls=polls)
    rows = [
        [
            InlineKeyboardButton(
                text=f"№{poll.id} {poll.title}", callback_data=PollPick(poll=poll.id).pack()
            )
        ]
        for poll in polls
    ]
    return Screen(text, InlineKeyboardMarkup(inline_keyboard=rows))


def _refusal(turn: Turn, exc: Refused) -> Screen:
    return turn.with_menu("vote_refused", code=exc.code, **exc.details)


def _tap(text: str, poll: Poll, option: PollOption, delta: int) -> InlineKeyboardButton:
    data = BallotTap(poll=poll.id, option=option.position, delta=delta)
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _steps(turn: Turn, poll: Poll, keys: tuple[str, ...]) -> list[InlineKeyboardButton]:
    label = turn.labels()
    return [
        InlineKeyboardButton(
            text=label[key],
            callback_data=BallotStep(poll=poll.id, step=key.removeprefix("ballot_")).pack(),
        )
        for key in keys
    ]
