"""civic-bot run keeps its threads on one CPU (bot/runtime/cpu.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot.config import SettingsError, load_settings
from bot.runtime.cpu import choose
from tests.processes import REPO_ROOT


def test_auto_spreads_processes_over_the_cpus_they_may_use() -> None:
    allowed = {0, 2, 3}
    chosen = {choose("auto", allowed, pid) for pid in range(100, 130)}
    assert chosen == allowed
    assert choose("auto", allowed, 101) == choose("auto", allowed, 101)  # stable per process


def test_off_a_single_cpu_and_a_named_one() -> None:
    assert choose("off", {0, 1}, 7) is None
    assert choose("auto", {3}, 7) is None  # nothing to choose: leave it be
    assert choose("1", {0, 1}, 7) == 1
    with pytest.raises(ValueError, match="may run on CPUs"):
        choose("5", {0, 1}, 7)


@pytest.mark.parametrize("bad", ["fast", "-1", "1.5", "999999"])
def test_a_wrong_setting_is_one_line_naming_it(bad: str) -> None:
    with pytest.raises(SettingsError, match="CPU_PIN"):
        load_settings(cpu_pin=bad)


def test_pinning_keeps_the_threads_started_after_it_on_that_cpu() -> None:
    """In a fresh interpreter (the test process keeps its own CPUs)."""
    code = """
import json, os, threading
from bot.runtime.cpu import pin
cpu = pin("auto")
seen = []
thread = threading.Thread(target=lambda: seen.append(sorted(os.sched_getaffinity(0))))
thread.start(); thread.join()
print(json.dumps({"cpu": cpu, "main": sorted(os.sched_getaffinity(0)), "thread": seen[0]}))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    if found["cpu"] is None:
        pytest.skip("one CPU here: nothing to pin")  # the choice itself is tested above
    assert found["main"] == found["thread"] == [found["cpu"]]
