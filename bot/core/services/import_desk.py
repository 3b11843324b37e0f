"""The console's imports: the budget and the register (households, residents), the same
services as ``civic-bot import`` (:mod:`budget_import`, :mod:`register_import`). A file is
first only checked (:func:`check`: nothing written) and imported when the staff member
confirms (:func:`run`), checked again then: all or nothing, as from the command line."""

from __future__ import annotations

from datetime import datetime

from bot.core.services.audit import Actor
from bot.core.services.budget_import import BudgetReport, import_budget
from bot.core.services.register_import import ImportReport, import_households, import_residents
from storage.models import Municipality
from storage.repos import Repos

KINDS = ("budget", "households", "residents")
_IMPORTS = {"budget": import_budget, "households": import_households, "residents": import_residents}


async def check(
    repos: Repos, municipality: Municipality, kind: str, data: bytes, *, now: datetime
) -> BudgetReport | ImportReport:
    """What importing ``data`` as ``kind`` would do; raises ``ImportRejected`` with every
    bad line. ``kind`` is one of :data:`KINDS`."""
    return await _IMPORTS[kind](repos, municipality, data, now=now, dry_run=True)


async def run(
    repos: Repos, municipality: Municipality, kind: str, data: bytes, *, now: datetime,
    actor: Actor,
) -> BudgetReport | ImportReport:  # fmt: skip
    """Import ``data`` as ``kind`` (audit-logged by the import service)."""
    return await _IMPORTS[kind](repos, municipality, data, now=now, actor=actor)
