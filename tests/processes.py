"""Starting civic-bot as its own process, as a user or a deployment does (tests/test_run.py,
tests/conftest.run_cli, bench/crash.py, bench/load.py), and configuring it for the fake
providers."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

from bot.config import Settings
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import FakeTwilioAPI

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: the ballot key of the tests (child processes get it unless ``extra`` says otherwise;
#: ``BALLOT_KEY=""`` unsets it)
TEST_BALLOT_KEY = "test-ballot-key-" + "0123456789abcdef" * 3


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without any civic-bot setting, plus the tests' ballot
    key and ``extra``; the repository first on the import path."""
    ours = {name.upper() for name in Settings.model_fields}
    env = {
        k: v
        for k, v in os.environ.items()
        if k.upper() not in ours and not k.startswith(("TELEGRAM_", "TWILIO_"))
    }
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    env["BALLOT_KEY"] = TEST_BALLOT_KEY
    env.update(extra)
    return env


def telegram_env(telegram: FakeTelegramAPI, token: str = "123456:TEST") -> dict[str, str]:
    """The settings that point civic-bot's Telegram bot at ``telegram``."""
    return {"TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_URL": telegram.base_url}


def twilio_env(twilio: FakeTwilioAPI, from_number: str) -> dict[str, str]:
    """The settings that send civic-bot's SMS from ``from_number`` through ``twilio``."""
    return {
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_FROM_NUMBER": from_number,
        "TWILIO_API_URL": twilio.base_url,
    }


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
