"""Hearings as the staff console manages them: a form's raw fields in, the command line's
own services (:mod:`bot.core.services.hearings`) called with them, and the invitation list
with its answers as the page shows it.

What a person can get wrong in a form (a date that is not one, a time already past, no
place, a hearing already cancelled...) is :class:`~bot.core.services.errors.Refused` here
with a ``code`` the page explains in the staff member's language, before anything is
changed (meeting_needed, kind_needed, age_group_pra_only, bad_time, in_past, place_needed,
too_long, unknown_village, is_cancelled, is_past, not_held_yet, outcome_needed,
confirm_needed); the rules themselves stay in :mod:`bot.core.services.hearings`, which
checks them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import hearings
from bot.core.services.audit import Actor
from bot.core.services.errors import Refused, ServiceError
from bot.core.services.hearings import Report
from bot.core.services.municipalities import village_id
from storage.models import Hearing, Municipality
from storage.repos import Repos

MAX_PLACE = 200
MAX_AGENDA = 2000
MAX_OUTCOME = 1000


@dataclass(frozen=True)
class HearingForm:
    """The fields of the create and edit forms, as typed (``meeting``, ``kind``,
    ``age_group`` and ``village`` are only on the create form)."""

    date: str
    time: str
    place: str
    agenda: str = ""
    kind: str = ""
    village: str = ""
    meeting: str = "hearing"
    age_group: str = ""


def local_moment(day: str, clock: str, tz: ZoneInfo) -> datetime:
    """A form's date (``YYYY-MM-DD``) and time (``HH:MM``) in the municipality's time zone;
    ValueError if they are not one."""
    moment = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=tz)
    if len(day) != 10 or time.fromisoformat(clock).tzinfo is not None:
        raise ValueError(f"{day} {clock}")
    return moment.replace(second=0, microsecond=0)


def _starts_at(form: HearingForm, tz: ZoneInfo, now: datetime) -> datetime:
    """The date and time typed; in the future."""
    try:
        moment = local_moment(form.date, form.time, tz)
    except ValueError:
        raise Refused("bad_time") from None
    if moment <= now:
        raise Refused("in_past")
    return moment


async def known_village(repos: Repos, municipality: Municipality, name: str) -> None:
    """``name`` is empty (every village) or one of the municipality's villages, as
    :func:`bot.core.services.municipalities.village_id` finds them."""
    try:
        await village_id(repos, municipality, name or None)
    except ServiceError:
        raise Refused("unknown_village") from None


def local_start(hearing: Hearing, tz: ZoneInfo) -> datetime:
    """When the hearing starts, in the municipality's time zone (the edit form's fields)."""
    return datetime.fromisoformat(hearing.starts_at).astimezone(tz)


def _text(value: str, limit: int, *, needed: str | None = None) -> str:
    if needed and not value.strip():
        raise Refused(needed)
    if len(value) > limit:
        raise Refused("too_long")
    return value


async def create(
    repos: Repos,
    municipality: Municipality,
    form: HearingForm,
    *,
    tz: ZoneInfo,
    now: datetime,
    actor: Actor,
) -> Hearing:
    """A new hearing or other meeting, a draft until published (``hearing create``)."""
    if form.meeting not in hearings.MEETINGS:
        raise Refused("meeting_needed")
    if form.meeting == "hearing" and form.kind not in hearings.KINDS:
        raise Refused("kind_needed")
    if form.age_group and (
        form.meeting != "pra" or form.age_group not in hearings.MEETING_AGE_GROUPS
    ):
        raise Refused("age_group_pra_only")
    starts_at = _starts_at(form, tz, now)
    place = _text(form.place, MAX_PLACE, needed="place_needed")
    agenda = _text(form.agenda, MAX_AGENDA)
    await known_village(repos, municipality, form.village)
    return await hearings.create_hearing(
        repos, municipality, kind=form.kind if form.kind in hearings.KINDS else "",
        starts_at=starts_at, place=place, now=now, village=form.village or None,
        agenda=agenda, actor=actor, meeting=form.meeting, age_group=form.age_group or None,
    )  # fmt: skip


def _not_cancelled(hearing: Hearing) -> None:
    if hearing.status == "cancelled":
        raise Refused("is_cancelled")


async def edit(
    repos: Repos,
    renderer: Renderer,
    hearing: Hearing,
    form: HearingForm,
    *,
    now: datetime,
    actor: Actor,
) -> tuple[Hearing, int]:
    """New time, place or agenda (``hearing update``): a new time or place is told to
    everyone invited; returns the hearing and how many were told."""
    _not_cancelled(hearing)
    starts_at = _starts_at(form, renderer.tz, now)
    place = _text(form.place, MAX_PLACE, needed="place_needed")
    agenda = _text(form.agenda, MAX_AGENDA)
    moved = iso(starts_at) != hearing.starts_at
    return await hearings.update(
        repos, renderer, hearing, now=now, starts_at=starts_at if moved else None, place=place,
        agenda=agenda, actor=actor,
    )  # fmt: skip


async def publish(
    repos: Repos, renderer: Renderer, hearing: Hearing, *, now: datetime, actor: Actor
) -> int:
    """Send the invitations through the outbox (``hearing publish``); the number queued
    now (publishing again invites only whoever was not invited yet)."""
    _not_cancelled(hearing)
    if hearing.starts_at <= iso(now):
        raise Refused("is_past")
    try:
        return await hearings.publish(repos, renderer, hearing, now=now, actor=actor)
    except Refused as refused:  # cancelled or begun since the page was read
        raise Refused("is_" + refused.code) from None


async def cancel(
    repos: Repos,
    renderer: Renderer,
    hearing: Hearing,
    *,
    confirmed: bool,
    now: datetime,
    actor: Actor,
) -> int:
    """Cancel (``hearing cancel``) once the staff member confirmed it: everyone invited is
    told; returns how many."""
    _not_cancelled(hearing)
    if not confirmed:
        raise Refused("confirm_needed")
    return await hearings.cancel(repos, renderer, hearing, now=now, actor=actor)


async def outcome(
    repos: Repos,
    renderer: Renderer,
    hearing: Hearing,
    text: str,
    *,
    now: datetime,
    actor: Actor,
) -> int:
    """After the hearing, its outcome to everyone invited and everyone who came
    (``hearing outcome``); returns how many were told."""
    _not_cancelled(hearing)
    if hearing.starts_at > iso(now):
        raise Refused("not_held_yet")
    text = _text(text, MAX_OUTCOME, needed="outcome_needed").strip()
    return await hearings.publish_outcome(repos, renderer, hearing, text, now=now, actor=actor)


@dataclass(frozen=True)
class Invited:
    """Invitations and their answers: of one village, or all (``village`` None)."""

    village: str | None
    invited: int
    #: the invitation was handed to Telegram or the SMS provider
    reached: int
    yes: int
    no: int
    maybe: int

    @property
    def unanswered(self) -> int:
        return self.invited - self.yes - self.no - self.maybe


@dataclass(frozen=True)
class Overview:
    hearing: Hearing
    by_village: list[Invited]
    total: Invited
    attendance: Report


async def overview(repos: Repos, hearing: Hearing) -> Overview:
    """What ``hearing show`` prints: the invitations and answers by village, now, and who
    came."""
    rows = [
        Invited(r.village, r.invited, r.reached, r.yes, r.no, r.maybe)
        for r in await repos.hearings.live_view(hearing.id)
    ]
    total = Invited(
        None, *(sum(getattr(r, f) for r in rows) for f in ("invited", "reached", "yes", "no",
                                                            "maybe"))
    )  # fmt: skip
    return Overview(hearing, rows, total, await hearings.report(repos, hearing))


async def listing(repos: Repos, municipality: Municipality) -> list[Hearing]:
    """Every hearing, the latest first."""
    return sorted(await repos.hearings.all(municipality.id), key=lambda h: h.starts_at,
                  reverse=True)  # fmt: skip
