"""Signing staff in to the web console: a one-time code sent by the bot, sessions, and the
one permission check every console request goes through.

The code (6 digits) goes through the durable outbox like every message (Telegram if
linked, else SMS); only its salted hash is stored. A code expires, is used once and
allows a few attempts. Requests are limited per phone and per client address, counted
in the database (every process sees them), and a phone that is not staff gets the same
answer as a staff member's while no message is sent: nobody can learn who is staff or run
up an SMS bill. A session is a random token in a cookie, stored hashed, ended by idle time
or sign-out; the roles are read again on every request, so a revoked role ends it.

Inside Telegram the console opens as a Mini App: the web page hands over the init data
Telegram signed with the bot's token, the web layer checks the signature, and
:func:`sign_in_telegram` opens a session for the linked staff member (no code needed).

A step refused raises :class:`Refused` with the reason the page explains: invalid_phone,
too_many_requests, wrong_code, expired, used, too_many_attempts; from Telegram,
telegram_stale and telegram_not_staff.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.clock import iso
from bot.core.phones import InvalidPhone, normalize_phone
from bot.core.rendering.templates import Renderer
from bot.core.services.errors import Refused
from bot.core.services.outbound import drafts_for, recipient_of
from bot.core.services.roles import STAFF_ROLES
from storage.models import Municipality, Resident
from storage.repos import Repos

CODE_DIGITS = 6
#: sign-in requests (phone numbers, addresses) are kept this long, then deleted
KEEP_REQUESTS = timedelta(days=1)


@dataclass(frozen=True)
class Policy:
    """The console's limits (settings STAFF_*, see bot/config.py)."""

    code_minutes: int = 10
    code_attempts: int = 5
    codes_per_phone_hour: int = 3
    codes_per_address_hour: int = 10
    idle_minutes: int = 30


@dataclass(frozen=True)
class Staff:
    """A signed-in staff member, as every console request sees them."""

    resident: Resident
    roles: frozenset[str]
    csrf: str
    token_hash: str


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _hash_code(code: str, salt: str) -> str:
    return f"{salt}${_digest(f'{salt}:{code}')}"


def _code_matches(code: str, stored: str) -> bool:
    salt, _, _ = stored.partition("$")
    return hmac.compare_digest(_hash_code(code, salt), stored)


def may_use_console(roles: set[str] | frozenset[str]) -> bool:
    """THE permission check of the console: staff and admins (as for the bot's staff
    commands), nobody else."""
    return bool(STAFF_ROLES & roles)


def phone_of(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        raise Refused("invalid_phone") from None


async def request_code(
    repos: Repos,
    renderer: Renderer,
    municipality: Municipality,
    raw_phone: str,
    *,
    client: str,
    now: datetime,
    policy: Policy,
) -> str:
    """Send a code to ``raw_phone`` if it is a staff member's; return the phone (E.164).
    Refused (``too_many_requests``) past the limits, whoever's phone it is."""
    phone = phone_of(raw_phone)
    async with repos.db.transaction():
        await repos.console.forget(
            requested_before=iso(now - KEEP_REQUESTS),
            seen_before=iso(now - timedelta(minutes=policy.idle_minutes)),
        )
        by_phone, by_client = await repos.console.requests_since(
            municipality_id=municipality.id,
            phone=phone,
            client=client,
            since=iso(now - timedelta(hours=1)),
        )
        if by_phone >= policy.codes_per_phone_hour or by_client >= policy.codes_per_address_hour:
            raise Refused("too_many_requests")
        resident = await repos.residents.by_phone(municipality.id, phone)
        staff = resident is not None and may_use_console(await repos.roles.of(resident.id))
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        code_id = await repos.console.add_code(
            municipality_id=municipality.id,
            phone=phone,
            client=client,
            resident_id=resident.id if staff and resident else None,
            code_hash=_hash_code(code, secrets.token_hex(8)) if staff else None,
            now=iso(now),
            expires_at=iso(now + timedelta(minutes=policy.code_minutes)),
        )
        if staff and resident is not None:
            drafts = drafts_for(
                recipient_of(resident),
                municipality_id=municipality.id,
                # ids may be used again once old requests are deleted: a fresh key
                key=f"console:code:{code_id}:{secrets.token_hex(8)}",
                render=lambda channel, language: renderer.render(
                    "console_code", language, channel, code=code, minutes=policy.code_minutes
                ),
                private=True,  # a copy of the database must not hold a live sign-in code
            )
            await repos.outbox.enqueue(drafts, now=iso(now))
    return phone


async def sign_in(
    repos: Repos,
    municipality: Municipality,
    raw_phone: str,
    code: str,
    *,
    now: datetime,
    policy: Policy,
) -> str:
    """Check the code sent to ``raw_phone``; open a session and return its token (for the
    cookie: only its hash is kept)."""
    phone = phone_of(raw_phone)
    code = code.strip()
    token: str | None = None
    async with repos.db.transaction():
        sent = await repos.console.latest_code(municipality.id, phone)
        if sent is None or sent.code_hash is None or sent.resident_id is None:
            raise Refused("wrong_code")
        if sent.used_at is not None:
            raise Refused("used")
        if sent.expires_at <= iso(now):
            raise Refused("expired")
        if sent.attempts >= policy.code_attempts:
            raise Refused("too_many_attempts")
        if not (code.isdigit() and _code_matches(code, sent.code_hash)):
            await repos.console.count_attempt(sent.id)  # kept: refused after the commit
        else:
            if not await repos.console.use_code(sent.id, now=iso(now)):
                raise Refused("used")
            if not may_use_console(await repos.roles.of(sent.resident_id)):
                raise Refused("wrong_code")
            token = await _open_session(repos, municipality, sent.resident_id, now=now)
    if token is None:
        raise Refused("wrong_code")
    return token


async def sign_in_telegram(
    repos: Repos,
    municipality: Municipality,
    telegram_user_id: int,
    signed_at: datetime,
    *,
    now: datetime,
    policy: Policy,
) -> str:
    """Open a session for the staff member whose Telegram account opened the console as a
    Mini App, ``signed_at`` (the init data's ``auth_date``); the caller has checked that
    Telegram signed it. Init data lives as long as a code: an old one copied from a
    phone cannot sign in later."""
    if not now - timedelta(minutes=policy.code_minutes) <= signed_at <= now + timedelta(minutes=1):
        raise Refused("telegram_stale")
    resident = await repos.residents.by_telegram(municipality.id, telegram_user_id)
    if resident is None or not may_use_console(await repos.roles.of(resident.id)):
        raise Refused("telegram_not_staff")
    return await _open_session(repos, municipality, resident.id, now=now)


async def _open_session(
    repos: Repos, municipality: Municipality, resident_id: int, *, now: datetime
) -> str:
    """A new session's token (for the cookie: only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    await repos.console.add_session(
        token_hash=_digest(token),
        municipality_id=municipality.id,
        resident_id=resident_id,
        csrf=secrets.token_urlsafe(32),
        now=iso(now),
    )
    return token


async def staff_of(
    repos: Repos, municipality: Municipality, token: str | None, *, now: datetime, policy: Policy
) -> Staff | None:
    """The staff member a session token belongs to, or None (no session, idle too long,
    another municipality, or no longer staff); a live session's idle time starts again."""
    if not token:
        return None
    token_hash = _digest(token)
    session = await repos.console.session(token_hash)
    if session is None or session.municipality_id != municipality.id:
        return None
    if session.last_seen_at <= iso(now - timedelta(minutes=policy.idle_minutes)):
        await repos.console.end_session(token_hash)
        return None
    resident = await repos.residents.by_id(session.resident_id)
    roles = frozenset(await repos.roles.of(session.resident_id))
    if resident is None or not may_use_console(roles):
        await repos.console.end_session(token_hash)
        return None
    await repos.console.touch_session(token_hash, now=iso(now))
    return Staff(resident, roles, session.csrf, token_hash)


async def sign_out(repos: Repos, staff: Staff) -> None:
    await repos.console.end_session(staff.token_hash)
