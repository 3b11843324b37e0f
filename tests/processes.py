"""Starting civic-bot as its own process, as a user or a deployment does (tests/test_run.py,
tests/conftest.run_cli, bench/crash.py, bench/load.py)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from bot.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without any civic-bot setting, plus ``extra``; the
    repository first on the import path."""
    ours = {name.upper() for name in Settings.model_fields}
    env = {
        k: v
        for k, v in os.environ.items()
        if k.upper() not in ours and not k.startswith(("TELEGRAM_", "TWILIO_"))
    }
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env
