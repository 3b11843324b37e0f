"""``civic-bot run`` keeps its threads on one CPU (``CPU_PIN``: ``auto`` by default).

The event loop hands every database statement to aiosqlite's thread and gets the result
back from it: two hand-offs per statement. On two CPUs each hand-off woke the other one
from idle; on one CPU it is a switch between threads. A process of civic-bot uses one
CPU's worth of Python anyway (the GIL). On by default because it was measured to pay more
than 10 %: on a quiet 2-CPU machine (2026-12-02, ``bench/inbound.py``: SMS ~2,100 ->
~2,700/s, Telegram ~830 -> ~1,300/s) and, side by side in one run, on a 2-CPU machine
shared with busy processes (``bench/README.md``, "CPU pinning"). ``CPU_PIN=off`` leaves the
threads to the system, for a host where that is wanted.
"""

from __future__ import annotations

import os


def choose(setting: str, allowed: set[int], pid: int) -> int | None:
    """The CPU for ``setting``: ``"off"`` none; ``"auto"`` one of ``allowed`` by process id
    (several processes on one host spread over its CPUs); else that CPU, which must be
    allowed (ValueError otherwise)."""
    if setting == "off" or len(allowed) < 2:
        return None
    if setting == "auto":
        return sorted(allowed)[pid % len(allowed)]
    cpu = int(setting)
    if cpu not in allowed:
        raise ValueError(f"CPU_PIN={cpu}: this process may run on CPUs {sorted(allowed)}")
    return cpu


def pin(setting: str) -> int | None:
    """Keep this process, and the threads it starts from now on, on the CPU of
    :func:`choose`; return it (None: not pinned, or the system cannot)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = choose(setting, os.sched_getaffinity(0), os.getpid())
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    return cpu
