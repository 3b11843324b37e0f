"""Importing an attendance list (e.g. typed in from the paper sign-in sheet).

Columns ``phone,gender,role``: a row with a phone is a registered resident; a row
without is a walk-in counted with gender and role. All or nothing, like every import.

Importing the same sheet again counts nobody twice: a resident is counted once anyway,
and each walk-in carries a key ``SHEET:gender:role:n`` (the n-th walk-in of that gender
and role on the sheet). So a sheet re-imported after fixing a typo adds only what is new;
two different sheets of one hearing need two different sheet names (by default the file's
name). The import is audited; after the check-in window it is a correction that needs a
staff member and a reason.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from bot.core.phones import InvalidPhone, normalize_phone
from bot.core.services import attendance, audit
from bot.core.services.attendance import CheckInWindow, Correction
from bot.core.services.audit import CLI, Actor
from bot.core.services.csv_input import ImportRejected, LineError, decode, read_rows
from storage.models import Hearing, Municipality, Resident
from storage.repos import Repos

ROLES = ("resident", "deputy", "staff", "guest")


async def import_attendance(
    repos: Repos,
    municipality: Municipality,
    hearing: Hearing,
    data: bytes,
    *,
    now: datetime,
    window: CheckInWindow,
    sheet: str,
    actor: Actor = CLI,
    correction: Correction | None = None,
) -> tuple[int, int]:
    """Return (people newly counted, rows that were already counted)."""
    corrected = attendance.admit(hearing, window, now=now, correction=correction)
    rows, errors = read_rows(decode(data), required=("phone",), optional=("gender", "role"))
    entries: list[tuple[Resident | None, str | None, str, str | None]] = []
    walk_ins: Counter[tuple[str, str]] = Counter()
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
            resident = await repos.residents.by_phone(municipality.id, phone)
            if resident is None:
                errors.append(LineError(row.line, f"{phone} is not in the register"))
                continue
            entries.append((resident, None, role, None))
        elif (gender := row["gender"].lower()) in ("f", "m"):
            walk_ins[gender, role] += 1
            entries.append(
                (None, gender, role, f"{sheet}:{gender}:{role}:{walk_ins[gender, role]}")
            )
        else:
            errors.append(LineError(row.line, "a walk-in (no phone) needs gender f or m"))
    if errors:
        raise ImportRejected(errors)
    new = repeated = 0
    who = correction.actor if correction else actor
    async with repos.db.transaction():
        for resident, gender, role, key in entries:
            result = await attendance.count_person(
                repos, hearing, resident, now=now, walk_in_gender=gender, walk_in_role=role,
                walk_in_key=key,
            )  # fmt: skip
            new, repeated = (new + 1, repeated) if result.first_time else (new, repeated + 1)
        detail = f"sheet {sheet!r}: {new} counted, {repeated} already counted"
        if corrected:
            assert correction is not None
            detail += f"; correction, reason: {correction.reason.strip()}"
        await audit.record(
            repos, municipality.id, who, "attendance imported", now=now, object_kind="hearing",
            object_id=hearing.id, detail=detail,
        )  # fmt: skip
    return new, repeated
