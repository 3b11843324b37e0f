"""Upgrading a database of before sealed ballots (migration 0013), once.

Until then a ballot was a plaintext row under HMAC(stored key, "poll:resident"), with the
key in the same database. Where such ballots exist and ``BALLOT_KEY`` is set, each is
matched with its voter's turnout row through the old key and sealed into it (a paper
ballot, and one of an imported election, into the box, linked to nobody); then the
plaintext rows and the stored key are deleted and the space they took is rewritten
(VACUUM), all at start-up (``civic-bot init``, any command, ``civic-bot run``). Without
``BALLOT_KEY`` the program refuses to go on with one line saying so.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections import defaultdict

from bot.core.services.errors import ServiceError
from bot.core.services.voting import PAPER
from storage.models import StoredBallot
from storage.repos import Repos

log = logging.getLogger(__name__)


def legacy_voter_key(key: str, poll_id: int, resident_id: int) -> str:
    """The voter hash ballots were stored under before migration 0013."""
    return hmac.new(key.encode(), f"{poll_id}:{resident_id}".encode(), hashlib.sha256).hexdigest()


async def seal_legacy(repos: Repos) -> int:
    """Seal the ballots stored in plaintext by an earlier version; how many there were.
    :class:`ServiceError` if there are some and ``BALLOT_KEY`` is not set."""
    key = await repos.polls.legacy_key()
    if key is None:
        return 0
    legacy = await repos.polls.legacy_ballots()
    if legacy and not repos.polls.sealing:
        raise ServiceError(
            f"the database holds {len(legacy)} ballot(s) of an earlier version, not yet"
            " sealed: set BALLOT_KEY (see .env.example) and run civic-bot init"
        )
    by_poll: dict[int, list[tuple[str, StoredBallot]]] = defaultdict(list)
    for poll_id, voter_key, ballot in legacy:
        by_poll[poll_id].append((voter_key, ballot))
    async with repos.db.transaction():
        for poll_id, ballots in by_poll.items():
            voters = {
                legacy_voter_key(key, poll_id, entry.resident_id): entry
                for entry in await repos.polls.turnout_of(poll_id)
            }
            box = []
            for voter_key, ballot in ballots:
                voter = voters.get(voter_key)
                if voter is None or voter.channel == PAPER:
                    box.append(ballot)  # imported, or paper: linked to nobody from now on
                    continue
                await repos.polls.record_vote(
                    poll_id, voter.resident_id, voter.channel, ballot, now=voter.cast_at,
                    replace=True,
                )  # fmt: skip
            await repos.polls.add_box_ballots(poll_id, box)
        await repos.polls.drop_legacy()
    await repos.polls.compact()
    if legacy:
        log.info("sealed %d ballot(s) of an earlier version; the stored key is gone", len(legacy))
    return len(legacy)
