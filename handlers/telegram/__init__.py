"""Telegram input adapter: one module per feature, each with a ``register(router)``.

Every feature registers its handlers on one router, which lets through private chats
only. One router rather than one per feature: aiogram walks a router's middleware
chain and filters for every update that reaches it, and a text message reached all
eleven (a fifth of the time an update took, ``bench/inbound.py``). The order of the
features below is the order their handlers are tried; ``text`` takes what the others
leave. A router is built per dispatcher (aiogram lets a router belong to one parent
only, and tests build a dispatcher per test).
"""

from __future__ import annotations

from aiogram import Router

from handlers.telegram import (
    act_form,
    acts,
    broadcasts,
    budget,
    contact,
    hearing_form,
    hearing_publish,
    hearings,
    menu,
    ratings,
    start,
    text,
    voting,
)
from handlers.telegram.filters import private_callback, private_message
from handlers.telegram.hearing_form import StaffOnly

#: in the order they are tried
FEATURES = (
    start,
    contact,
    menu,
    voting,
    hearing_form,
    hearing_publish,
    broadcasts,
    hearings,
    act_form,  # before acts and budget: typed words in an act are the act's text
    acts,
    budget,
    ratings,
    text,
)


def get_router() -> Router:
    """The router of private chats, with every feature's handlers."""
    private = Router(name="private")
    private.message.filter(private_message)
    private.callback_query.filter(private_callback)
    for observer in (private.message, private.callback_query):
        observer.middleware(StaffOnly())  # acts on the handlers flagged STAFF_ONLY
    text.register_first(private)
    for feature in FEATURES:
        feature.register(private)
    return private
