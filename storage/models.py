"""Plain dataclasses that repositories return (never raw rows)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ROLES = ("staff", "admin", "deputy", "monitor")

#: the languages a name staff enter may carry (bot.core.languages.LANGUAGES)
TEXT_LANGUAGES = ("ky", "ru", "en")


class Texts(str):
    """A name staff entered (a village, problem, project, poll option...), with its Kyrgyz,
    Russian and English versions where given.

    As a ``str`` it is the stored base text (``name``, ``body``, ...): what staff typed as
    the plain name, else the version in the municipality's default language, else any, so
    code that reads ``village.name`` as text keeps working. A reader's language is chosen
    by ``bot.core.languages.in_language`` (templates: done for every ``{{ value }}``).
    """

    versions: Mapping[str, str]

    def __new__(cls, base: str, versions: Mapping[str, str | None] | None = None) -> Texts:
        made = super().__new__(cls, base)
        made.versions = {k: v for k, v in (versions or {}).items() if v}
        return made

    def __reduce__(self) -> tuple[type, tuple[str, Mapping[str, str]]]:
        return (Texts, (str(self), dict(self.versions)))

    def strip(self, chars: str | None = None) -> Texts:
        """Trimmed, versions too (services trim what staff typed)."""
        return Texts(str.strip(self, chars), {k: v.strip(chars) for k, v in self.versions.items()})

    @staticmethod
    def columns(column: str) -> str:
        """``v.name`` → ``v.name, v.name_ky, v.name_ru, v.name_en`` for a SELECT."""
        return ", ".join([column, *(f"{column}_{lang}" for lang in TEXT_LANGUAGES)])

    @classmethod
    def read(cls, row: Sequence[object], at: int) -> Texts:
        """The texts a SELECT of :meth:`columns` put at ``row[at:at + 4]``."""
        return cls.of(row[at], row[at + 1 : at + 4])

    @classmethod
    def of(cls, base: object, versions: Sequence[object]) -> Texts:
        """From stored values: the base column and the ``_ky, _ru, _en`` ones (NULL: none)."""
        return cls(
            "" if base is None else str(base),
            {lang: str(v) for lang, v in zip(TEXT_LANGUAGES, versions, strict=True) if v},
        )

    @staticmethod
    def stored(text: str) -> tuple[str | None, ...]:
        """The ``_ky, _ru, _en`` column values to store for ``text`` (None where missing)."""
        versions = text.versions if isinstance(text, Texts) else {}
        return tuple(versions.get(lang) for lang in TEXT_LANGUAGES)

    def forms(self) -> set[str]:
        """Every spelling, case-folded: a village may be named in any of its languages."""
        return {text.casefold() for text in (str(self), *self.versions.values())}


@dataclass(frozen=True, slots=True)
class Municipality:
    id: int
    slug: str
    name: str
    default_language: str


@dataclass(frozen=True, slots=True)
class Village:
    id: int
    municipality_id: int
    name: str


@dataclass(frozen=True, slots=True)
class Household:
    id: int
    municipality_id: int
    code: str
    village_id: int
    address: str


@dataclass(frozen=True, slots=True)
class Resident:
    id: int
    municipality_id: int
    phone: str
    name: str
    gender: str
    birth_year: int | None
    village_id: int
    household_id: int
    language: str
    opted_out: bool
    telegram_user_id: int | None
    telegram_blocked: bool = False


@dataclass(frozen=True, slots=True)
class ResidentCard:
    """What a resident sees of themselves (``ME``)."""

    name: str
    phone: str
    village: str
    household_code: str
    household_address: str
    household_size: int
    language: str
    opted_out: bool
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RoleHolder:
    phone: str
    name: str
    role: str
    granted_at: str


@dataclass(frozen=True, slots=True)
class OutboxDraft:
    """A message to enqueue; ``dedupe_key`` makes enqueueing it twice harmless."""

    municipality_id: int
    dedupe_key: str
    channel: str
    address: str
    body: str
    resident_id: int | None = None
    broadcast_id: int | None = None
    #: Telegram only: an InlineKeyboardMarkup as JSON (e.g. yes / no / maybe buttons)
    reply_markup: str | None = None
    #: a reply to one person that may name their vote: its body is kept sealed
    #: (storage/outbox.py), never in clear beside the chat
    private: bool = False
    #: Telegram only: photos as JSON (bot.channels.telegram.sender); the body is the caption
    media: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    municipality_id: int
    dedupe_key: str
    resident_id: int | None
    broadcast_id: int | None
    channel: str
    address: str
    body: str
    status: str
    attempts: int
    provider_id: str | None
    error: str | None
    reply_markup: str | None = None
    #: a send of this row may have reached the provider after this moment (its outcome
    #: was lost to a crash or a dropped answer): ask the provider before sending again
    verify_since: str | None = None
    #: Telegram only: photos as JSON (see :class:`OutboxDraft`)
    media: str | None = None


@dataclass(frozen=True, slots=True)
class InitiativeGroup:
    """Residents who took on one or more priority problems (the seed's Kelechek...)."""

    id: int
    municipality_id: int
    name: str
    problem_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    municipality_id: int
    author_id: int | None
    village_id: int | None
    body: str
    recipients: int
    progress_chat_id: int | None
    progress_message_id: int | None


@dataclass(frozen=True, slots=True)
class Problem:
    id: int
    municipality_id: int
    village_id: int | None
    body: str
    status: str
    reason: str | None
    merged_into: int | None


@dataclass(frozen=True, slots=True)
class Poll:
    id: int
    municipality_id: int
    title: str
    ballot_type: str
    max_choices: int
    village_id: int | None
    min_age: int
    opens_at: str
    closes_at: str
    budget: int | None
    rule: str
    changeable: bool
    results_published: bool
    # how greedy and mes count (bot.core.counting.count): MES completion and satisfaction,
    # the least score a funded option needs, and the tie-breaking chain
    completion: str = "add1"
    satisfaction: str = "cost"
    threshold: int = 0
    ties: tuple[str, ...] = ("cost", "id")


@dataclass(frozen=True, slots=True)
class PollOption:
    id: int
    poll_id: int
    position: int
    label: str
    problem_id: int | None
    cost: int | None


@dataclass(frozen=True, slots=True)
class StoredBallot:
    """One anonymous ballot: option id → weight, with the voter's coarse demographics."""

    village_id: int | None
    gender: str | None
    age_group: str | None
    choices: dict[int, int]


@dataclass(frozen=True, slots=True)
class Hearing:
    id: int
    municipality_id: int
    kind: str
    starts_at: str
    place: str
    village_id: int | None
    agenda: str
    status: str
    revision: int
    outcome: str | None
    deputies_counted: bool
    #: hearing, pra, focus, assembly, training or working (bot.core.services.hearings.MEETINGS)
    meeting: str = "hearing"
    #: the age group a PRA session was held for; None: everyone
    age_group: str | None = None


@dataclass(frozen=True, slots=True)
class Rsvp:
    hearing_id: int
    resident_id: int
    answer: str
    code: str


@dataclass(frozen=True, slots=True)
class Budget:
    id: int
    municipality_id: int
    year: int
    version: int


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    municipality_id: int
    code: str
    name: str
    village_id: int | None
    cost: int
    status: str
    problem_id: int | None
    direct_beneficiaries: int | None
    indirect_beneficiaries: int | None
    note: str
    in_plan: bool
    #: per cent, as staff set it; None: as the status says (public_site.PROGRESS)
    progress: int | None = None


@dataclass(frozen=True, slots=True)
class Milestone:
    """A step of a project in the joint action plan (local dates, YYYY-MM-DD)."""

    id: int
    project_id: int
    title: str
    due_on: str | None
    done_on: str | None


@dataclass(frozen=True, slots=True)
class Funding:
    source_type: str
    source_name: str
    amount: int


@dataclass(frozen=True, slots=True)
class PlanTotals:
    name: str
    activities: int
    total: int
    community: int
    investment: int


@dataclass(frozen=True, slots=True)
class MonitoringAct:
    id: int
    project_id: int
    author_name: str
    kind: str
    body: str
    created_at: str
    photos: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RatingService:
    id: int
    round_id: int
    position: int
    name: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One staff action. ``actor_id`` None: the command line's operator."""

    id: int
    municipality_id: int
    municipality_slug: str
    at: str
    actor_id: int | None
    via: str
    action: str
    object_kind: str
    object_id: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class VillageRsvps:
    """A hearing's invitations in one village: how many reached, how many answered what."""

    village: str
    invited: int
    reached: int
    yes: int
    no: int
    maybe: int


@dataclass(frozen=True, slots=True)
class RsvpAnswer:
    """Who answered a hearing's invitation what (names: for staff only)."""

    name: str
    phone: str
    village: str
    answer: str


@dataclass(frozen=True, slots=True)
class Attendee:
    """One person present at a hearing, as the report counts them (no name)."""

    gender: str | None
    role: str
    village: Texts | None
    birth_year: int | None


@dataclass(frozen=True, slots=True)
class TurnoutEntry:
    resident_id: int
    channel: str
    cast_at: str


@dataclass(frozen=True, slots=True)
class GroupMember:
    """A member of a problem's initiative group (for staff)."""

    name: str
    phone: str
    village: str


@dataclass(frozen=True, slots=True)
class RatingGroup:
    """The ratings of one service in one village (``None``: no village) of one round."""

    round_id: int
    round_name: Texts
    service: Texts
    village: Texts | None
    count: int
    total: int
