"""Text commands for priority problems and polls: PROPOSE, PROBLEMS, POLLS, V, VOTED."""

from __future__ import annotations

from bot.core.clock import iso
from bot.core.services import problems, voting
from bot.core.services.ballot_text import BallotSyntaxError, parse_ballot_text
from bot.core.services.errors import ServiceError
from handlers.context import Context, Reply


async def propose(ctx: Context) -> Reply:
    try:
        problem = await problems.propose(ctx.repos, ctx.resident, ctx.args, now=ctx.now)
    except ServiceError as exc:
        return Reply("propose_usage", {"problem": str(exc)})
    return Reply("proposed", {"number": problem.id})


async def list_problems(ctx: Context) -> Reply:
    return Reply("problems", {"problems": await problems.approved(ctx.repos, ctx.municipality)})


async def list_polls(ctx: Context) -> Reply:
    """Open polls the resident may vote in; ``POLLS 12`` shows poll 12's options alone."""
    wanted = ctx.args.strip().lstrip("#№PpПп")
    polls = [
        (poll, await ctx.repos.polls.options(poll.id))
        for poll in await ctx.repos.polls.open_at(ctx.municipality.id, iso(ctx.now))
        if voting.eligible(poll, ctx.resident, ctx.now)
        and (not wanted.isdecimal() or poll.id == int(wanted))
    ]
    examples = {poll.id: voting.ballot_example(poll, options) for poll, options in polls}
    return Reply("polls", {"polls": polls, "examples": examples})


async def vote(ctx: Context) -> Reply:
    try:
        ballot = parse_ballot_text(ctx.args)
    except BallotSyntaxError as exc:
        return Reply("vote_refused", {"code": exc.code, **exc.details})
    try:
        cast = await voting.cast(
            ctx.repos, ctx.municipality, ctx.resident, ballot, channel=ctx.channel, now=ctx.now
        )
    except voting.VoteRefused as exc:
        # "which poll?" repeats the voter's own choices after the number to add
        typed = ballot.entries_text()
        return Reply("vote_refused", {"code": exc.code, "typed": typed, **exc.details})
    return Reply("voted", {"poll": cast.poll, "chosen": cast.chosen, "replaced": cast.replaced})


async def voted(ctx: Context) -> Reply:
    """``VOTED 12``: whether the resident's ballot in poll 12 is counted, and what it says
    (told to them alone); ``VOTED`` alone: the only open poll."""
    wanted = ctx.args.strip().lstrip("#№PpПп")
    number = int(wanted) if wanted.isascii() and wanted.isdecimal() else None
    try:
        own = await voting.receipt(ctx.repos, ctx.municipality, ctx.resident, number, ctx.now)
    except voting.VoteRefused as exc:
        return Reply("vote_refused", {"code": exc.code, **exc.details})
    return Reply("vote_receipt", {"poll": own.poll, "how": own.channel, "chosen": own.chosen})


HANDLERS = {
    "propose": propose,
    "problems": list_problems,
    "polls": list_polls,
    "vote": vote,
    "voted": voted,
}
