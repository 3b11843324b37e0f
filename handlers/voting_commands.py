"""Text commands for priority problems and polls: PROPOSE, PROBLEMS, POLLS, V, VOTED."""

from __future__ import annotations

from bot.core.rendering.templates import Paged
from bot.core.services import problems, voting
from bot.core.services.ballot_text import BallotSyntaxError, parse_ballot_text
from bot.core.services.errors import Refused, ServiceError
from handlers.context import Context, Reply, page_number


async def propose(ctx: Context) -> Reply:
    try:
        problem = await problems.propose(ctx.repos, ctx.resident, ctx.args, now=ctx.now)
    except ServiceError as exc:
        return Reply("propose_usage", {"problem": str(exc)})
    return Reply("proposed", {"number": problem.id})


async def list_problems(ctx: Context) -> Reply:
    """``PROBLEMS``, ``PROBLEMS 2``: the next page of what one SMS cannot hold."""
    approved = await problems.approved(ctx.repos, ctx.municipality)
    return Reply("problems", {"problems": Paged(approved, page_number(ctx.args))})


def _poll_and_page(args: str) -> tuple[str, int]:
    """``12 2`` → ("12", 2): a poll's number as typed (``#12``, ``П12`` too) and a page of
    its list."""
    words = args.split()
    wanted = words[0].lstrip("#№PpПп") if words else ""
    return wanted, page_number(words[1] if len(words) > 1 else None)


async def list_polls(ctx: Context) -> Reply:
    """Open polls the resident may vote in; ``POLLS 12`` shows poll 12's options alone
    (``POLLS 12 2``: the next page of them by SMS)."""
    wanted, page = _poll_and_page(ctx.args)
    polls = [
        (poll, await voting.options(ctx.repos, poll))
        for poll in await voting.open_polls(ctx.repos, ctx.municipality, ctx.resident, ctx.now)
        if not wanted.isdecimal() or poll.id == int(wanted)
    ]
    examples = {poll.id: voting.ballot_example(poll, options) for poll, options in polls}
    # one poll: its options, a page at a time by SMS
    options = Paged(polls[0][1], page) if len(polls) == 1 else None
    return Reply("polls", {"polls": polls, "options": options, "examples": examples})


async def vote(ctx: Context) -> Reply:
    try:
        ballot = parse_ballot_text(ctx.args)
    except BallotSyntaxError as exc:
        return Reply("vote_refused", {"code": exc.code, **exc.details})
    try:
        cast = await voting.cast(
            ctx.repos, ctx.municipality, ctx.resident, ballot, channel=ctx.channel, now=ctx.now
        )
    except (BallotSyntaxError, Refused) as exc:
        # "which poll?" repeats the voter's own choices after the number to add
        typed = ballot.entries_text()
        return Reply("vote_refused", {"code": exc.code, "typed": typed, **exc.details})
    chosen = Paged(cast.chosen)  # the rest by SMS: VOTED 12 2
    return Reply("voted", {"poll": cast.poll, "chosen": chosen, "replaced": cast.replaced})


async def voted(ctx: Context) -> Reply:
    """``VOTED 12``: whether the resident's ballot in poll 12 is counted, and what it says
    (told to them alone); ``VOTED`` alone: the only open poll; ``VOTED 12 2``: the next
    page of it by SMS."""
    wanted, page = _poll_and_page(ctx.args)
    number = int(wanted) if wanted.isascii() and wanted.isdecimal() else None
    try:
        own = await voting.receipt(ctx.repos, ctx.municipality, ctx.resident, number, ctx.now)
    except Refused as exc:
        return Reply("vote_refused", {"code": exc.code, **exc.details})
    chosen = Paged(own.chosen, page)
    return Reply("vote_receipt", {"poll": own.poll, "how": own.channel, "chosen": chosen})


HANDLERS = {
    "propose": propose,
    "problems": list_problems,
    "polls": list_polls,
    "vote": vote,
    "voted": voted,
}
