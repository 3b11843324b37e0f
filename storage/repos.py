"""All repositories over one connection, so a service can use several in one transaction."""

from __future__ import annotations

from storage.acts import ActRepo
from storage.audit import AuditRepo
from storage.broadcasts import BroadcastRepo
from storage.budget import BudgetRepo
from storage.console import ConsoleRepo
from storage.db import Database
from storage.fsm import FsmRepo
from storage.hearings import HearingRepo
from storage.households import HouseholdRepo
from storage.inbound import InboundRepo
from storage.municipalities import MunicipalityRepo
from storage.municipality_secrets import MunicipalitySecretRepo
from storage.outbox import OutboxRepo
from storage.polls import PollRepo
from storage.problems import ProblemRepo
from storage.public import PublicRepo
from storage.rate_limits import RateLimitRepo
from storage.ratings import RatingRepo
from storage.residents import ResidentRepo
from storage.roles import RoleRepo
from storage.sealing import Sealer


class Repos:
    """``ballot_key`` (the ``BALLOT_KEY`` setting) seals ballots and the replies that name
    them; without it no vote can be cast nor counted. ``secrets_key`` (``SECRETS_KEY``)
    seals the municipalities' provider secrets."""

    def __init__(
        self, db: Database, ballot_key: str | None = None, secrets_key: str | None = None
    ) -> None:
        self.db = db
        self.sealer = Sealer(ballot_key) if ballot_key else None
        self.municipalities = MunicipalityRepo(db)
        self.municipality_secrets = MunicipalitySecretRepo(
            db, Sealer(secrets_key) if secrets_key else None
        )
        self.households = HouseholdRepo(db)
        self.residents = ResidentRepo(db)
        self.roles = RoleRepo(db)
        self.outbox = OutboxRepo(db, self.sealer)
        self.broadcasts = BroadcastRepo(db)
        self.inbound = InboundRepo(db, self.sealer)
        self.problems = ProblemRepo(db)
        self.polls = PollRepo(db, self.sealer)
        self.hearings = HearingRepo(db)
        self.budget = BudgetRepo(db)
        self.acts = ActRepo(db)
        self.ratings = RatingRepo(db)
        self.rate_limits = RateLimitRepo(db)
        self.fsm = FsmRepo(db)
        self.console = ConsoleRepo(db)
        self.audit = AuditRepo(db)
        self.public = PublicRepo(db)
