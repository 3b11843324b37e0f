"""Benchmark ``bot.core.counting`` against pabutools on the shared pabulib files.

For each ``.pb`` file of ``../shared/pabulib`` and ``../shared/pabulib-corpus`` both
libraries count with the rule the file's META names, as :data:`bot.core.counting.PABULIB_RULES`
counts it (files whose rule is ``unknown``: greedy). The table gives the wall time
(``time.perf_counter``; ours is the best of several runs, pabutools' the best of fewer) and
the peak memory of the count alone (``tracemalloc``, files parsed beforehand), their ratios,
and whether the winners agree; a last row gives the totals and ours the slowest file.

pabutools gets the same rule where it has one: greedy as ``greedy_utilitarian_welfare``
with a satisfaction of support x cost (so that it ranks by support rather than support per
cost; ordinal support is pabulib's Borda score), projects below the META threshold and
withdrawn ones (cost 999999999) taken out of its instance, ties in PROJECTS order as ours;
MES as ``method_of_equal_shares(Cost_Sat, voter_budget_increment=1)`` (equalshares/add1: the
same winners as the checker's Add1 on Swiecie) and, for equalshares/add1-comparison, as
``exhaustion_by_budget_increase(budget_step=n, exhaustive_stop=False)`` (its comparison with
greedy is not in pabutools: the MES outcome is compared; only in multiprofile mode, which
takes minutes). pabutools has no greedy-no-skip
and no Poznan rule: its skipping greedy stands in (the rule column says so, and the winners
column tells whether they agree). For MES a second row gives pabutools with identical ballots
merged (``as_multiprofile()``), its faster mode.

``--synthetic N`` instead times reading and counting a generated approval election of ``N``
voters (default in the README: 500,000) with ``read_pb(merge=True)``, its voters listed in
the order of their ids and then shuffled.

Run from the repository root: ``python bench/tally.py`` (needs the ``bench`` extra:
``pip install pabutools``). pabutools' MES needs seconds to minutes per file.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.counting import Election, MetaRule, count, meta_rule, read_pb
from bot.core.counting.greedy import WITHDRAWN

SHARED = Path(__file__).resolve().parents[2] / "shared"
DEFAULT_DIRS = (SHARED / "pabulib", SHARED / "pabulib-corpus")
UNKNOWN = MetaRule("greedy", ("order",))


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def peak_memory(fn: Callable[[], object]) -> int:
    """Peak bytes allocated by Python during one run."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def how(election: Election) -> MetaRule:
    try:
        return meta_rule(election.meta.get("rule", ""))
    except ValueError:
        return UNKNOWN


def pabutools_runner(path: Path, election: Election, multiprofile: bool) -> Callable:
    """A closure running pabutools' version of the file's rule on the parsed file."""
    from pabutools.election import AdditiveSatisfaction, Cost_Sat, Instance, parse_pabulib
    from pabutools.rules import (
        exhaustion_by_budget_increase,
        greedy_utilitarian_welfare,
        method_of_equal_shares,
    )
    from pabutools.tiebreaking import TieBreakingRule

    instance, profile = parse_pabulib(str(path))
    if multiprofile:
        profile = profile.as_multiprofile()
    rule = how(election)
    outcome = count(election, "greedy")
    position = {p.id: i for i, p in enumerate(election.projects)}
    if rule.rule.startswith("mes"):
        votes = outcome.votes
        ties = TieBreakingRule(
            lambda _i, _p, p: (p.cost, -votes[p.name], position[p.name])  # as _MES_TIES
        )
        if rule.rule == "mes-comparison":
            n = len(election.ballots)
            return lambda: exhaustion_by_budget_increase(
                instance,
                profile,
                method_of_equal_shares,
                {"sat_class": Cost_Sat, "tie_breaking": ties},
                budget_step=n,
                exhaustive_stop=False,
            )
        return lambda: method_of_equal_shares(
            instance, profile, sat_class=Cost_Sat, tie_breaking=ties, voter_budget_increment=1
        )
    raw = election.meta.get("min_project_score_threshold", "0").split(".")[0] or "0"
    keep = [
        p
        for p in instance
        if outcome.score[p.name] >= int(raw) and outcome.score[p.name] > 0 and p.cost != WITHDRAWN
    ]
    instance = Instance(keep, budget_limit=instance.budget_limit)
    vote_type = election.vote_type

    def support_x_cost(_inst: Any, _prof: Any, ballot: Any, project: Any, _pre: Any) -> Any:
        if project not in ballot:
            return 0
        if vote_type in ("cumulative", "scoring"):
            return ballot[project] * project.cost
        if vote_type == "ordinal":  # pabulib's Borda: L points for the top of L
            return (len(ballot) - ballot.position(project)) * project.cost
        return project.cost

    class SupportTimesCost(AdditiveSatisfaction):
        def __init__(self, inst: Any, prof: Any, ballot: Any) -> None:
            super().__init__(inst, prof, ballot, support_x_cost)

    ties = TieBreakingRule(lambda _i, _p, p: position[p.name])
    return lambda: greedy_utilitarian_welfare(
        instance, profile, sat_class=SupportTimesCost, tie_breaking=ties
    )


def ours_runner(election: Election) -> Callable[[], Any]:
    rule = how(election)
    return lambda: count(election, rule.rule, ties=rule.ties, completion=rule.completion)


def compare(files: list[Path], repeat: int, repeat_theirs: int, slow_limit: float) -> None:
    print(
        "| file | rule | ours ms | pabutools ms | faster | ours peak MB | pabutools peak MB "
        "| memory | same winners |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    total_ours = total_theirs = 0.0
    peak_ours = peak_theirs = 0
    slowest = (0.0, "")
    for path in files:
        election = read_pb(path)
        rule = how(election)
        fn_ours = ours_runner(election)
        ours = fn_ours()
        ours_s = best_time(fn_ours, repeat)
        ours_mem = peak_memory(fn_ours)
        total_ours += ours_s
        peak_ours = max(peak_ours, ours_mem)
        slowest = max(slowest, (ours_s, path.stem))
        modes = {"mes": (False, True), "mes-comparison": (True,)}.get(rule.rule, (False,))
        for multiprofile in modes:
            fn = pabutools_runner(path, election, multiprofile)
            start = time.perf_counter()
            theirs = fn()
            slow = time.perf_counter() - start
            if slow < 1 and repeat_theirs > 1:
                slow = min(slow, best_time(fn, repeat_theirs - 1))
            # a run of minutes is timed once and not run again for its memory
            theirs_mem = peak_memory(fn) if slow < slow_limit else 0
            if multiprofile == modes[0]:
                total_theirs += slow
                peak_theirs = max(peak_theirs, theirs_mem)
            same = set(ours.selected) == {p.name for p in theirs}
            label = election.meta.get("rule", "")
            if rule.rule in ("greedy-no-skip", "greedy-custom"):
                label += " (pabutools: greedy)"
            if multiprofile:
                label += " (pabutools multiprofile)"
            theirs_peak, ratio = "—", "—"
            if theirs_mem:
                theirs_peak = f"{theirs_mem / 1e6:.1f}"
                ratio = f"1/{theirs_mem / max(ours_mem, 1):.0f}"
            print(
                f"| {path.stem[:60]} | {label} | {ours_s * 1e3:.1f} | {slow * 1e3:.0f} "
                f"| {slow / ours_s:.0f}x | {ours_mem / 1e6:.2f} | {theirs_peak} "
                f"| {ratio} | {'yes' if same else 'NO'} |",
                flush=True,
            )
    print(
        f"| **all {len(files)} files** | | {total_ours * 1e3:.0f} | {total_theirs * 1e3:.0f} "
        f"| {total_theirs / total_ours:.0f}x | {peak_ours / 1e6:.2f} (max) "
        f"| {peak_theirs / 1e6:.1f} (max) | | |"
    )
    print(f"\nslowest file of ours: {slowest[1]} ({slowest[0] * 1e3:.0f} ms)")


def synthetic(voters: int) -> None:
    """Read and count a generated approval election of ``voters`` voters, listed in the order
    of their ids (as real files list them) and then shuffled."""
    rng = random.Random(1)
    projects = 60
    popularity = [rng.random() ** 2 for _ in range(projects)]
    pool = [
        ",".join(f"p{p}" for p in range(projects) if rng.random() < popularity[p] * 0.3) or "p0"
        for _ in range(2_000)
    ]
    costs = [rng.randint(50, 400) * 1000 for _ in range(projects)]
    votes = [rng.choice(pool) for _ in range(voters)]
    ids = list(range(voters))
    for order in ("in order", "shuffled"):
        if order == "shuffled":
            rng.shuffle(ids)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "synthetic.pb"
            with path.open("w", encoding="utf-8") as f:
                f.write("META\nkey;value\nbudget;3000000\nvote_type;approval\nrule;greedy\n")
                f.write("PROJECTS\nproject_id;cost\n")
                f.writelines(f"p{p};{cost}\n" for p, cost in enumerate(costs))
                f.write("VOTES\nvoter_id;vote\n")
                f.writelines(f"{v};{vote}\n" for v, vote in zip(ids, votes, strict=True))
            size = path.stat().st_size
            start = time.perf_counter()
            election = read_pb(path, merge=True)
            parsed = time.perf_counter() - start
            peak = peak_memory(lambda: read_pb(path, merge=True))  # noqa: B023 (called here)
        times = {}
        for rule in ("greedy", "mes"):
            start = time.perf_counter()
            count(election, rule)
            times[rule] = time.perf_counter() - start
        print(
            f"{voters:,} voters, ids {order} ({size / 1e6:.1f} MB, "
            f"{len(election.ballots):,} distinct ballots): read_pb(merge=True) {parsed:.2f} s, "
            f"peak {peak / 1e6:.1f} MB; greedy {times['greedy'] * 1e3:.0f} ms, "
            f"mes {times['mes'] * 1e3:.0f} ms"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--dir", type=Path, action="append", help="folder of .pb files")
    parser.add_argument("--repeat", type=int, default=10, help="runs of ours (best is kept)")
    parser.add_argument("--repeat-pabutools", type=int, default=3, help="runs of pabutools")
    parser.add_argument("--only", default="", help="only files whose name contains this")
    parser.add_argument(
        "--memory-limit",
        type=float,
        default=60,
        metavar="S",
        help="pabutools runs longer than S seconds are not run again for their memory",
    )
    parser.add_argument("--synthetic", type=int, metavar="N", help="time N generated voters")
    args = parser.parse_args(argv)
    if args.synthetic:
        synthetic(args.synthetic)
        return 0
    dirs = args.dir or DEFAULT_DIRS
    files = sorted(p for d in dirs for p in d.glob("*.pb") if args.only in p.name)
    if not files:
        parser.error(f"no .pb files in {', '.join(map(str, dirs))}")
    compare(files, args.repeat, args.repeat_pabutools, args.memory_limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
