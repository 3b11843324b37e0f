"""Sample data for every template feature, used by the template tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.core.rendering.templates import Paged
from bot.core.services.budget_summary import HouseholdSummary, ProjectDetails
from bot.core.services.poll_results import OptionResult, PollResults
from handlers.text import help_page
from storage.models import (
    Budget,
    Funding,
    Hearing,
    Milestone,
    MonitoringAct,
    PlanTotals,
    Poll,
    PollOption,
    Problem,
    Project,
    RatingService,
    ResidentCard,
    Texts,
)


def _t(en: str, ky: str, ru: str) -> Texts:
    """A name staff entered in three languages (the English one as the plain name)."""
    return Texts(en, {"ky": ky, "ru": ru, "en": en})


SOVETSKOYE = _t("Sovetskoye", "Советское", "Советское")

_CARD = ResidentCard(
    name="Айгүл Абдыкадырова",
    phone="+996700000001",
    village=SOVETSKOYE,
    household_code="SV-178",
    household_address="Токтогул көчөсү, 178",
    household_size=11,
    language="ky",
    opted_out=True,
    roles=("deputy", "monitor"),
)


POLL = Poll(
    id=1234,
    municipality_id=1,
    title="Айыл аймагынын 2027-жылдагы бюджетинин артыкчылыктары",
    ballot_type="cumulative",
    max_choices=10,
    village_id=None,
    min_age=18,
    opens_at="2026-12-01T00:00:00.000+00:00",
    closes_at="2026-12-15T12:00:00.000+00:00",
    budget=1_802_000,
    rule="mes",
    changeable=True,
    results_published=False,
)
OPTIONS = [
    PollOption(n, 1234, n, label, None, cost)
    for n, (label, cost) in enumerate(
        [
            ("Ак-Чий айылындагы бала бакча", 400_000),
            ("Ички жолдор жана көпүрөлөр", 457_000),
            ("Көчө жарыгы жана трансформаторлор", 467_500),
            ("Жаштар үчүн спорт зал", 1_739_000),
            ("Ак-Чийдеги парк", 250_000),
        ],
        start=1,
    )
]
RESULTS = PollResults(
    poll=POLL,
    options=[OptionResult(o, 1000 - o.id, 3000 - o.id, o.id < 4) for o in OPTIONS],
    ballots=1412,
    eligible=2417,
    spent=1_324_500,
    breakdown={},
)


HEARING = Hearing(
    id=1234,
    municipality_id=1,
    kind="formation",
    starts_at="2026-12-04T04:00:00.000+00:00",
    place=_t(
        "Big hall, Ak-Chiy house of culture",
        "Ак-Чий айылындагы маданият үйүнүн чоң залы",
        "Большой зал дома культуры в Ак-Чие",
    ),
    village_id=None,
    agenda="2027-жылдын бюджетинин долбоору",
    status="published",
    revision=2,
    outcome=None,
    deputies_counted=True,
)
STARTS = datetime(2026, 12, 4, 4, tzinfo=UTC)


ROADS = Project(
    1234,
    1,
    "ROADS",
    _t(
        "Internal roads: 4.0 km of gravel and 7 bridges",
        "Ички жолдор: 4,0 км шагыл жана 7 көпүрө",
        "Внутренние дороги: 4,0 км гравия и 7 мостов",
    ),
    None,
    1_457_000,
    "in_progress",
    1,
    1500,
    700,
    "4.0 km of gravel; 7 bridges",
    True,
)
ROADS_FUNDING = [
    Funding("local_budget", _t("Local budget", "Жергиликтүү бюджет", "Местный бюджет"), 107_000),
    Funding("investor", _t("ARIS", "АРИС", "АРИС"), 1_250_000),
    Funding("investor", _t("Pasture committee", "Жайыт комитети", "Пастбищный комитет"), 40_000),
    Funding("community_money", _t("Residents", "Тургундар", "Жители"), 35_000),
    Funding(
        "community_labour",
        _t(
            "Residents' labour (115 people)",
            "Тургундардын эмгеги (115 киши)",
            "Труд жителей (115 чел.)",
        ),
        25_000,
    ),
]
SUMMARY = HouseholdSummary(
    budget=Budget(1, 1, 2015, 2),
    revenue=12_000_000,
    spending=12_000_000,
    top_spending=[
        (_t("Administration", "Башкаруу", "Администрация"), 3_100_000),
        (
            _t("Schools and kindergartens", "Мектептер жана бала бакчалар", "Школы и детские сады"),
            2_400_000,
        ),
        (_t("Roads", "Жолдор", "Дороги"), 1_500_000),
    ],
    village=SOVETSKOYE,
    village_spending=1_200_000,
    village_lines=[
        (_t("Street lighting", "Көчө жарыгы", "Уличное освещение"), 400_000),
        (_t("Drinking water", "Ичүүчү суу", "Питьевая вода"), 800_000),
    ],
    population=3728,
    per_resident=3219,
    household_members=11,
    household_share=35_408,
    projects=[
        (ROADS, ROADS_FUNDING),
        (ROADS, ROADS_FUNDING),
        (ROADS, ROADS_FUNDING),
        (ROADS, ROADS_FUNDING),
        (ROADS, ROADS_FUNDING),
    ],
    plans=[
        PlanTotals(
            _t(
                "Joint action plan 2012-2014",
                "Биргелешкен иш-аракет планы 2012–2014",
                "Совместный план действий 2012–2014",
            ),
            49,
            5_684_800,
            357_800,
            3_151_000,
        )
    ],
)
ACT = MonitoringAct(
    12,
    1234,
    "Айгүл Абдыкадырова",
    "purchase",
    "Шагылдын 120 тоннасы келди, накладнойлор текшерилди, баасы келишимге туура келет",
    "2026-11-20T05:00:00.000+00:00",
    ("AgACAgIAAxkBAAI",),
)
SERVICES = [
    RatingService(n, 3, n, name)
    for n, name in enumerate(
        ["Мектептер", "ФАП (саламаттык пункту)", "Жолдор", "Көчө жарыгы", "Таза суу", "Клуб"],
        start=1,
    )
]


def sample(feature: str, language: str) -> dict[str, Any]:
    """Realistic and long-ish data (long names, opted out), so length checks are honest."""
    data: dict[str, dict[str, Any]] = {
        "help": help_page(language, {"staff", "monitor"}),
        "broadcast_queued": {"id": 1234, "recipients": 3728},
        "tg_broadcast_stopped": {"stopped": 1203},
        "broadcast_confirm": {
            "counts": {"telegram": 1203, "sms": 2525},
            "recipients": 3728,
            "yes": {"ky": "ИЙЕ", "ru": "ДА", "en": "YES"}[language],
            "minutes": 10,
        },
        "console_code": {"code": "042917", "minutes": 10},
        "broadcast_progress": {
            "id": 1234,
            "recipients": 3728,
            "messages": 3801,
            "queued": 1203,
            "sent": 1410,
            "delivered": 1000,
            "failed": 188,
            "done": False,
        },
        "me": {"card": _CARD},
        "budget": {"summary": SUMMARY},
        "project_status": {"project": ROADS},
        "project_milestone": {
            "project": ROADS,
            "milestone": Milestone(7, 1234, "Гравий төгүлдү: 4 км", "2026-06-01", "2026-05-28"),
        },
        "project": {
            "details": ProjectDetails(ROADS, SOVETSKOYE, ROADS_FUNDING, 3),
            "funding": Paged(ROADS_FUNDING),
        },
        "budget_refused": {"code": "unknown_problem", "number": 123456},
        "joined": {
            "problem": Problem(1234, 1, None, ROADS.name, "approved", None, None),
            "new": True,
        },
        "act_filed": {"project": ROADS, "act_id": 123456, "kind": "handover"},
        "acts": {"project": ROADS, "acts": Paged([ACT, ACT])},
        "rating_services": {"services": SERVICES},
        "rated": {"service": SERVICES[1], "score": 4},
        "rate_refused": {"code": "unknown_service", "count": 6},
        "hearing_invite": {"hearing": HEARING, "starts": STARTS},
        "hearing_changed": {"hearing": HEARING, "starts": STARTS},
        "hearing_cancelled": {"hearing": HEARING, "starts": STARTS},
        "hearing_reminder": {"hearing": HEARING, "starts": STARTS, "today": False},
        "hearing_outcome": {
            "hearing": HEARING,
            "starts": STARTS,
            "outcome": "Бюджет бекитилди; 1 802 000 сом инвестиция бөлүштүрүлдү, 3 долбоор",
        },
        "rsvp_ok": {"hearing": HEARING, "starts": STARTS, "answer": "maybe", "code": "04217"},
        "rsvp_refused": {"code": "not_invited", "number": 1234},
        "hearings": {"hearings": Paged([(HEARING, STARTS), (HEARING, STARTS), (HEARING, STARTS)])},
        "proposed": {"number": 12345},
        "problems": {
            "problems": Paged(
                (Problem(n, 1, 1, OPTIONS[n - 1].label, "approved", None, None), 100 + n)
                for n in range(1, 6)
            )
        },
        "polls": {
            "polls": [(POLL, OPTIONS)],
            "options": Paged(OPTIONS),
            "examples": {POLL.id: "1:5 2:5"},
        },
        "voted": {"poll": POLL, "chosen": [(o, 3) for o in OPTIONS[:3]], "replaced": True},
        "vote_refused": {"code": "which_poll", "numbers": [1234, 1235, 1236], "typed": "1:5 2:5"},
        "vote_receipt": {"poll": POLL, "how": "sms", "chosen": [(o, 3) for o in OPTIONS[:3]]},
        "problem_rejected": {
            "number": 12345,
            "reason": (
                "Бул маселе райондук бюджеттен каржыланат, айыл өкмөтүнүн милдети эмес,"
                " ошондуктан бул жерде каралбайт"
            ),
        },
        "poll_announce": {
            "poll": POLL,
            "options": OPTIONS,
            "closes": datetime(2026, 12, 15, 12, tzinfo=UTC),
        },
        "poll_reminder": {
            "poll": POLL,
            "options": OPTIONS,
            "closes": datetime(2026, 12, 15, 12, tzinfo=UTC),
        },
        "poll_results": {"poll": POLL, "options": OPTIONS, "results": RESULTS},
        "tg_welcome": {"municipality": "Кызыл-Суу айыл аймагы"},
        "tg_menu": {"name": _CARD.name},
        "tg_linked": {"name": _CARD.name},
        "tg_ballot": {"poll": POLL, "chosen": [(o, 3) for o in OPTIONS[:3]], "count": 9},
        "tg_ballot_option": {"option": OPTIONS[3], "kind": "cumulative", "weight": 3},
        "tg_ballot_summary": {"poll": POLL, "chosen": [(o, 3) for o in OPTIONS[:3]]},
        "tg_ballot_alert": {"code": "no_points", "limit": 10},
        "tg_ballot_polls": {"polls": [POLL, POLL, POLL]},
        "tg_ballot_cancelled": {"number": 1234},
        "tg_hearing_form": {"step": "date", "error": "past_date", "limit": 200},
        "tg_hearing_summary": {
            "kind": "execution",
            "starts": STARTS,
            "place": HEARING.place,
            "village": "Кызыл-Суу-Ак-Чий-Кара-Булак",
            "agenda": HEARING.agenda,
        },
        "tg_hearing_created": {"hearing": HEARING, "starts": STARTS, "village": None},
        "tg_hearing_published": {"number": 1234, "queued": 3728},
        "tg_hearing_error": {"code": "past", "number": 1234},
        "tg_budget_chart": {
            "year": 2015,
            "revenue": 12_000_000,
            "spending": 12_000_000,
            "amounts": [4_200_000, 3_800_000, 2_100_000, 1_400_000, 500_000, 3_100_000],
        },
        "tg_act_form": {
            "step": "status",
            "project": ROADS,
            "kind": "handover",
            "photos": 10,
            "chars": 1000,
            "error": "too_many_photos",
            "max_text": 1000,
            "max_photos": 10,
        },
        "tg_acts": {"project": ROADS, "acts": [(ACT, STARTS), (ACT, STARTS)], "more": 12},
        "tg_act_caption": {"act": ACT, "project": ROADS, "at": STARTS},
        "tg_rating": {"services": SERVICES},
        "tg_projects": {"summary": SUMMARY},
    }
    return data.get(feature, {})
