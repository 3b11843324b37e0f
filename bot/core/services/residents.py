"""Resident actions that every channel shares: who am I, language, opt-out."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.core.clock import iso
from bot.core.languages import LANGUAGES
from bot.core.phones import InvalidPhone, normalize_phone
from storage.models import Municipality, Resident, ResidentCard
from storage.repos import Repos


async def identify(repos: Repos, municipality: Municipality, phone: str) -> Resident | None:
    """The registered resident behind a phone number, or None for an unknown number."""
    return await repos.residents.by_phone(municipality.id, phone)


async def link_telegram(
    repos: Repos,
    municipality: Municipality,
    telegram_user_id: int,
    raw_phone: str,
    *,
    now: datetime,
    picked: str | None = None,
    app_language: str | None = None,
) -> Resident | None:
    """Link ``telegram_user_id`` to the registered owner of ``raw_phone``; None if unknown.

    Telegram sends the number as the client has it, often without '+' (``996700000001``).
    The resident reads on in :func:`language_on_linking` (``picked`` in the chat before
    sharing the contact, ``app_language`` of the Telegram app); the resident is returned
    with it.
    """
    try:
        phone = normalize_phone(raw_phone)
    except InvalidPhone:
        return None
    resident = await identify(repos, municipality, phone)
    if resident is None:
        return None
    language = language_on_linking(resident, municipality, picked, app_language)
    async with repos.db.transaction():  # unlinked from anyone else, linked: both or neither
        await repos.residents.link_telegram(resident.id, telegram_user_id, now=iso(now))
        if language != resident.language:
            await repos.residents.set_language(resident.id, language, now=iso(now))
    return replace(resident, telegram_user_id=telegram_user_id, language=language)


def language_on_linking(
    resident: Resident, municipality: Municipality, picked: str | None, app_language: str | None
) -> str:
    """The language a resident reads after linking Telegram: the one they picked in the
    chat before sharing the contact; else, for a new resident (linking Telegram for the
    first time, their language still the municipality's default: nobody chose another),
    their Telegram app's; else the one they have."""
    if picked in LANGUAGES:
        return picked
    new = resident.telegram_user_id is None and resident.language == municipality.default_language
    if new and app_language in LANGUAGES:
        return app_language
    return resident.language


async def current(repos: Repos, resident: Resident) -> Resident:
    """The resident as stored now (an opt-out, a language changed since ``resident`` was read)."""
    return await repos.residents.by_id(resident.id) or resident


async def profile(repos: Repos, resident: Resident) -> ResidentCard:
    card = await repos.residents.card(resident.id)
    if card is None:  # the row was deleted between identify() and now
        raise LookupError(f"resident {resident.id} is gone")
    return card


async def set_language(repos: Repos, resident: Resident, language: str, *, now: datetime) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    await repos.residents.set_language(resident.id, language, now=iso(now))


async def set_opted_out(
    repos: Repos, resident: Resident, opted_out: bool, *, now: datetime
) -> bool:
    """Opt out of (True) or back into (False) broadcasts; False when nothing changed."""
    if resident.opted_out == opted_out:
        return False
    await repos.residents.set_opted_out(resident.id, opted_out, now=iso(now))
    return True
