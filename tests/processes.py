"""Starting civic-bot as its own process, as a user or a deployment does (tests/test_run.py,
tests/conftest.run_cli, bench/crash.py, bench/load.py)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
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


async def start_run(
    extra: dict[str, str], workdir: Path, log: Path, *args: str
) -> tuple[asyncio.subprocess.Process, int]:
    """``python -m bot run ARGS`` in ``workdir``, configured by :func:`child_env` (``extra``)
    and its web server on a free port of 127.0.0.1 (what ``extra`` says of ``HTTP_HOST``,
    ``HTTP_PORT`` or ``PUBLIC_BASE_URL`` wins), its output to ``log``. The process and
    the port."""
    port = int(extra.get("HTTP_PORT") or free_port())
    env = child_env(
        {
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(port),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            **extra,
        }
    )
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            *args,
            cwd=workdir,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
        )
    return process, port
