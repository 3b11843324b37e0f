"""Importing a year's budget from one CSV file (``civic-bot import budget FILE.csv``).

Every line has a ``kind``; the columns each kind uses:

- ``revenue``: name (the source), amount
- ``spending``: name (the category), village (empty: municipality-wide), amount
- ``project``: code, name, village, amount (the cost), status, problem (a problem
  number, optional), direct, indirect (beneficiaries), note, plan (``yes`` for an
  activity of the joint action plan)
- ``funding``: code (a project of this file), source_type (local_budget,
  republican_budget, grant, investor, community_money, community_labour), name (e.g.
  ARIS), amount — a project's funding must add up to its cost
- ``plan``: name, activities, amount (the total), community, investment

``name`` and ``note`` may also (or instead) come in Kyrgyz, Russian and English:
``name_ky,name_ru,name_en`` (``note_ky``...); a resident reads their language, else the
plain ``name``, else the version in the municipality's default language, else any. A
``village`` may be named in any of its languages.

All lines carry the same ``year``. Importing a year again adds a new version that
replaces the old one (which is kept); projects keep their numbers by code. A file with
any bad line imports nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from bot.core.clock import iso
from bot.core.languages import spellings
from bot.core.services import audit
from bot.core.services.audit import CLI, Actor
from bot.core.services.csv_input import (
    BadValue,
    CsvRow,
    ImportRejected,
    LineError,
    decode,
    read_rows,
    translated,
)
from storage.models import Funding, Municipality, PlanTotals, Texts
from storage.repos import Repos

COLUMNS = ("kind", "year")
OPTIONAL = (
    "code", *translated("name"), "village", "amount", "source_type", "status", "problem",
    "direct", "indirect", "activities", "community", "investment", *translated("note"), "plan",
)  # fmt: skip
KINDS = ("revenue", "spending", "project", "funding", "plan")
SOURCE_TYPES = (
    "local_budget", "republican_budget", "grant", "investor", "community_money",
    "community_labour",
)  # fmt: skip
STATUSES = ("planned", "tender", "in_progress", "done", "cancelled")


@dataclass(frozen=True)
class BudgetReport:
    year: int
    version: int
    lines: int
    projects: int


def _whole(row: CsvRow, column: str, *, required: bool = True) -> int | None:
    raw = row[column].replace(" ", "").replace("\xa0", "").replace(",", "")
    if not raw:
        if required:
            raise BadValue(f"missing value in column {column!r}", "missing", column=column)
        return None
    if not (raw.isascii() and raw.isdecimal()):
        raise BadValue(
            f"{column} must be a whole non-negative number, not {row[column]!r}", "not_whole",
            column=column, value=row[column],
        )  # fmt: skip
    return int(raw)


def _text(row: CsvRow, column: str) -> str:
    if not row[column]:
        raise BadValue(f"missing value in column {column!r}", "missing", column=column)
    return row[column]


def _name(row: CsvRow, language: str) -> Texts:
    name = row.texts("name", language)
    if not name:
        raise BadValue(
            "missing value in column 'name' (or name_ky, name_ru, name_en)",
            "missing",
            column="name",
        )
    return name


async def import_budget(
    repos: Repos,
    municipality: Municipality,
    data: bytes,
    *,
    now: datetime,
    actor: Actor = CLI,
    dry_run: bool = False,
) -> BudgetReport:
    """Import the file, or with ``dry_run`` only check it and say what it would import
    (the console's preview before the staff member confirms)."""
    rows, errors = read_rows(decode(data), required=COLUMNS, optional=OPTIONAL)
    villages = {
        spelling: v.id
        for v in await repos.municipalities.villages(municipality.id)
        for spelling in spellings(v.name)
    }
    language = municipality.default_language
    years: set[int] = set()
    lines: list[tuple[str, str, int | None, int]] = []
    projects: dict[str, dict] = {}
    funding: dict[str, list[tuple[int, Funding]]] = defaultdict(list)
    plans: list[PlanTotals] = []

    def village(row: CsvRow) -> int | None:
        if not row["village"]:
            return None
        if row["village"].casefold() not in villages:
            raise BadValue(
                f"unknown village {row['village']!r}", "unknown_village", value=row["village"]
            )
        return villages[row["village"].casefold()]

    for row in rows:
        try:
            kind = row["kind"].lower()
            if kind not in KINDS:
                kinds = ", ".join(KINDS)
                raise BadValue(
                    f"kind must be one of {kinds}, not {row['kind']!r}", "bad_kind",
                    value=row["kind"], kinds=kinds,
                )  # fmt: skip
            year = _whole(row, "year")
            assert year is not None
            if not 1991 <= year <= now.year + 5:
                raise BadValue(f"year {year} is out of range", "year_range", year=year)
            years.add(year)
            if kind in ("revenue", "spending"):
                amount = _whole(row, "amount")
                assert amount is not None
                lines.append((kind, _name(row, language), village(row), amount))
            elif kind == "project":
                code = _text(row, "code")
                if code in projects:
                    first = projects[code]["line"]
                    raise BadValue(
                        f"project {code!r} already on line {first}", "duplicate_project",
                        code=code, first=first,
                    )  # fmt: skip
                status = row["status"].lower() or "planned"
                if status not in STATUSES:
                    statuses = ", ".join(STATUSES)
                    raise BadValue(
                        f"status must be one of {statuses}", "bad_status", choices=statuses
                    )
                problem = _whole(row, "problem", required=False)
                if (
                    problem is not None
                    and await repos.problems.get(municipality.id, problem) is None
                ):
                    raise BadValue(f"unknown problem {problem}", "unknown_problem", number=problem)
                projects[code] = {
                    "line": row.line, "code": code, "name": _name(row, language),
                    "village_id": village(row), "cost": _whole(row, "amount"),
                    "status": status, "problem_id": problem,
                    "direct": _whole(row, "direct", required=False),
                    "indirect": _whole(row, "indirect", required=False),
                    "note": row.texts("note", language),
                    "in_plan": row["plan"].lower() in ("yes", "1", "true"),
                }  # fmt: skip
            elif kind == "funding":
                source_type = row["source_type"].lower()
                if source_type not in SOURCE_TYPES:
                    types = ", ".join(SOURCE_TYPES)
                    raise BadValue(
                        f"source_type must be one of {types}", "bad_source_type", choices=types
                    )
                amount = _whole(row, "amount")
                assert amount is not None
                funding[_text(row, "code")].append(
                    (row.line, Funding(source_type, row.texts("name", language), amount))
                )
            else:
                total, activities = _whole(row, "amount"), _whole(row, "activities")
                assert total is not None and activities is not None
                plans.append(
                    PlanTotals(
                        _name(row, language), activities, total,
                        _whole(row, "community", required=False) or 0,
                        _whole(row, "investment", required=False) or 0,
                    )
                )  # fmt: skip
        except ValueError as exc:
            errors.append(LineError.of(row.line, exc))
    for code, entries in funding.items():
        if code not in projects:
            errors.append(
                LineError(entries[0][0], f"funding for unknown project {code!r}",
                          "funding_unknown_project", {"code": code})
            )  # fmt: skip
            continue
        total = sum(f.amount for _, f in entries)
        if total != projects[code]["cost"]:
            errors.append(
                LineError(
                    projects[code]["line"],
                    f"project {code!r} costs {projects[code]['cost']} but its funding adds up"
                    f" to {total}",
                    "funding_sum",
                    {"code": code, "cost": projects[code]["cost"], "total": total},
                )
            )
    if len(years) > 1:
        found = ", ".join(str(y) for y in sorted(years))
        errors.append(LineError(1, f"one year per file, found {sorted(years)}", "one_year",
                                {"years": found}))  # fmt: skip
    if not years and not errors:
        errors.append(LineError(1, "the file has no budget lines", "no_lines"))
    if errors:
        raise ImportRejected(errors)

    (year,) = years
    if dry_run:
        version = await repos.budget.next_version(municipality.id, year)
        return BudgetReport(year, version, len(lines), len(projects))
    async with repos.db.transaction():
        version = await repos.budget.next_version(municipality.id, year)
        budget_id = await repos.budget.create(municipality.id, year, version, now=iso(now))
        await repos.budget.add_lines(budget_id, lines)
        for plan in plans:
            await repos.budget.add_plan(budget_id, plan)
        for code, project in projects.items():
            project_id = await repos.budget.upsert_project(
                municipality.id, budget_id, code=code, name=project["name"],
                village_id=project["village_id"], cost=project["cost"],
                status=project["status"], problem_id=project["problem_id"],
                direct=project["direct"], indirect=project["indirect"], note=project["note"],
                in_plan=project["in_plan"],
            )  # fmt: skip
            await repos.budget.add_funding(project_id, budget_id, [f for _, f in funding[code]])
        await audit.record(
            repos, municipality.id, actor, "budget imported", now=now, object_kind="budget",
            object_id=budget_id,
            detail=f"{year} version {version}: {len(lines)} line(s), {len(projects)} project(s)",
        )  # fmt: skip
    return BudgetReport(year, version, len(lines), len(projects))
