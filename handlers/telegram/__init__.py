"""Telegram input adapter: one router per feature, each built by its ``get_router()``.

Routers are built per dispatcher (not module-level singletons) because aiogram lets a
router belong to one parent only, and tests build a dispatcher per test. They hang under
one router that lets through private chats only (checked once per update, not once per
feature).
"""

from __future__ import annotations

from aiogram import Router

from handlers.telegram import (
    acts,
    budget,
    contact,
    hearing_form,
    hearings,
    menu,
    ratings,
    start,
    text,
    voting,
)
from handlers.telegram.filters import private_callback, private_message


def get_router() -> Router:
    """Every feature router, in the order they are tried (``text`` takes what the others
    leave), under one router for private chats."""
    private = Router(name="private")
    private.message.filter(private_message)
    private.callback_query.filter(private_callback)
    private.include_routers(
        start.get_router(),
        contact.get_router(),
        menu.get_router(),
        voting.get_router(),
        hearing_form.get_router(),
        hearings.get_router(),
        acts.get_router(),  # before budget: typed words in an act are the act's text
        budget.get_router(),
        ratings.get_router(),
        text.get_router(),
    )
    return private
