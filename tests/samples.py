"""Sample data for every template feature, used by the template tests."""

from __future__ import annotations

from typing import Any

from handlers.text import help_commands
from storage.models import ResidentCard

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


def sample(feature: str, language: str) -> dict[str, Any]:
    """Realistic and long-ish data (long names, opted out), so length checks are honest."""
    data: dict[str, dict[str, Any]] = {
        "help": {"commands": help_commands(language, staff=True)},
        "broadcast_queued": {"id": 1234, "recipients": 3728},
        "me": {"card": _CARD},
        "tg_welcome": {"municipality": "Кызыл-Суу айыл аймагы"},
        "tg_menu": {"name": _CARD.name},
        "tg_linked": {"name": _CARD.name},
    }
    return data.get(feature, {})
