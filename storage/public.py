"""What the public pages read beyond the other repositories: a data version per
municipality (the key of the pages' cache) and monitoring acts by their authors' roles."""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.db import Database
from storage.models import Municipality

#: Everything a public page shows changes one of these figures: a staff action adds an
#: audit row (project status, hearing changes, poll and rating rounds, corrections); a
#: resident's vote, rating or check-in adds a row; a poll opening or closing or a hearing
#: starting moves a count "by now". Budget imports, seeded hearings and acts add rows.
_FIGURES = """
 (SELECT COALESCE(MAX(id), 0) FROM audit_log WHERE municipality_id = :m),
 (SELECT COALESCE(MAX(id), 0) FROM budgets WHERE municipality_id = :m),
 (SELECT COALESCE(MAX(id), 0) FROM projects WHERE municipality_id = :m),
 (SELECT COALESCE(MAX(id), 0) FROM monitoring_acts WHERE municipality_id = :m),
 (SELECT COUNT(*) FROM hearings WHERE municipality_id = :m),
 (SELECT COALESCE(SUM(revision), 0) FROM hearings WHERE municipality_id = :m),
 (SELECT COUNT(*) FROM hearings WHERE municipality_id = :m AND starts_at <= :now),
 (SELECT COUNT(*) FROM attendance a JOIN hearings h ON h.id = a.hearing_id
   WHERE h.municipality_id = :m),
 (SELECT COUNT(*) FROM polls WHERE municipality_id = :m),
 (SELECT COUNT(*) FROM polls WHERE municipality_id = :m AND opens_at <= :now),
 (SELECT COUNT(*) FROM polls WHERE municipality_id = :m AND closes_at <= :now),
 (SELECT COUNT(*) FROM turnout t JOIN polls p ON p.id = t.poll_id WHERE p.municipality_id = :m),
 (SELECT COUNT(*) FROM box_ballots b JOIN polls p ON p.id = b.poll_id
   WHERE p.municipality_id = :m),
 (SELECT COUNT(*) || '.' || COALESCE(MAX(r.rated_at), '') FROM ratings r
   JOIN rating_services s ON s.id = r.service_id JOIN rating_rounds rr ON rr.id = s.round_id
   WHERE rr.municipality_id = :m),
 (SELECT COALESCE(MAX(id), 0) FROM rating_rounds WHERE municipality_id = :m)
"""

#: the municipality and its figures in one round trip: a page from the cache costs this
#: query alone (on PostgreSQL under load each round trip costs milliseconds)
_VERSION = f"""
SELECT m.id, m.slug, m.name, m.default_language,{_FIGURES.replace(":m", "m.id")}
FROM municipalities m WHERE m.slug = :slug
"""

_NAME = re.compile(r":([a-z]+)\b")


@dataclass(frozen=True, slots=True)
class PublicAct:
    """A monitoring act as the public sees it: the author's role, never the name."""

    id: int
    project_id: int
    author_roles: tuple[str, ...]
    kind: str
    body: str
    created_at: str
    photos: int


class PublicRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def data_version(self, slug: str, now: str) -> tuple[Municipality, str] | None:
        """The municipality of ``slug`` and a text that changes whenever anything a public
        page of it shows changes (see ``_FIGURES``; its own name and language too): one
        query, no writes. None: no such municipality."""
        sql, params = _named(_VERSION, {"slug": slug, "now": now})
        row = await self.db.fetchone(sql, params)
        if row is None:
            return None
        municipality = Municipality(int(row[0]), row[1], row[2], row[3])
        return municipality, "-".join(str(value) for value in row)

    async def acts(self, municipality_id: int) -> list[PublicAct]:
        """Every act of the municipality, newest first, with its author's roles."""
        rows = await self.db.fetchall(
            "SELECT a.id, a.project_id, a.author_id, a.kind, a.body, a.created_at,"
            " (SELECT COUNT(*) FROM act_photos p WHERE p.act_id = a.id)"
            " FROM monitoring_acts a WHERE a.municipality_id = ?"
            " ORDER BY a.created_at DESC, a.id DESC",
            (municipality_id,),
        )
        roles = await self.db.fetchall(
            "SELECT DISTINCT g.resident_id, g.role FROM roles g JOIN monitoring_acts a"
            " ON a.author_id = g.resident_id WHERE a.municipality_id = ?",
            (municipality_id,),
        )
        held: dict[int, list[str]] = {}
        for resident_id, role in roles:
            held.setdefault(int(resident_id), []).append(role)
        return [
            PublicAct(
                int(row[0]), int(row[1]), tuple(sorted(held.get(int(row[2]), []))), row[3],
                row[4], row[5], int(row[6]),
            )
            for row in rows
        ]  # fmt: skip

    async def act_photo(self, municipality_id: int, act_id: int, position: int) -> str | None:
        """The Telegram file id of an act's photo (1 = the first), if the act is the
        municipality's."""
        return await self.db.fetchval(
            "SELECT p.telegram_file_id FROM act_photos p JOIN monitoring_acts a ON a.id = p.act_id"
            " WHERE a.municipality_id = ? AND p.act_id = ? AND p.position = ?",
            (municipality_id, act_id, position),
        )


def _named(sql: str, values: dict[str, object]) -> tuple[str, tuple[object, ...]]:
    """``:name`` placeholders as the ``?`` the database layer takes, in order."""
    params: list[object] = []

    def placeholder(match: re.Match[str]) -> str:
        params.append(values[match[1]])
        return "?"

    return _NAME.sub(placeholder, sql), tuple(params)
