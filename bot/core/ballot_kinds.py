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
GREEDY_NO_SKIP = "greedy-no-skip"
#: Poznań's: in order of votes, then one more project if the rest covers 80 % of its cost
GREEDY_CUSTOM = "greedy-custom"
MES = "mes"
RULES = (TOTALS, BORDA, GREEDY, GREEDY_NO_SKIP, GREEDY_CUSTOM, MES)
#: rules that select projects within the poll's budget (each option needs a cost)
BUDGET_RULES = (GREEDY, GREEDY_NO_SKIP, GREEDY_CUSTOM, MES)

#: a ballot type's pabulib ``vote_type``, and back
PB_VOTE_TYPES = {CHOOSE1: "choose-1", APPROVAL: "approval", RANKED: "ordinal",
                 CUMULATIVE: "cumulative"}  # fmt: skip
FROM_PB_VOTE_TYPE = {pb: ours for ours, pb in PB_VOTE_TYPES.items()}
#: a budget rule's pabulib META ``rule``; a META rule a poll counts by (others: totals)
PB_RULES = {GREEDY: "greedy", GREEDY_NO_SKIP: "greedy-no-skip",
            GREEDY_CUSTOM: "greedy-custom", MES: "equalshares/add1"}  # fmt: skip
FROM_PB_RULE = {"greedy": GREEDY, "greedy-no-skip": GREEDY_NO_SKIP,
                "greedy-custom": GREEDY_CUSTOM, "greedy-threshold": GREEDY,
                "greedy-exclusive": GREEDY, "equalshares/add1": MES}  # fmt: skip


def default_rule(ballot_type: str) -> str:
    """The rule of a poll created without one: Borda for ranked ballots, else totals."""
    return BORDA if ballot_type == RANKED else TOTALS
