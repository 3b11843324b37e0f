"""The ballot types and counting rules of a poll: the one list of them, their pabulib names.

Everything that names a ballot type or a rule imports it from here (the CLI's choices, the
services that create, check, count, export and import polls, the Telegram ballot). The
counting package (``bot.core.counting``) speaks pabulib's own vocabulary (``choose-1``,
``ordinal``; its rules ``greedy``, ``mes``, ...): :data:`PB_VOTE_TYPES` and :data:`PB_RULES`
translate.
"""

from __future__ import annotations

CHOOSE1 = "choose1"
APPROVAL = "approval"
RANKED = "ranked"
CUMULATIVE = "cumulative"
BALLOT_TYPES = (CHOOSE1, APPROVAL, RANKED, CUMULATIVE)
#: a voter names up to ``max_choices`` options, each once
SETS = (APPROVAL, RANKED)

TOTALS = "totals"
BORDA = "borda"
GREEDY = "greedy"
MES = "mes"
RULES = (TOTALS, BORDA, GREEDY, MES)
#: rules that select projects within the poll's budget (each option needs a cost)
BUDGET_RULES = (GREEDY, MES)

#: a ballot type's pabulib ``vote_type``, and back
PB_VOTE_TYPES = {CHOOSE1: "choose-1", APPROVAL: "approval", RANKED: "ordinal",
                 CUMULATIVE: "cumulative"}  # fmt: skip
FROM_PB_VOTE_TYPE = {pb: ours for ours, pb in PB_VOTE_TYPES.items()}
#: a budget rule's pabulib META ``rule``; a META rule a poll counts by (others: totals)
PB_RULES = {GREEDY: "greedy", MES: "equalshares/add1"}
FROM_PB_RULE = {"greedy": GREEDY, "greedy-no-skip": GREEDY, "greedy-threshold": GREEDY,
                "greedy-exclusive": GREEDY, "equalshares/add1": MES}  # fmt: skip


def default_rule(ballot_type: str) -> str:
    """The rule of a poll created without one: Borda for ranked ballots, else totals."""
    return BORDA if ballot_type == RANKED else TOTALS
