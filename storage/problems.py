"""Priority problems proposed by residents and moderated by staff."""

from __future__ import annotations

from storage.db import Database, Row
from storage.models import GroupMember, InitiativeGroup, Problem, Texts

_COLUMNS = f"id, municipality_id, village_id, status, reason, merged_into, {Texts.columns('body')}"


def _problem(row: Row) -> Problem:
    return Problem(row[0], row[1], row[2], Texts.read(row, 6), row[3], row[4], row[5])


class ProblemRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, *, municipality_id: int, village_id: int | None, body: str, now: str
    ) -> int:
        """``body`` may be :class:`Texts` (staff's priorities in three languages)."""
        return await self.db.insert(
            "INSERT INTO problems (municipality_id, village_id, body, created_at,"
            " body_ky, body_ru, body_en) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (municipality_id, village_id, body, now, *Texts.stored(body)),
        )

    async def add_proposer(self, problem_id: int, resident_id: int) -> None:
        await self.db.execute(
            "INSERT INTO problem_proposers (problem_id, resident_id) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING",
            (problem_id, resident_id),
        )

    async def get(self, municipality_id: int, problem_id: int) -> Problem | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM problems WHERE municipality_id = ? AND id = ?",
            (municipality_id, problem_id),
        )
        return None if row is None else _problem(row)

    async def by_status(self, municipality_id: int, status: str) -> list[Problem]:
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM problems WHERE municipality_id = ? AND status = ? ORDER BY id",
            (municipality_id, status),
        )
        return [_problem(row) for row in rows]

    async def decide(
        self,
        problem_id: int,
        status: str,
        *,
        reason: str | None,
        merged_into: int | None,
        now: str,
    ) -> None:
        await self.db.execute(
            "UPDATE problems SET status = ?, reason = ?, merged_into = ?, decided_at = ?"
            " WHERE id = ?",
            (status, reason, merged_into, now, problem_id),
        )

    async def proposers(self, problem_id: int) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT resident_id FROM problem_proposers WHERE problem_id = ? ORDER BY resident_id",
            (problem_id,),
        )
        return [row[0] for row in rows]

    async def support(self, municipality_id: int) -> dict[int, int]:
        """Proposers per problem (a resident proposing a merged duplicate supports it)."""
        rows = await self.db.fetchall(
            "SELECT p.id, COUNT(*) FROM problems p JOIN problem_proposers pp"
            " ON pp.problem_id = p.id WHERE p.municipality_id = ? GROUP BY p.id",
            (municipality_id,),
        )
        return {row[0]: row[1] for row in rows}

    async def move_to(self, source_id: int, target_id: int) -> None:
        """Merge: proposers and poll options of ``source`` follow ``target``."""
        await self.db.execute(
            "INSERT INTO problem_proposers (problem_id, resident_id)"
            " SELECT ?, resident_id FROM problem_proposers WHERE problem_id = ?"
            " ON CONFLICT DO NOTHING",
            (target_id, source_id),
        )
        await self.db.execute("DELETE FROM problem_proposers WHERE problem_id = ?", (source_id,))
        await self.db.execute(
            "UPDATE poll_options SET problem_id = ? WHERE problem_id = ?", (target_id, source_id)
        )

    async def join(self, problem_id: int, resident_id: int, *, now: str) -> bool:
        """Join the problem's initiative group; False when already a member."""
        return (
            await self.db.execute(
                "INSERT INTO initiative_members (problem_id, resident_id, joined_at)"
                " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (problem_id, resident_id, now),
            )
            == 1
        )

    async def add_group(self, municipality_id: int, name: str, problem_ids: list[int]) -> int:
        """An initiative group taking ``problem_ids``; ``name`` may be :class:`Texts`."""
        group_id = await self.db.insert(
            "INSERT INTO initiative_groups (municipality_id, name, name_ky, name_ru, name_en)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            (municipality_id, name, *Texts.stored(name)),
        )
        await self.db.insert_many(
            "initiative_group_problems (group_id, problem_id)",
            [(group_id, problem_id) for problem_id in problem_ids],
        )
        return group_id

    async def groups(self, municipality_id: int) -> list[InitiativeGroup]:
        rows = await self.db.fetchall(
            f"SELECT id, {Texts.columns('name')} FROM initiative_groups"
            " WHERE municipality_id = ? ORDER BY id",
            (municipality_id,),
        )
        links = await self.db.fetchall(
            "SELECT gp.group_id, gp.problem_id FROM initiative_group_problems gp"
            " JOIN initiative_groups g ON g.id = gp.group_id WHERE g.municipality_id = ?"
            " ORDER BY gp.problem_id",
            (municipality_id,),
        )
        return [
            InitiativeGroup(
                row[0], municipality_id, Texts.read(row, 1),
                tuple(problem for group, problem in links if group == row[0]),
            )
            for row in rows
        ]  # fmt: skip

    async def members(self, problem_id: int) -> list[GroupMember]:
        """The initiative group's members: for staff."""
        rows = await self.db.fetchall(
            "SELECT r.name, r.phone, v.name FROM initiative_members m"
            " JOIN residents r ON r.id = m.resident_id JOIN villages v ON v.id = r.village_id"
            " WHERE m.problem_id = ? ORDER BY m.joined_at, r.id",
            (problem_id,),
        )
        return [GroupMember(*row) for row in rows]
