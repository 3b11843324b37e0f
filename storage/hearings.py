"""Hearings, their invitations and answers, and attendance at the door."""

from __future__ import annotations

from storage.broadcasts import Recipient
from storage.db import Database, Row
from storage.models import Attendee, Hearing, Rsvp, RsvpAnswer, Texts, VillageRsvps

_COLUMNS = (
    "id, municipality_id, kind, starts_at, place, village_id, agenda, status, revision,"
    " outcome, deputies_counted, place_ky, place_ru, place_en, agenda_ky, agenda_ru, agenda_en,"
    " meeting, age_group"
)


def _hearing(row: Row) -> Hearing:
    values = list(row)[:11]
    values[4], values[6] = Texts.of(row[4], row[11:14]), Texts.of(row[6], row[14:17])
    values[10] = bool(values[10])
    return Hearing(*values, meeting=row[17], age_group=row[18])


class HearingRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        *,
        municipality_id: int,
        kind: str,
        starts_at: str,
        place: str,
        village_id: int | None,
        agenda: str,
        now: str,
        status: str = "draft",
        deputies_counted: bool = True,
        meeting: str = "hearing",
        age_group: str | None = None,
    ) -> int:
        return await self.db.insert(
            "INSERT INTO hearings (municipality_id, kind, starts_at, place, village_id, agenda,"
            " status, deputies_counted, created_at, place_ky, place_ru, place_en, agenda_ky,"
            " agenda_ru, agenda_en, meeting, age_group)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (municipality_id, kind, starts_at, place, village_id, agenda, status,
             deputies_counted, now, *Texts.stored(place), *Texts.stored(agenda), meeting,
             age_group),
        )  # fmt: skip

    async def get(self, municipality_id: int, hearing_id: int) -> Hearing | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM hearings WHERE municipality_id = ? AND id = ?",
            (municipality_id, hearing_id),
        )
        return None if row is None else _hearing(row)

    async def all(self, municipality_id: int) -> list[Hearing]:
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM hearings WHERE municipality_id = ? ORDER BY starts_at, id",
            (municipality_id,),
        )
        return [_hearing(row) for row in rows]

    async def published_after(self, municipality_id: int | None, now: str) -> list[Hearing]:
        """Published hearings still ahead (of one municipality, or of all)."""
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM hearings WHERE status = 'published' AND starts_at > ?"
            " AND (CAST(? AS BIGINT) IS NULL OR municipality_id = ?) ORDER BY starts_at, id",
            (now, municipality_id, municipality_id),
        )
        return [_hearing(row) for row in rows]

    async def update(
        self, hearing_id: int, *, starts_at: str, place: str, agenda: str, revision: int
    ) -> None:
        """A plain ``str`` place or agenda drops its old versions (they named the old one)."""
        await self.db.execute(
            "UPDATE hearings SET starts_at = ?, place = ?, agenda = ?, revision = ?,"
            " place_ky = ?, place_ru = ?, place_en = ?, agenda_ky = ?, agenda_ru = ?,"
            " agenda_en = ? WHERE id = ?",
            (starts_at, place, agenda, revision, *Texts.stored(place), *Texts.stored(agenda),
             hearing_id),
        )  # fmt: skip

    async def set_status(self, hearing_id: int, status: str) -> None:
        await self.db.execute("UPDATE hearings SET status = ? WHERE id = ?", (status, hearing_id))

    async def set_outcome(self, hearing_id: int, outcome: str) -> None:
        await self.db.execute("UPDATE hearings SET outcome = ? WHERE id = ?", (outcome, hearing_id))

    # invitations and answers

    async def invite_many(self, hearing_id: int, resident_ids: list[int], *, now: str) -> None:
        await self.db.insert_many(
            "invitations (hearing_id, resident_id, invited_at)",
            [(hearing_id, rid, now) for rid in resident_ids],
            on_conflict="ON CONFLICT DO NOTHING",
        )

    async def open_invitations(self, resident_id: int, now: str) -> list[Hearing]:
        """The published hearings still ahead that the resident is invited to, soonest first."""
        rows = await self.db.fetchall(
            f"SELECT {', '.join('h.' + c.strip() for c in _COLUMNS.split(','))}"
            " FROM invitations i JOIN hearings h ON h.id = i.hearing_id"
            " WHERE i.resident_id = ? AND h.status = 'published' AND h.starts_at > ?"
            " ORDER BY h.starts_at, h.id",
            (resident_id, now),
        )
        return [_hearing(row) for row in rows]

    async def answer(
        self, hearing_id: int, resident_id: int, answer: str, code: str, *, now: str
    ) -> None:
        await self.db.execute(
            "INSERT INTO rsvps (hearing_id, resident_id, answer, code, answered_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (hearing_id, resident_id)"
            " DO UPDATE SET answer = excluded.answer, answered_at = excluded.answered_at",
            (hearing_id, resident_id, answer, code, now),
        )

    async def rsvp(self, hearing_id: int, resident_id: int) -> Rsvp | None:
        row = await self.db.fetchone(
            "SELECT hearing_id, resident_id, answer, code FROM rsvps"
            " WHERE hearing_id = ? AND resident_id = ?",
            (hearing_id, resident_id),
        )
        return None if row is None else Rsvp(*row)

    async def by_code(self, hearing_id: int, code: str) -> Rsvp | None:
        row = await self.db.fetchone(
            "SELECT hearing_id, resident_id, answer, code FROM rsvps"
            " WHERE hearing_id = ? AND code = ?",
            (hearing_id, code),
        )
        return None if row is None else Rsvp(*row)

    async def code_taken(self, hearing_id: int, code: str) -> bool:
        return await self.by_code(hearing_id, code) is not None

    async def audience_page(
        self,
        hearing_id: int,
        *,
        answers: tuple[str, ...] | None,
        unanswered: bool,
        attendees: bool = False,
        after_id: int,
        limit: int,
    ) -> list[Recipient]:
        """Invited, opted-in residents with one of ``answers`` (and/or no answer)."""
        wanted = answers or ()
        marks = ", ".join("?" for _ in wanted) or "NULL"
        rows = await self.db.fetchall(
            "SELECT r.id, r.phone, r.telegram_user_id, r.telegram_blocked, r.language"
            " FROM invitations i JOIN residents r ON r.id = i.resident_id"
            " LEFT JOIN rsvps a ON a.hearing_id = i.hearing_id AND a.resident_id = r.id"
            " WHERE i.hearing_id = ? AND r.opted_out = FALSE AND r.id > ?"
            f" AND (a.answer IN ({marks}) OR (? AND a.answer IS NULL) OR (? AND EXISTS"
            "  (SELECT 1 FROM attendance t WHERE t.hearing_id = i.hearing_id"
            "   AND t.resident_id = r.id)))"
            " ORDER BY r.id LIMIT ?",
            (hearing_id, after_id, *wanted, unanswered, attendees, limit),
        )
        return [Recipient(row[0], row[1], row[2], bool(row[3]), row[4]) for row in rows]

    async def live_view(self, hearing_id: int) -> list[VillageRsvps]:
        """Per village: invited, reached (invitation sent or delivered), yes, no, maybe."""
        rows = await self.db.fetchall(
            "SELECT v.name,"
            " COUNT(*),"
            " SUM(CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.resident_id = r.id"
            "   AND o.dedupe_key LIKE 'hearing:' || i.hearing_id || ':invite:%'"
            "   AND o.status IN ('sent', 'delivered')) THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN a.answer = 'yes' THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN a.answer = 'no' THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN a.answer = 'maybe' THEN 1 ELSE 0 END)"
            " FROM invitations i JOIN residents r ON r.id = i.resident_id"
            " JOIN villages v ON v.id = r.village_id"
            " LEFT JOIN rsvps a ON a.hearing_id = i.hearing_id AND a.resident_id = r.id"
            " WHERE i.hearing_id = ? GROUP BY v.name ORDER BY v.name",
            (hearing_id,),
        )
        return [VillageRsvps(row[0], *(int(n) for n in row[1:])) for row in rows]

    async def answered(self, hearing_id: int) -> list[RsvpAnswer]:
        """Who answered what (names: for staff only)."""
        rows = await self.db.fetchall(
            "SELECT r.name, r.phone, v.name, a.answer FROM rsvps a"
            " JOIN residents r ON r.id = a.resident_id JOIN villages v ON v.id = r.village_id"
            " WHERE a.hearing_id = ? ORDER BY a.answer, v.name, r.name",
            (hearing_id,),
        )
        return [RsvpAnswer(*row) for row in rows]

    # attendance

    async def check_in(
        self,
        hearing_id: int,
        *,
        resident_id: int | None,
        gender: str | None,
        role: str,
        village_id: int | None,
        birth_year: int | None,
        now: str,
        walk_in_key: str | None = None,
    ) -> bool:
        """Record one person; False when this resident (or the walk-in with this key) was
        already checked in."""
        inserted = await self.db.execute(
            "INSERT INTO attendance (hearing_id, resident_id, gender, role, village_id,"
            " birth_year, checked_in_at, walk_in_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (hearing_id, resident_id, gender, role, village_id, birth_year, now, walk_in_key),
        )
        return inserted == 1

    async def remove_attendee(
        self, hearing_id: int, *, resident_id: int | None, gender: str | None, role: str
    ) -> bool:
        """Take a resident, or the latest walk-in of this gender and role, off the
        attendance; False when there was none."""
        if resident_id is not None:
            where, params = "resident_id = ?", (resident_id,)
        else:
            where = (
                "id = (SELECT MAX(id) FROM attendance WHERE hearing_id = ?"
                " AND resident_id IS NULL AND gender = ? AND role = ?)"
            )
            params = (hearing_id, gender, role)
        deleted = await self.db.execute(
            f"DELETE FROM attendance WHERE hearing_id = ? AND {where}", (hearing_id, *params)
        )
        return deleted == 1

    async def attendance(self, hearing_id: int) -> list[Attendee]:
        """Everyone present."""
        rows = await self.db.fetchall(
            f"SELECT t.gender, t.role, t.birth_year, {Texts.columns('v.name')}"
            " FROM attendance t LEFT JOIN villages v ON v.id = t.village_id"
            " WHERE t.hearing_id = ?",
            (hearing_id,),
        )
        return [
            Attendee(row[0], row[1], None if row[3] is None else Texts.read(row, 3), row[2])
            for row in rows
        ]
