"""Sample data for every template feature, used by the template tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.services.poll_results import OptionResult, PollResults
from handlers.text import help_commands
from storage.models import Hearing, Poll, PollOption, Problem, ResidentCard

_CARD = ResidentCard(
    name="Айгүл Абдыкадырова",
    phone="+996700000001",
    village="Sovetskoye",
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
    place="Ак-Чий айылындагы маданият үйүнүн чоң залы",
    village_id=None,
    agenda="2027-жылдын бюджетинин долбоору",
    status="published",
    revision=2,
    outcome=None,
    deputies_counted=True,
)
STARTS = datetime(2026, 12, 4, 4, tzinfo=UTC)


def sample(feature: str, language: str) -> dict[str, Any]:
    """Realistic and long-ish data (long names, opted out), so length checks are honest."""
    data: dict[str, dict[str, Any]] = {
        "help": {"commands": help_commands(language, staff=True)},
        "broadcast_queued": {"id": 1234, "recipients": 3728},
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
        "hearings": {"hearings": [(HEARING, STARTS), (HEARING, STARTS), (HEARING, STARTS)]},
        "proposed": {"number": 12345},
        "problems": {
            "problems": [
                (Problem(n, 1, 1, OPTIONS[n - 1].label, "approved", None, None), 100 + n)
                for n in range(1, 6)
            ]
        },
        "polls": {"polls": [(POLL, OPTIONS)]},
        "voted": {"poll": POLL, "chosen": [(o, 3) for o in OPTIONS[:3]], "replaced": True},
        "vote_refused": {"code": "which_poll", "numbers": [1234, 1235, 1236]},
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
    }
    return data.get(feature, {})
