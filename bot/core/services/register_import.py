"""Importing the household register and its residents from staff's CSV files.

Households: ``code,village[,address]``. Residents:
``phone,name,gender,birth_year,household[,language]``. Rows are keyed by household
code and by phone, so re-importing a file changes nothing and an edited file updates
rows in place. Any bad row rejects the whole file (:class:`ImportRejected`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.clock import iso
from bot.core.languages import LANGUAGES
from bot.core.phones import InvalidPhone, normalize_phone
from bot.core.services import audit
from bot.core.services.audit import CLI, Actor
from bot.core.services.csv_input import (
    BadValue,
    CsvRow,
    ImportRejected,
    LineError,
    decode,
    read_rows,
)
from storage.models import Household, Municipality, Resident
from storage.repos import Repos

HOUSEHOLD_COLUMNS = ("code", "village")
HOUSEHOLD_OPTIONAL = ("address",)
RESIDENT_COLUMNS = ("phone", "name", "gender", "birth_year", "household")
RESIDENT_OPTIONAL = ("language",)

GENDERS = {
    "f": "f",
    "female": "f",
    "w": "f",
    "woman": "f",
    "ж": "f",
    "жен": "f",
    "аял": "f",
    "m": "m",
    "male": "m",
    "man": "m",
    "м": "m",
    "муж": "m",
    "эр": "m",
    "эркек": "m",
}
MAX_NAME = 200
OLDEST_BIRTH_YEAR = 1900


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int


async def import_households(
    repos: Repos,
    municipality: Municipality,
    data: bytes,
    *,
    now: datetime,
    actor: Actor = CLI,
    dry_run: bool = False,
) -> ImportReport:
    """Import the file, or with ``dry_run`` only check it and count what would change."""
    rows, errors = read_rows(decode(data), required=HOUSEHOLD_COLUMNS, optional=HOUSEHOLD_OPTIONAL)
    villages = {v.name.casefold(): v for v in await repos.municipalities.villages(municipality.id)}
    seen: dict[str, int] = {}
    parsed: list[tuple[str, int, str]] = []
    for row in rows:
        code, village_name = row["code"], row["village"]
        village = villages.get(village_name.casefold())
        if not code:
            errors.append(
                LineError(row.line, "missing value in column 'code'", "missing", {"column": "code"})
            )
        elif code in seen:
            errors.append(
                LineError(row.line, f"household {code!r} already on line {seen[code]}",
                          "duplicate_household", {"code": code, "first": seen[code]})
            )  # fmt: skip
        elif village is None:
            known = ", ".join(sorted(v.name for v in villages.values()))
            errors.append(
                LineError(row.line, f"unknown village {village_name!r} (known: {known})",
                          "unknown_village", {"value": village_name})
            )  # fmt: skip
        else:
            seen[code] = row.line
            parsed.append((code, village.id, row["address"]))
    if errors:
        raise ImportRejected(errors)

    existing = await repos.households.by_code(municipality.id)
    new = [row for row in parsed if row[0] not in existing]
    changed = [
        (village_id, address, existing[code].id)
        for code, village_id, address in parsed
        if code in existing and _household_differs(existing[code], village_id, address)
    ]
    if dry_run:
        return ImportReport(len(new), len(changed), len(parsed) - len(new) - len(changed))
    async with repos.db.transaction():
        await repos.households.insert_many(municipality.id, new)
        await repos.households.update_many(changed)
        report = ImportReport(len(new), len(changed), len(parsed) - len(new) - len(changed))
        await _audit(repos, municipality, actor, "households imported", report, now)
    return report


async def _audit(
    repos: Repos,
    municipality: Municipality,
    actor: Actor,
    action: str,
    report: ImportReport,
    now: datetime,
) -> None:
    await audit.record(
        repos, municipality.id, actor, action, now=now,
        detail=f"{report.created} added, {report.updated} updated, {report.unchanged} unchanged",
    )  # fmt: skip


def _household_differs(household: Household, village_id: int, address: str) -> bool:
    return (household.village_id, household.address) != (village_id, address)


async def import_residents(
    repos: Repos,
    municipality: Municipality,
    data: bytes,
    *,
    now: datetime,
    actor: Actor = CLI,
    dry_run: bool = False,
) -> ImportReport:
    """Import the file, or with ``dry_run`` only check it and count what would change."""
    rows, errors = read_rows(decode(data), required=RESIDENT_COLUMNS, optional=RESIDENT_OPTIONAL)
    households = await repos.households.by_code(municipality.id)
    seen: dict[str, int] = {}
    parsed: list[tuple[tuple, str]] = []
    for row in rows:
        try:
            fields, language = _resident_fields(row, households, now.year, municipality)
        except ValueError as exc:
            errors.append(LineError.of(row.line, exc))
            continue
        phone = fields[0]
        if phone in seen:
            errors.append(
                LineError(row.line, f"phone {phone} already on line {seen[phone]}",
                          "duplicate_phone", {"phone": phone, "first": seen[phone]})
            )  # fmt: skip
            continue
        seen[phone] = row.line
        parsed.append((fields, language))
    if errors:
        raise ImportRejected(errors)

    existing = await repos.residents.by_phones(municipality.id)
    new = [(*fields, language) for fields, language in parsed if fields[0] not in existing]
    changed = [
        fields
        for fields, _ in parsed
        if fields[0] in existing and _resident_differs(existing[fields[0]], fields)
    ]
    if dry_run:
        return ImportReport(len(new), len(changed), len(parsed) - len(new) - len(changed))
    stamp = iso(now)
    async with repos.db.transaction():
        await repos.residents.insert_many(municipality.id, new, now=stamp)
        await repos.residents.update_many(municipality.id, changed, now=stamp)
        report = ImportReport(len(new), len(changed), len(parsed) - len(new) - len(changed))
        await _audit(repos, municipality, actor, "residents imported", report, now)
    return report


def _resident_fields(
    row: CsvRow, households: dict[str, Household], this_year: int, municipality: Municipality
) -> tuple[tuple, str]:
    """Validate one row; the fields in ``storage.residents.IMPORT_FIELDS`` order."""
    for column in RESIDENT_COLUMNS:
        if not row[column] and column != "birth_year":
            raise BadValue(f"missing value in column {column!r}", "missing", column=column)
    try:
        phone = normalize_phone(row["phone"])
    except InvalidPhone as exc:
        raise BadValue(f"bad phone: {exc}", "bad_phone", value=row["phone"]) from None
    name = row["name"]
    if len(name) > MAX_NAME:
        raise BadValue(f"name longer than {MAX_NAME} characters", "long_name", most=MAX_NAME)
    gender = GENDERS.get(row["gender"].casefold())
    if gender is None:
        raise BadValue(
            f"gender must be f or m, not {row['gender']!r}", "bad_gender", value=row["gender"]
        )
    birth_year = None
    if row["birth_year"]:
        if not (row["birth_year"].isascii() and row["birth_year"].isdecimal()) or not (
            OLDEST_BIRTH_YEAR <= int(row["birth_year"]) <= this_year
        ):
            raise BadValue(
                f"birth_year must be a year {OLDEST_BIRTH_YEAR}-{this_year},"
                f" not {row['birth_year']!r}",
                "bad_birth_year", value=row["birth_year"], oldest=OLDEST_BIRTH_YEAR,
                latest=this_year,
            )  # fmt: skip
        birth_year = int(row["birth_year"])
    household = households.get(row["household"])
    if household is None:
        raise BadValue(
            f"unknown household {row['household']!r}: import households first",
            "unknown_household", value=row["household"],
        )  # fmt: skip
    language = row["language"].lower() or municipality.default_language
    if language not in LANGUAGES:
        choices = ", ".join(LANGUAGES)
        raise BadValue(
            f"language must be one of {choices}, not {language!r}", "bad_language",
            value=language, choices=choices,
        )  # fmt: skip
    return (phone, name, gender, birth_year, household.village_id, household.id), language


def _resident_differs(resident: Resident, fields: tuple) -> bool:
    current = (
        resident.phone,
        resident.name,
        resident.gender,
        resident.birth_year,
        resident.village_id,
        resident.household_id,
    )
    return current != fields
