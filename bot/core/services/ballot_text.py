"""Reading a ballot typed on a feature phone: ``V 3``, ``V 1 4 5``, ``V 4:5 2:3``.

The poll number is optional while one poll is open: ``V12 1 4`` (or ``V P12 1 4``)
names poll 12. This module only reads the text; whether the ballot is valid for a
poll is decided in :mod:`bot.core.services.voting`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_POLL = re.compile(r"^(?:#|[PП№])?(\d{1,9})$", re.IGNORECASE)
_ENTRY = re.compile(r"^(\d{1,4})(?:[:=](\d{1,6}))?$")


class BallotSyntaxError(ValueError):
    """The text is not a ballot; ``code`` picks the explanation the voter gets."""

    def __init__(self, code: str, **details: object) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class BallotText:
    poll_number: int | None
    #: (option number as shown to voters, points or None)
    entries: tuple[tuple[int, int | None], ...]

    def entries_text(self) -> str:
        """The choices as the voter would type them again: ``1 4``, ``4:5 2:3``."""
        return " ".join(
            f"{number}" if points is None else f"{number}:{points}"
            for number, points in self.entries
        )


def parse_ballot_text(args: str) -> BallotText:
    tokens = [t for t in re.split(r"[\s,;]+", args.strip()) if t]
    poll_number = None
    if tokens and (match := _POLL.match(tokens[0])) and tokens[0][0] in "#PpПп№":
        poll_number = int(match[1])
        tokens = tokens[1:]
    if not tokens:
        raise BallotSyntaxError("empty")
    entries = []
    for token in tokens:
        match = _ENTRY.match(token)
        if match is None:
            raise BallotSyntaxError("malformed", token=token[:12])
        entries.append((int(match[1]), None if match[2] is None else int(match[2])))
    return BallotText(poll_number, tuple(entries))
