"""A broadcast as the staff console composes it: a form's raw fields in; before anything
goes, who it reaches by channel (:func:`bot.core.services.broadcast.audience`, the service
behind ``civic-bot broadcast --dry-run``), the text as each channel carries it, its SMS
segments and an estimated cost; then the command line's own services send it
(:func:`~bot.core.services.broadcast.create_broadcast`) and stop what still waits
(:func:`~bot.core.services.broadcast.cancel`).

What a person can get wrong (no text, too long a text, a village that is not one) is
:class:`~bot.core.services.errors.Refused` here with a ``code`` the page explains in the staff
member's language, before anything is changed (text_needed, too_long, unknown_audience,
bad_time, in_past, confirm_needed, unknown_broadcast).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.core.clock import iso
from bot.core.languages import LANGUAGES
from bot.core.rendering.sms import SmsSize, sms_size
from bot.core.services import audit, broadcast
from bot.core.services.audit import Actor
from bot.core.services.broadcast import MAX_BODY, Invited, Progress, channel_text
from bot.core.services.errors import Refused, ServiceError
from bot.core.services.hearing_desk import local_moment
from storage.models import Hearing, Municipality, Resident
from storage.repos import Repos

#: a broadcast from the console is audit-logged as sent "via web"
#: som per SMS segment when SMS_PRICE_PER_SEGMENT is not set (an estimate: set your
#: provider's price)
SMS_PRICE = Decimal("2")


@dataclass(frozen=True)
class BroadcastForm:
    """The composer's fields as typed. ``audience``: empty for everyone, ``village:NAME``,
    ``invited:HEARING`` (everyone invited to a hearing) or ``unanswered:HEARING`` (invited,
    no answer yet)."""

    body: str
    audience: str = ""
    #: the text for residents of a language (ky, ru, en) instead of ``body``; empty: ``body``
    translations: dict[str, str] = field(default_factory=dict)
    #: for later: a local date (YYYY-MM-DD) and time (HH:MM); both empty: now
    date: str = ""
    time: str = ""


def _audience(form: BroadcastForm) -> tuple[str | None, Invited | None]:
    """The village, or the hearing's invitees, the form chose (neither: everyone)."""
    kind, _, value = form.audience.partition(":")
    if not form.audience:
        return None, None
    if kind == "village" and value:
        return value, None
    if kind in ("invited", "unanswered") and value.isascii() and value.isdecimal():
        return None, Invited(int(value[:9]), unanswered=kind == "unanswered")
    raise Refused("unknown_audience")


def _due(form: BroadcastForm, tz: ZoneInfo, now: datetime) -> datetime | None:
    """When the broadcast is to go: None for now, else the local date and time typed (ahead)."""
    if not form.date and not form.time:
        return None
    try:
        due = local_moment(form.date, form.time, tz)
    except ValueError:
        raise Refused("bad_time") from None
    if due <= now:
        raise Refused("in_past")
    return due


async def audiences(repos: Repos, municipality: Municipality, *, now: datetime) -> list[Hearing]:
    """The hearings whose invitees the composer offers: published ones still ahead."""
    return await repos.hearings.published_after(municipality.id, iso(now))


@dataclass(frozen=True)
class Version:
    """The text residents of one language get, as each channel carries it."""

    language: str
    telegram_text: str
    sms_text: str
    sms: SmsSize


@dataclass(frozen=True)
class Preview:
    """What a broadcast would do, before it goes."""

    #: opted-in residents it reaches, by channel (telegram, sms)
    recipients: dict[str, int]
    #: per language (ky, ru, en)
    versions: list[Version]
    #: SMS recipients x segments (of the longest version) x the price of one segment
    #: (SMS_PRICE_PER_SEGMENT)
    sms_cost: Decimal
    #: when it goes (None: now)
    due: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.recipients.values())

    @property
    def segments(self) -> int:
        return max(v.sms.segments for v in self.versions)


def _body(form: BroadcastForm) -> str:
    body = form.body.strip()
    if not body:
        raise Refused("text_needed")
    if any(len(text) > MAX_BODY for text in (body, *form.translations.values())):
        raise Refused("too_long")
    return body


def _translations(form: BroadcastForm) -> dict[str, str]:
    return {lang: text.strip() for lang, text in form.translations.items() if text.strip()}


async def preview(
    repos: Repos,
    municipality: Municipality,
    form: BroadcastForm,
    *,
    price: Decimal,
    tz: ZoneInfo,
    now: datetime,
) -> Preview:
    """Who the broadcast reaches by channel, its text per channel, SMS segments, cost and
    when it goes."""
    body = _body(form)
    village, invited = _audience(form)
    due = _due(form, tz, now)
    try:
        recipients = await broadcast.audience(repos, municipality, village, invited)
    except ServiceError:
        raise Refused("unknown_audience") from None
    texts = _translations(form)
    versions = []
    for language in LANGUAGES:
        text = texts.get(language) or body
        versions.append(Version(
            language, channel_text(text, "telegram"), channel_text(text, "sms"), sms_size(text)
        ))  # fmt: skip
    segments = max(v.sms.segments for v in versions)
    return Preview(recipients, versions, recipients["sms"] * segments * price, due)


async def send(
    repos: Repos,
    municipality: Municipality,
    form: BroadcastForm,
    *,
    confirmed: bool,
    author: Resident,
    tz: ZoneInfo,
    now: datetime,
) -> Progress:
    """Queue the broadcast (as ``civic-bot broadcast``), once the previewed figures were
    confirmed; audit-logged as sent via the web."""
    body = _body(form)
    village, invited = _audience(form)
    due = _due(form, tz, now)
    if not confirmed:
        raise Refused("confirm_needed")
    try:
        return await broadcast.create_broadcast(
            repos, municipality, body=body, now=now, author=author, via=audit.WEB, village=village,
            invited=invited, due=due, translations=_translations(form),
        )  # fmt: skip
    except ServiceError:
        raise Refused("unknown_audience") from None


async def progress(repos: Repos, municipality: Municipality, broadcast_id: int) -> Progress:
    """A broadcast of this municipality, with its messages by status now."""
    found = await repos.broadcasts.get(broadcast_id)
    if found is None or found.municipality_id != municipality.id:
        raise Refused("unknown_broadcast")
    return await broadcast.progress(repos, broadcast_id)


async def cancel(
    repos: Repos, municipality: Municipality, broadcast_id: int, *, actor: Actor, now: datetime
) -> int:
    """Stop what still waits (as ``civic-bot broadcast cancel``); how many will not go."""
    await progress(repos, municipality, broadcast_id)
    _, stopped = await broadcast.cancel(repos, municipality, broadcast_id, now=now, actor=actor)
    return stopped
