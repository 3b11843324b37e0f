"""Telegram input adapter: one router per feature, each built by its ``get_router()``.

Routers are built per dispatcher (not module-level singletons) because aiogram lets a
router belong to one parent only, and tests build a dispatcher per test.
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


def get_routers() -> list[Router]:
    """The routers in the order they are tried; ``text`` takes what the others leave."""
    return [
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
    ]
