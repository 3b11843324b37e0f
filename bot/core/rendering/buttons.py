"""Telegram inline buttons for messages that go through the outbox (stored as JSON).

Labels come from the ``tg_buttons`` template in the reader's language; callback data
must match the ``CallbackData`` factories of the Telegram routers (``prefix:field:...``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.core.rendering.templates import Renderer


def inline_buttons(
    renderer: Renderer, language: str, rows: Sequence[Sequence[tuple[str, str]]]
) -> str:
    """``rows`` of (label key, callback data) → InlineKeyboardMarkup JSON."""
    labels = renderer.render_table("tg_buttons", language)
    keyboard = [[{"text": labels[key], "callback_data": data} for key, data in row] for row in rows]
    return json.dumps({"inline_keyboard": keyboard}, ensure_ascii=False)


def rsvp_buttons(renderer: Renderer, language: str, hearing_id: int) -> str:
    """Yes / no / maybe under a hearing invitation (``rsvp:<hearing>:<answer>``)."""
    return inline_buttons(
        renderer,
        language,
        [[(f"rsvp_{answer}", f"rsvp:{hearing_id}:{answer}") for answer in ("yes", "no", "maybe")]],
    )


def vote_button(renderer: Renderer, language: str, poll_id: int) -> str:
    """Vote under a poll's announcement and reminder: opens its ballot (``vp:<poll>``)."""
    return inline_buttons(renderer, language, [[("vote", f"vp:{poll_id}")]])
