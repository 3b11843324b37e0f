"""Creating municipalities, choosing the one a command is about, and their provider
settings (bot token, SMS gateway credentials), kept sealed."""

from __future__ import annotations

import re
from datetime import datetime

from bot.core.clock import iso
from bot.core.languages import LANGUAGES, spellings
from bot.core.services.errors import ServiceError
from storage.models import Municipality, Village
from storage.municipality_secrets import SecretsLocked
from storage.repos import Repos
from storage.sealing import Sealer

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


async def create_municipality(
    repos: Repos,
    *,
    slug: str,
    name: str,
    villages: list[str],
    default_language: str,
    now: datetime,
) -> Municipality:
    if not _SLUG.match(slug):
        raise ServiceError(f"slug must be 2-63 lower-case letters, digits or '-', not {slug!r}")
    if default_language not in LANGUAGES:
        raise ServiceError(f"language must be one of {', '.join(LANGUAGES)}")
    names = [v.strip() for v in villages if v.strip()]
    if not names:
        raise ServiceError("a municipality needs at least one village")
    if len({n.casefold() for n in names}) != len(names):
        raise ServiceError("village names must be different")
    if await repos.municipalities.by_slug(slug):
        raise ServiceError(f"municipality {slug!r} already exists")
    async with repos.db.transaction():
        municipality_id = await repos.municipalities.create(
            slug=slug, name=name.strip() or slug, default_language=default_language, now=iso(now)
        )
        for village in names:
            await repos.municipalities.add_village(municipality_id=municipality_id, name=village)
    created = await repos.municipalities.by_id(municipality_id)
    assert created is not None
    return created


async def choose_municipality(repos: Repos, slug: str | None) -> Municipality:
    """The municipality named by ``slug``, or the only one when none is named."""
    if slug:
        found = await repos.municipalities.by_slug(slug)
        if found is None:
            raise ServiceError(f"no municipality {slug!r}")
        return found
    every = await repos.municipalities.all()
    if not every:
        raise ServiceError(
            "no municipality yet: create one with 'civic-bot municipality create'"
            " or load the demo with 'civic-bot init --demo'"
        )
    if len(every) > 1:
        slugs = ", ".join(m.slug for m in every)
        raise ServiceError(
            f"several municipalities: pass --municipality or set MUNICIPALITY (one of: {slugs})"
        )
    return every[0]


async def village_id(repos: Repos, municipality: Municipality, village: str | None) -> int | None:
    """The id of ``municipality``'s village named ``village`` (any case, any of its
    languages); None for no village (the whole municipality)."""
    if not village:
        return None
    for candidate in await repos.municipalities.villages(municipality.id):
        if village.casefold() in spellings(candidate.name):
            return candidate.id
    raise ServiceError(f"unknown village {village!r}")


async def villages(repos: Repos, municipality: Municipality) -> list[Village]:
    return await repos.municipalities.villages(municipality.id)


#: what a municipality may keep as its own provider settings (``civic-bot municipality
#: secret``), named as the settings they stand for; all are kept sealed
PROVIDER_SETTINGS = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "SMS_GATEWAY",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "TWILIO_MESSAGING_SERVICE_SID",
    "SMPP_HOST",
    "SMPP_PORT",
    "SMPP_SYSTEM_ID",
    "SMPP_PASSWORD",
    "SMPP_SOURCE_ADDR",
    "ANDROID_GATEWAY_PHONES",
    "ANDROID_GATEWAY_SIGNING_KEYS",
    "HTTP_GATEWAY_SEND_URL",
    "HTTP_GATEWAY_BODY",
    "HTTP_GATEWAY_AUTH_HEADER",
    "HTTP_GATEWAY_INBOUND_SECRET",
)


def _provider_setting(name: str) -> str:
    upper = name.strip().upper()
    if upper not in PROVIDER_SETTINGS:
        choices = ", ".join(PROVIDER_SETTINGS)
        raise ServiceError(f"{name!r} is not a municipality setting; one of: {choices}")
    return upper


async def set_secret(
    repos: Repos, municipality: Municipality, name: str, value: str, *, now: datetime
) -> str:
    """Set or replace (rotate) one of ``municipality``'s provider settings; return its name."""
    name = _provider_setting(name)
    value = value.strip()
    if not value:
        raise ServiceError(f"{name}: the value is empty")
    try:
        await repos.municipality_secrets.put(municipality.id, name, value, now=iso(now))
    except SecretsLocked as exc:
        raise ServiceError(str(exc)) from None
    return name


async def remove_secret(repos: Repos, municipality: Municipality, name: str) -> str:
    name = _provider_setting(name)
    if not await repos.municipality_secrets.remove(municipality.id, name):
        raise ServiceError(f"{municipality.slug!r} has no {name}")
    return name


async def provider_settings(repos: Repos, municipality: Municipality) -> dict[str, str]:
    """``municipality``'s provider settings in clear, by setting name (lower case, as
    :class:`bot.config.Settings` fields); a clear :class:`ServiceError` if they do not open."""
    try:
        opened = await repos.municipality_secrets.values(municipality.id)
    except SecretsLocked as exc:
        raise ServiceError(f"{municipality.slug!r}: {exc}") from None
    return {name.lower(): value for name, value in opened.items()}


async def reseal_secrets(repos: Repos, old_key: str, *, now: datetime) -> int:
    """After a change of ``SECRETS_KEY``: every municipality's secrets, made under
    ``old_key``, sealed under the new one (all or none); return how many."""
    try:
        return await repos.municipality_secrets.reseal(Sealer(old_key.strip()), now=iso(now))
    except SecretsLocked as exc:
        raise ServiceError(str(exc).replace("this SECRETS_KEY", "the old key")) from None
