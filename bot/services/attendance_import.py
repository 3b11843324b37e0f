"""Importing an attendance list (e.g. typed in from the paper sign-in sheet).

Columns ``phone,gender,role``: a row with a phone is a registered resident; a row
without is a walk-in counted with gender and role. All or nothing, like every import.
"""

from __future__ import annotations

from datetime import datetime

from bot.phones import InvalidPhone, normalize_phone
from bot.services import hearings
from bot.services.csv_input import ImportRejected, LineError, decode, read_rows
from storage.models import Hearing, Municipality
from storage.repos import Repos

ROLES = ("resident", "deputy", "staff", "guest")


async def import_attendance(
    repos: Repos, municipality: Municipality, hearing: Hearing, data: bytes, *, now: datetime
) -> tuple[int, int]:
    """Return (people newly counted, rows that were already checked in)."""
    rows, errors = read_rows(decode(data), required=("phone",), optional=("gender", "role"))
    entries: list[dict[str, str | None]] = []
    for row in rows:
        role = row["role"].lower() or "resident"
        if role not in ROLES:
            errors.append(LineError(row.line, f"role must be one of {', '.join(ROLES)}"))
            continue
        if row["phone"]:
            try:
                phone = normalize_phone(row["phone"])
            except InvalidPhone as exc:
                errors.append(LineError(row.line, f"bad phone: {exc}"))
                continue
            if await repos.residents.by_phone(municipality.id, phone) is None:
                errors.append(LineError(row.line, f"{phone} is not in the register"))
                continue
            entries.append({"phone": phone})
        elif row["gender"].lower() in ("f", "m"):
            entries.append({"gender": row["gender"].lower(), "role": role})
        else:
            errors.append(LineError(row.line, "a walk-in (no phone) needs gender f or m"))
    if errors:
        raise ImportRejected(errors)
    new = repeated = 0
    async with repos.db.transaction():
        for entry in entries:
            result = await hearings.check_in(
                repos,
                municipality,
                hearing,
                now=now,
                phone=entry.get("phone"),
                walk_in_gender=entry.get("gender"),
                walk_in_role=entry.get("role") or "resident",
            )
            new, repeated = (new + 1, repeated) if result.first_time else (new, repeated + 1)
    return new, repeated
