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
from storage.outbox import OutboxRepo
from storage.polls import PollRepo
from storage.problems import ProblemRepo
from storage.rate_limits import RateLimitRepo
from storage.ratings import RatingRepo
from storage.residents import ResidentRepo
from storage.roles import RoleRepo


class Repos:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.municipalities = MunicipalityRepo(db)
        self.households = HouseholdRepo(db)
        self.residents = ResidentRepo(db)
        self.roles = RoleRepo(db)
        self.outbox = OutboxRepo(db)
        self.broadcasts = BroadcastRepo(db)
        self.inbound = InboundRepo(db)
        self.problems = ProblemRepo(db)
        self.polls = PollRepo(db)
        self.hearings = HearingRepo(db)
        self.budget = BudgetRepo(db)
        self.acts = ActRepo(db)
        self.ratings = RatingRepo(db)
        self.rate_limits = RateLimitRepo(db)
        self.fsm = FsmRepo(db)
        self.console = ConsoleRepo(db)
        self.audit = AuditRepo(db)
