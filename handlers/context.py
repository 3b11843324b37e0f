"""What a text-command handler receives and returns (shared by the command modules)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.models import Municipality, Resident
from storage.repos import Repos


@dataclass(frozen=True)
class Reply:
    template: str
    data: dict[str, Any] = field(default_factory=dict)
    #: render in this language instead of the sender's (e.g. right after LANG)
    language: str | None = None
    #: the broadcast this command queued (Telegram shows its live progress instead)
    broadcast_id: int | None = None
    #: the broadcast draft this command awaits confirmation of (Telegram: Confirm / Cancel)
    draft_id: int | None = None


@dataclass(frozen=True)
class Context:
    repos: Repos
    municipality: Municipality
    resident: Resident
    args: str
    now: datetime
    #: the channel the command came in on (a ballot records it: phone vs paper)
    channel: str = "sms"


Handler = Callable[[Context], Awaitable[Reply]]


def page_number(word: str | None) -> int:
    """``PROBLEMS 2``: the page of a list an SMS shows in parts (1 when not a number)."""
    word = (word or "").strip()
    return int(word) if word.isdecimal() and len(word) < 6 else 1
