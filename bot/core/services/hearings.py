"""Public budget hearings: create, publish invitations, change or cancel (everyone
invited is told), answers with a personal check-in code, the attendance report (who
may check in and when: :mod:`bot.core.services.attendance`).

Every message goes through the outbox with a dedupe key per hearing, purpose and
resident, so publishing or notifying twice sends nothing twice.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.clock import iso
from bot.core.rendering.buttons import rsvp_buttons
from bot.core.rendering.templates import Renderer
from bot.core.services import audit
from bot.core.services.audit import CLI, Actor
from bot.core.services.errors import Refused, ServiceError
from bot.core.services.municipalities import village_id
from bot.core.services.outbound import drafts_for
from bot.core.services.voting import AGE_GROUPS, age_group
from storage.broadcasts import Recipient
from storage.models import Hearing, Municipality, Resident
from storage.repos import Repos

KINDS = ("formation", "execution")
#: every kind of meeting the seed report counts; each has invitations, answers, check-in
#: and attendance figures like a hearing (only a hearing has a budget stage to show)
MEETINGS = ("hearing", "pra", "focus", "assembly", "training", "working")
#: the age groups a PRA session may be held for
MEETING_AGE_GROUPS = tuple(name for _, _, name in AGE_GROUPS)
ANSWERS = ("yes", "no", "maybe")
PAGE = 5000
CODE_DIGITS = 5


async def find_hearing(repos: Repos, municipality: Municipality, hearing_id: int) -> Hearing | None:
    return await repos.hearings.get(municipality.id, hearing_id)


async def get_hearing(repos: Repos, municipality: Municipality, hearing_id: int) -> Hearing:
    hearing = await find_hearing(repos, municipality, hearing_id)
    if hearing is None:
        raise ServiceError(f"no hearing {hearing_id}")
    return hearing


async def create_hearing(
    repos: Repos,
    municipality: Municipality,
    *,
    kind: str,
    starts_at: datetime,
    place: str,
    now: datetime,
    village: str | None = None,
    agenda: str = "",
    actor: Actor = CLI,
    meeting: str = "hearing",
    age_group: str | None = None,
) -> Hearing:
    """A new meeting, a draft until published. A meeting other than a hearing serves the
    next budget's formation (its ``kind``), and only a PRA session has an age group."""
    if meeting not in MEETINGS:
        raise ServiceError(f"meeting must be one of {', '.join(MEETINGS)}")
    if meeting != "hearing":
        kind = kind or "formation"
    if kind not in KINDS:
        raise ServiceError(f"kind must be one of {', '.join(KINDS)}")
    if age_group is not None and (meeting != "pra" or age_group not in MEETING_AGE_GROUPS):
        raise ServiceError(f"only a PRA session has an age group: {', '.join(MEETING_AGE_GROUPS)}")
    if starts_at <= now:
        raise ServiceError("a hearing cannot be in the past")
    if not place.strip():
        raise ServiceError("a hearing needs a place")
    chosen_village = await village_id(repos, municipality, village)
    async with repos.db.transaction():
        hearing_id = await repos.hearings.create(
            municipality_id=municipality.id,
            kind=kind,
            starts_at=iso(starts_at),
            place=place.strip(),
            village_id=chosen_village,
            agenda=agenda.strip(),
            now=iso(now),
            meeting=meeting,
            age_group=age_group,
        )
        detail = kind if meeting == "hearing" else " ".join(filter(None, (meeting, age_group)))
        await _audit(repos, hearing_id, municipality.id, actor, "hearing created", now, detail)
    return await get_hearing(repos, municipality, hearing_id)


async def _audit(
    repos: Repos,
    hearing_id: int,
    municipality_id: int,
    actor: Actor,
    action: str,
    now: datetime,
    detail: str = "",
) -> None:
    await audit.record(
        repos, municipality_id, actor, action, now=now, object_kind="hearing",
        object_id=hearing_id, detail=detail,
    )  # fmt: skip


def _data(hearing: Hearing, **extra: Any) -> dict[str, Any]:
    return {"hearing": hearing, "starts": datetime.fromisoformat(hearing.starts_at), **extra}


async def _notify(
    repos: Repos,
    renderer: Renderer,
    hearing: Hearing,
    template: str,
    key: str,
    recipients: list[Recipient],
    now: datetime,
    *,
    rsvp: bool = False,
    **extra: Any,
) -> int:
    """Enqueue ``template`` to each recipient; ``rsvp`` adds yes/no/maybe buttons."""
    drafts = []
    for recipient in recipients:
        drafts += drafts_for(
            recipient,
            municipality_id=hearing.municipality_id,
            key=key,
            render=lambda channel, language: renderer.render(
                template, language, channel, **_data(hearing, **extra)
            ),
            buttons=(lambda language: rsvp_buttons(renderer, language, hearing.id))
            if rsvp
            else None,
        )
    return await repos.outbox.enqueue(drafts, now=iso(now))


async def publish(
    repos: Repos, renderer: Renderer, hearing: Hearing, *, now: datetime, actor: Actor = CLI
) -> int:
    """Invite every opted-in resident of the audience (its village, or all; a PRA session's
    age group); return the invitations queued now (0 when published before and nobody new
    is in the audience). A cancelled hearing is :class:`Refused` ``cancelled``, one that has
    begun ``past`` (``number``: the hearing)."""
    hearing = await _reload(repos, hearing)
    if hearing.status == "cancelled":
        raise Refused("cancelled", number=hearing.id)
    if hearing.starts_at <= iso(now):
        raise Refused("past", number=hearing.id)
    queued, after = 0, 0
    async with repos.db.transaction():
        await repos.hearings.set_status(hearing.id, "published")
        hearing = await _reload(repos, hearing)
        while page := await repos.broadcasts.audience_page(
            municipality_id=hearing.municipality_id,
            village_id=hearing.village_id,
            after_id=after,
            limit=PAGE,
            born=_born(hearing),
        ):
            await repos.hearings.invite_many(
                hearing.id, [r.resident_id for r in page], now=iso(now)
            )
            queued += await _notify(
                repos,
                renderer,
                hearing,
                "hearing_invite",
                f"hearing:{hearing.id}:invite",
                page,
                now,
                rsvp=True,
            )
            after = page[-1].resident_id
        await _audit(repos, hearing.id, hearing.municipality_id, actor, "hearing published", now,
                     f"{queued} invitation(s) queued")  # fmt: skip
    return queued


def _born(hearing: Hearing) -> tuple[int, int] | None:
    """The birth years a PRA session of one age group invites (their age in its year, as
    :func:`bot.core.services.voting.age_group` counts it); None: every age."""
    year = datetime.fromisoformat(hearing.starts_at).year
    for low, high, name in AGE_GROUPS:
        if name == hearing.age_group:
            return year - high, year - low
    return None


async def _reload(repos: Repos, hearing: Hearing) -> Hearing:
    fresh = await repos.hearings.get(hearing.municipality_id, hearing.id)
    assert fresh is not None
    return fresh


async def notify_invited(
    repos: Repos,
    renderer: Renderer,
    hearing: Hearing,
    template: str,
    key: str,
    *,
    now: datetime,
    answers: tuple[str, ...] = ANSWERS,
    unanswered: bool = True,
    attendees: bool = False,
    rsvp: bool = False,
    **extra: Any,
) -> int:
    """Tell invited residents with one of ``answers`` (and/or none, and/or who came)."""
    queued, after = 0, 0
    while page := await repos.hearings.audience_page(
        hearing.id,
        answers=answers,
        unanswered=unanswered,
        attendees=attendees,
        after_id=after,
        limit=PAGE,
    ):
        queued += await _notify(
            repos, renderer, hearing, template, key, page, now, rsvp=rsvp, **extra
        )
        after = page[-1].resident_id
    return queued


async def update(
    repos: Repos,
    renderer: Renderer,
    hearing: Hearing,
    *,
    now: datetime,
    starts_at: datetime | None = None,
    place: str | None = None,
    agenda: str | None = None,
    actor: Actor = CLI,
) -> tuple[Hearing, int]:
    """Change a hearing; a new time or place is told to everyone invited."""
    hearing = await _reload(repos, hearing)
    if hearing.status == "cancelled":
        raise ServiceError(f"hearing {hearing.id} is cancelled")
    new_start = iso(starts_at) if starts_at else hearing.starts_at
    if starts_at is not None and starts_at <= now:
        raise ServiceError("a hearing cannot be moved into the past")
    new_place = place.strip() if place is not None else hearing.place
    if not new_place:
        raise ServiceError("a hearing needs a place")
    moved = (new_start, new_place) != (hearing.starts_at, hearing.place)
    revision = hearing.revision + 1 if moved else hearing.revision
    before = hearing
    async with repos.db.transaction():
        await repos.hearings.update(
            hearing.id,
            starts_at=new_start,
            place=new_place,
            agenda=agenda.strip() if agenda is not None else hearing.agenda,
            revision=revision,
        )
        hearing = await _reload(repos, hearing)
        told = 0
        if moved and hearing.status == "published":
            told = await notify_invited(
                repos,
                renderer,
                hearing,
                "hearing_changed",
                f"hearing:{hearing.id}:changed:{revision}",
                now=now,
                rsvp=True,
            )
        changed = [what for what, new, old in (
            ("time", new_start, before.starts_at), ("place", new_place, before.place),
            ("agenda", hearing.agenda, before.agenda),
        ) if new != old]  # fmt: skip
        detail = f"{', '.join(changed) or 'nothing'} changed; {told} resident(s) told"
        await _audit(repos, hearing.id, hearing.municipality_id, actor, "hearing changed", now,
                     detail)  # fmt: skip
    return hearing, told


async def cancel(
    repos: Repos, renderer: Renderer, hearing: Hearing, *, now: datetime, actor: Actor = CLI
) -> int:
    hearing = await _reload(repos, hearing)
    if hearing.status == "cancelled":
        raise ServiceError(f"hearing {hearing.id} is already cancelled")
    async with repos.db.transaction():
        await repos.hearings.set_status(hearing.id, "cancelled")
        hearing = await _reload(repos, hearing)
        told = await notify_invited(
            repos,
            renderer,
            hearing,
            "hearing_cancelled",
            f"hearing:{hearing.id}:cancelled",
            now=now,
        )
        await _audit(repos, hearing.id, hearing.municipality_id, actor, "hearing cancelled", now,
                     f"{told} resident(s) told")  # fmt: skip
    return told


async def publish_outcome(
    repos: Repos,
    renderer: Renderer,
    hearing: Hearing,
    outcome: str,
    *,
    now: datetime,
    actor: Actor = CLI,
) -> int:
    """After the hearing: its outcome to everyone invited and everyone who came."""
    hearing = await _reload(repos, hearing)
    if hearing.starts_at > iso(now):
        raise ServiceError(f"hearing {hearing.id} has not taken place yet")
    if not outcome.strip():
        raise ServiceError("the outcome text is empty")
    async with repos.db.transaction():
        await repos.hearings.set_outcome(hearing.id, outcome.strip())
        hearing = await _reload(repos, hearing)
        told = await notify_invited(
            repos,
            renderer,
            hearing,
            "hearing_outcome",
            f"hearing:{hearing.id}:outcome",
            now=now,
            attendees=True,
            outcome=hearing.outcome,
        )
        await _audit(repos, hearing.id, hearing.municipality_id, actor, "hearing outcome", now,
                     f"{told} resident(s) told")  # fmt: skip
    return told


# Residents' answers


async def _new_code(repos: Repos, hearing_id: int) -> str:
    while True:
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        if not await repos.hearings.code_taken(hearing_id, code):
            return code


async def answer(
    repos: Repos,
    municipality: Municipality,
    resident: Resident,
    number: int | None,
    reply: str,
    *,
    now: datetime,
) -> tuple[Hearing, str]:
    """Record (or replace) an answer; return the hearing and the personal check-in code.

    A bare answer (``number`` None) goes to the one open invitation; with several the
    resident is asked which hearing, as a ballot without a number is."""
    if number is None:
        invited = await repos.hearings.open_invitations(resident.id, iso(now))
        if not invited:
            raise Refused("no_invitation")
        if len(invited) > 1:
            raise Refused("which_hearing", numbers=[h.id for h in invited], answer=reply)
        hearing = invited[0]
    else:
        found = await repos.hearings.get(municipality.id, number)
        if found is None or found.status == "draft":
            raise Refused("unknown_hearing", number=number)
        hearing = found
    if hearing.status == "cancelled":
        raise Refused("cancelled", number=hearing.id)
    if hearing.starts_at <= iso(now):
        raise Refused("past", number=hearing.id)
    if hearing.village_id is not None and resident.village_id != hearing.village_id:
        raise Refused("not_invited", number=hearing.id)
    async with repos.db.transaction():
        before = await repos.hearings.rsvp(hearing.id, resident.id)
        code = before.code if before else await _new_code(repos, hearing.id)
        await repos.hearings.answer(hearing.id, resident.id, reply, code, now=iso(now))
        await repos.hearings.invite_many(hearing.id, [resident.id], now=iso(now))
    return hearing, code


async def upcoming(repos: Repos, municipality: Municipality, resident: Resident, now: datetime):
    return [
        h
        for h in await repos.hearings.published_after(municipality.id, iso(now))
        if h.village_id is None or h.village_id == resident.village_id
    ]


# The report (attendance itself: bot/core/services/attendance.py)


@dataclass(frozen=True)
class Report:
    hearing: Hearing
    participants: int
    women: int
    deputies: int | None
    by_village: dict[str, int]
    by_age_group: dict[str, int]


async def report(repos: Repos, hearing: Hearing) -> Report:
    rows = await repos.hearings.attendance(hearing.id)
    year = datetime.fromisoformat(hearing.starts_at).year
    villages = Counter(row.village or "?" for row in rows)
    ages = Counter(age_group(row.birth_year, year) or "?" for row in rows)
    order = [name for _, _, name in AGE_GROUPS] + ["?"]
    return Report(
        hearing=hearing,
        participants=len(rows),
        women=sum(1 for p in rows if p.gender == "f"),
        deputies=sum(1 for p in rows if p.role == "deputy") if hearing.deputies_counted else None,
        by_village=dict(sorted(villages.items())),
        by_age_group={name: ages[name] for name in order if ages[name]},
    )
