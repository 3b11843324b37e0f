"""Staff: publish a hearing made with ``/newhearing``, from the Publish button under it.

``hearings.publish`` invites the hearing's audience (through the outbox); a hearing
cancelled or past since it refuses (``Refused``), and its code is what is shown. For
staff only, as the form (``STAFF_ONLY``: see ``hearing_form.StaffOnly``).
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.core.services import hearings
from bot.core.services.errors import Refused, ServiceError
from handlers.telegram.hearing_form import STAFF_ONLY, PublishHearing
from handlers.telegram.screens import Screen, edit_or_send
from handlers.telegram.turn import Turn

log = logging.getLogger(__name__)


def register(router: Router) -> None:
    router.callback_query.register(publish, PublishHearing.filter(), flags=STAFF_ONLY)


async def publish(callback: CallbackQuery, callback_data: PublishHearing, turn: Turn) -> None:
    await callback.answer()
    number = callback_data.hearing
    hearing = await hearings.find_hearing(turn.repos, turn.municipality, number)
    if hearing is None:
        await edit_or_send(turn.bot, callback, _error(turn, "unknown", number))
        return
    if hearing.status == "published":
        # Publish tapped twice: the count of invitations the first tap queued stays
        return
    try:
        queued = await hearings.publish(
            turn.repos, turn.renderer, hearing, now=turn.now, actor=turn.actor
        )
    except Refused as refused:  # cancelled, or begun, since the form
        await edit_or_send(turn.bot, callback, _error(turn, refused.code, number))
        return
    except ServiceError as exc:
        log.warning("telegram hearing %s not published (%s)", number, exc)
        await edit_or_send(turn.bot, callback, _error(turn, "not_published", number))
        return
    log.info(
        "telegram hearing published: hearing=%s queued=%s by=%s", number, queued, turn.linked.id
    )
    text = turn.text("tg_hearing_published", number=number, queued=queued)
    await edit_or_send(turn.bot, callback, Screen(text))


def _error(turn: Turn, code: str, number: int) -> Screen:
    return Screen(turn.text("tg_hearing_error", code=code, number=number))
