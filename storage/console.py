"""The staff console: sign-in codes, sessions, and the door's search of a hearing."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True, slots=True)
class SignInCode:
    id: int
    resident_id: int | None
    code_hash: str | None
    expires_at: str
    attempts: int
    used_at: str | None


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    municipality_id: int
    resident_id: int
    csrf: str
    last_seen_at: str


@dataclass(frozen=True, slots=True)
class DoorMatch:
    """A resident found at the door, with their answer to the hearing and whether they
    are checked in already."""

    resident_id: int
    name: str
    phone: str
    village: str
    answer: str | None
    code: str | None
    checked_in: bool


class ConsoleRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # sign-in codes

    async def requests_since(
        self, *, municipality_id: int, phone: str, client: str, since: str
    ) -> tuple[int, int]:
        """How many codes were asked for ``phone`` and from ``client`` since ``since``."""
        by_phone = await self.db.fetchval(
            "SELECT COUNT(*) FROM console_codes"
            " WHERE municipality_id = ? AND phone = ? AND requested_at > ?",
            (municipality_id, phone, since),
        )
        by_client = await self.db.fetchval(
            "SELECT COUNT(*) FROM console_codes WHERE client = ? AND requested_at > ?",
            (client, since),
        )
        return int(by_phone), int(by_client)

    async def add_code(
        self,
        *,
        municipality_id: int,
        phone: str,
        client: str,
        resident_id: int | None,
        code_hash: str | None,
        now: str,
        expires_at: str,
    ) -> int:
        return await self.db.insert(
            "INSERT INTO console_codes (municipality_id, phone, client, resident_id, code_hash,"
            " requested_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (municipality_id, phone, client, resident_id, code_hash, now, expires_at),
        )

    async def latest_code(self, municipality_id: int, phone: str) -> SignInCode | None:
        row = await self.db.fetchone(
            "SELECT id, resident_id, code_hash, expires_at, attempts, used_at FROM console_codes"
            " WHERE municipality_id = ? AND phone = ? ORDER BY id DESC LIMIT 1",
            (municipality_id, phone),
        )
        return None if row is None else SignInCode(*row)

    async def count_attempt(self, code_id: int) -> None:
        await self.db.execute(
            "UPDATE console_codes SET attempts = attempts + 1 WHERE id = ?", (code_id,)
        )

    async def use_code(self, code_id: int, *, now: str) -> bool:
        """Mark the code used; False when it already was (two requests at once)."""
        changed = await self.db.execute(
            "UPDATE console_codes SET used_at = ? WHERE id = ? AND used_at IS NULL",
            (now, code_id),
        )
        return changed == 1

    async def forget(self, *, requested_before: str, seen_before: str) -> None:
        """Delete old sign-in requests and sessions idle since ``seen_before``."""
        await self.db.execute(
            "DELETE FROM console_codes WHERE requested_at < ?", (requested_before,)
        )
        await self.db.execute(
            "DELETE FROM console_sessions WHERE last_seen_at <= ?", (seen_before,)
        )

    # sessions

    async def add_session(
        self, *, token_hash: str, municipality_id: int, resident_id: int, csrf: str, now: str
    ) -> None:
        await self.db.execute(
            "INSERT INTO console_sessions (token_hash, municipality_id, resident_id, csrf,"
            " created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)",
            (token_hash, municipality_id, resident_id, csrf, now, now),
        )

    async def session(self, token_hash: str) -> ConsoleSession | None:
        row = await self.db.fetchone(
            "SELECT municipality_id, resident_id, csrf, last_seen_at FROM console_sessions"
            " WHERE token_hash = ?",
            (token_hash,),
        )
        return None if row is None else ConsoleSession(*row)

    async def touch_session(self, token_hash: str, *, now: str) -> None:
        await self.db.execute(
            "UPDATE console_sessions SET last_seen_at = ? WHERE token_hash = ?", (now, token_hash)
        )

    async def end_session(self, token_hash: str) -> None:
        await self.db.execute("DELETE FROM console_sessions WHERE token_hash = ?", (token_hash,))

    # the door

    async def door_search(
        self,
        *,
        municipality_id: int,
        hearing_id: int,
        names: list[str],
        phone_digits: str,
        code: str,
        limit: int,
    ) -> list[DoorMatch]:
        """Residents whose name contains one of ``names`` (spellings of one query: SQLite
        folds the case of ASCII letters only), whose phone contains ``phone_digits`` (3 or
        more), or whose RSVP code to the hearing is ``code``; best matches first."""
        name_marks = " OR ".join("r.name LIKE ? ESCAPE '!'" for _ in names) or "FALSE"
        phone_like = f"%{phone_digits}%" if len(phone_digits) >= 3 else None
        rows = await self.db.fetchall(
            "SELECT r.id, r.name, r.phone, v.name, a.answer, a.code,"
            " CASE WHEN t.resident_id IS NULL THEN 0 ELSE 1 END"
            " FROM residents r JOIN villages v ON v.id = r.village_id"
            " LEFT JOIN rsvps a ON a.hearing_id = ? AND a.resident_id = r.id"
            " LEFT JOIN attendance t ON t.hearing_id = ? AND t.resident_id = r.id"
            f" WHERE r.municipality_id = ? AND (({name_marks})"
            " OR (CAST(? AS TEXT) IS NOT NULL AND r.phone LIKE ?) OR a.code = ?)"
            " ORDER BY CASE WHEN a.code = ? THEN 0 ELSE 1 END, r.name, r.id LIMIT ?",
            (hearing_id, hearing_id, municipality_id, *(f"%{_literal(n)}%" for n in names),
             phone_like, phone_like, code or None, code or None, limit),
        )  # fmt: skip
        return [DoorMatch(*row[:6], bool(row[6])) for row in rows]


def _literal(text: str) -> str:
    """``text`` matched as typed by LIKE (``%`` and ``_`` are no wildcards)."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
