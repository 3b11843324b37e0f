"""Benchmark ``bot.counting`` against pabutools on the pabulib files.

For each ``.pb`` file both libraries count with the rule the file's META names; the table
gives the wall time (``time.perf_counter``; ours is the best of several runs, pabutools'
the best of fewer) and the peak memory of the count alone (``tracemalloc``, files parsed
beforehand), their ratios, and whether the winners agree. pabutools gets cost satisfaction
(``Cost_Sat``) and, for greedy, a satisfaction of support x cost so that it ranks by support
rather than support per cost (see shared/pabulib/README.md); ties go to the cheaper project,
then the lower id, in both. pabutools has no greedy-no-skip: its skipping greedy stands in
(the table says so), and the winners column tells whether they agree. For MES a second
row gives pabutools with identical ballots merged (``as_multiprofile()``), its faster mode.

Run from the repository root: ``python bench/tally.py`` (needs the ``bench`` extra:
``pip install pabutools``). On Swiecie pabutools' MES needs several seconds and a few
hundred MB, twice (time, then memory).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.counting import Election, count, id_key, read_pb, rule_for_meta

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "pabulib"


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


def pabutools_runner(path: Path, rule: str, election: Election, multiprofile: bool) -> Callable:
    """A closure running pabutools' version of ``rule`` on the parsed file.

    ``multiprofile`` hands pabutools identical ballots merged with multiplicities, which
    makes its MES several times faster (it is not the default way to call it).
    """
    from pabutools.election import AdditiveSatisfaction, Cost_Sat, parse_pabulib
    from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares
    from pabutools.tiebreaking import TieBreakingRule

    instance, profile = parse_pabulib(str(path))
    if multiprofile:
        profile = profile.as_multiprofile()
    ties = TieBreakingRule(lambda _inst, _prof, p: (p.cost, id_key(p.name)))
    if rule == "mes":
        return lambda: method_of_equal_shares(
            instance, profile, sat_class=Cost_Sat, tie_breaking=ties, voter_budget_increment=1
        )
    vote_type = election.vote_type
    raw = election.meta.get("max_length", "")
    max_length = int(raw) if raw.isdigit() else None

    def support_x_cost(_inst: Any, _prof: Any, ballot: Any, project: Any, _pre: Any) -> int:
        if project not in ballot:
            return 0
        if vote_type == "cumulative":
            return ballot[project] * project.cost
        if vote_type == "ordinal":
            k = max_length or len(ballot)
            return (k - ballot.position(project)) * project.cost
        return project.cost

    class SupportTimesCost(AdditiveSatisfaction):
        def __init__(self, inst: Any, prof: Any, ballot: Any) -> None:
            super().__init__(inst, prof, ballot, support_x_cost)

    return lambda: greedy_utilitarian_welfare(
        instance, profile, sat_class=SupportTimesCost, tie_breaking=ties
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="folder of .pb files")
    parser.add_argument("--repeat", type=int, default=20, help="runs of ours (best is kept)")
    parser.add_argument("--repeat-pabutools", type=int, default=3, help="runs of pabutools")
    parser.add_argument("--only", default="", help="only files whose name contains this")
    args = parser.parse_args(argv)
    files = sorted(p for p in args.dir.glob("*.pb") if args.only in p.name)
    if not files:
        parser.error(f"no .pb files in {args.dir}")
    print(
        "| file | rule | ours ms | pabutools ms | faster | ours peak MB | pabutools peak MB "
        "| memory | same winners |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for path in files:
        election = read_pb(path)
        rule = rule_for_meta(election.meta["rule"])
        ours = count(election, rule)
        ours_s = best_time(lambda e=election, r=rule: count(e, r), args.repeat)
        ours_mem = peak_memory(lambda e=election, r=rule: count(e, r))
        for multiprofile in (False, True) if rule == "mes" else (False,):
            fn = pabutools_runner(path, rule, election, multiprofile)
            theirs = fn()
            slow = best_time(fn, 1)
            if slow < 1 and args.repeat_pabutools > 1:
                slow = min(slow, best_time(fn, args.repeat_pabutools - 1))
            theirs_mem = peak_memory(fn)
            same = set(ours.selected) == {p.name for p in theirs}
            label = {"greedy-no-skip": "greedy-no-skip (pabutools: greedy)"}.get(rule, rule)
            if multiprofile:
                label += " (pabutools multiprofile)"
            print(
                f"| {path.stem} | {label} | {ours_s * 1e3:.1f} | {slow * 1e3:.0f} "
                f"| {slow / ours_s:.0f}x | {ours_mem / 1e6:.2f} | {theirs_mem / 1e6:.1f} "
                f"| 1/{theirs_mem / ours_mem:.0f} | {'yes' if same else 'NO'} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
