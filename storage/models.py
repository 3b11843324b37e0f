"""Plain dataclasses that repositories return (never raw rows)."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("staff", "admin", "deputy", "monitor")


@dataclass(frozen=True, slots=True)
class Municipality:
    id: int
    slug: str
    name: str
    default_language: str


@dataclass(frozen=True, slots=True)
class Village:
    id: int
    municipality_id: int
    name: str


@dataclass(frozen=True, slots=True)
class Household:
    id: int
    municipality_id: int
    code: str
    village_id: int
    address: str


@dataclass(frozen=True, slots=True)
class Resident:
    id: int
    municipality_id: int
    phone: str
    name: str
    gender: str
    birth_year: int | None
    village_id: int
    household_id: int
    language: str
    opted_out: bool
    telegram_user_id: int | None


@dataclass(frozen=True, slots=True)
class ResidentCard:
    """What a resident sees of themselves (``ME``)."""

    name: str
    phone: str
    village: str
    household_code: str
    household_address: str
    household_size: int
    language: str
    opted_out: bool
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RoleHolder:
    phone: str
    name: str
    role: str
    granted_at: str
