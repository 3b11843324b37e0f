"""Each municipality's provider secrets (bot token, webhook secret, SMS gateway
credentials), kept sealed under SECRETS_KEY: managed with ``civic-bot municipality
secret``, never in clear in a dump of the database (SQLite and PostgreSQL), never printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.services.errors import ServiceError
from bot.core.services.municipalities import provider_settings
from storage.db import connect
from storage.repos import Repos
from tests.conftest import dump_database, run_cli

KEY = "k" * 40
OTHER_KEY = "o" * 40
TOKEN = "777001:AAH-secret-bot-token-of-ak-chiy"
AUTH = "twilio-auth-token-5f0e9c"


def env(db_url: str, **more: str) -> dict[str, str]:
    return {"DATABASE_URL": db_url, "SECRETS_KEY": KEY} | more


def cli(tmp_path: Path, db_url: str, *args: str, **more: str):
    return run_cli(*args, cwd=tmp_path, env=env(db_url, **more))


def create(tmp_path: Path, db_url: str, slug: str = "ak-chiy") -> None:
    made = cli(tmp_path, db_url, "municipality", "create", slug, "--name", slug, "--village", "A")
    assert made.returncode == 0, made.stderr


async def opened(db_url: str, slug: str, key: str = KEY) -> dict[str, str]:
    async with connect(db_url) as db:
        repos = Repos(db, secrets_key=key)
        municipality = await repos.municipalities.by_slug(slug)
        assert municipality is not None
        return await provider_settings(repos, municipality)


async def test_secrets_are_sealed_in_a_dump_and_never_printed(tmp_path: Path, db_url: str) -> None:
    create(tmp_path, db_url)
    outputs = []
    for name, variable, value in (
        ("TELEGRAM_BOT_TOKEN", "T", TOKEN),
        ("twilio_auth_token", "A", AUTH),
    ):
        result = cli(
            tmp_path,
            db_url,
            "municipality",
            "secret",
            "set",
            "ak-chiy",
            name,
            "--from-env",
            variable,
            **{variable: value},
        )
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout + result.stderr)
    listing = cli(tmp_path, db_url, "municipality", "secret", "list", "ak-chiy")
    assert listing.returncode == 0, listing.stderr
    assert [line.split("\t")[0] for line in listing.stdout.splitlines()] == [
        "TELEGRAM_BOT_TOKEN",
        "TWILIO_AUTH_TOKEN",
    ]
    outputs.append(listing.stdout + listing.stderr)
    dump = "\n".join(dump_database(db_url))
    for secret in (TOKEN, AUTH, "secret-bot-token", "5f0e9c"):
        assert secret not in dump
        assert not any(secret in output for output in outputs)
    assert dump.count("sealed:v1:") == 2
    assert await opened(db_url, "ak-chiy") == {
        "telegram_bot_token": TOKEN,
        "twilio_auth_token": AUTH,
    }


async def test_a_secret_is_rotated_and_removed(tmp_path: Path, db_url: str) -> None:
    create(tmp_path, db_url)
    for value in ("111:old", "222:new"):
        result = cli(
            tmp_path,
            db_url,
            "municipality",
            "secret",
            "set",
            "ak-chiy",
            "TELEGRAM_BOT_TOKEN",
            "--from-env",
            "T",
            T=value,
        )
        assert result.returncode == 0, result.stderr
    assert await opened(db_url, "ak-chiy") == {"telegram_bot_token": "222:new"}
    removed = cli(
        tmp_path, db_url, "municipality", "secret", "remove", "ak-chiy", "TELEGRAM_BOT_TOKEN"
    )
    assert removed.returncode == 0, removed.stderr
    assert await opened(db_url, "ak-chiy") == {}
    again = cli(
        tmp_path, db_url, "municipality", "secret", "remove", "ak-chiy", "TELEGRAM_BOT_TOKEN"
    )
    assert again.returncode == 2
    assert "civic-bot: 'ak-chiy' has no TELEGRAM_BOT_TOKEN" in again.stderr


async def test_a_value_of_another_municipality_does_not_open_here(
    tmp_path: Path, db_url: str
) -> None:
    create(tmp_path, db_url, "ak-chiy")
    create(tmp_path, db_url, "kara-suu")
    for slug, value in (("ak-chiy", "111:A"), ("kara-suu", "222:B")):
        result = cli(
            tmp_path,
            db_url,
            "municipality",
            "secret",
            "set",
            slug,
            "TELEGRAM_BOT_TOKEN",
            "--from-env",
            "T",
            T=value,
        )
        assert result.returncode == 0, result.stderr
    assert await opened(db_url, "kara-suu") == {"telegram_bot_token": "222:B"}
    async with connect(db_url) as db:  # a sealed value copied into the other's row
        await db.execute(
            "UPDATE municipality_secrets SET value = (SELECT value FROM municipality_secrets"
            " WHERE municipality_id = 1) WHERE municipality_id = 2"
        )
    with pytest.raises(ServiceError, match="does not open with this SECRETS_KEY"):
        await opened(db_url, "kara-suu")


async def test_another_key_is_a_clear_error(tmp_path: Path, db_url: str) -> None:
    create(tmp_path, db_url)
    result = cli(
        tmp_path,
        db_url,
        "municipality",
        "secret",
        "set",
        "ak-chiy",
        "TELEGRAM_BOT_TOKEN",
        "--from-env",
        "T",
        T=TOKEN,
    )
    assert result.returncode == 0, result.stderr
    with pytest.raises(ServiceError) as error:
        await opened(db_url, "ak-chiy", key=OTHER_KEY)
    assert str(error.value) == (
        "'ak-chiy': a secret of municipality 1 does not open with this SECRETS_KEY"
        " (was it made with another key?)"
    )
    assert TOKEN not in str(error.value)


def test_bad_requests_change_nothing(tmp_path: Path, db_url: str) -> None:
    create(tmp_path, db_url)
    before = dump_database(db_url)
    cases = [
        # no key: nothing can be sealed
        (
            run_cli(
                "municipality",
                "secret",
                "set",
                "ak-chiy",
                "TELEGRAM_BOT_TOKEN",
                "--from-env",
                "T",
                cwd=tmp_path,
                env={"DATABASE_URL": db_url, "T": TOKEN},
            ),
            "civic-bot: SECRETS_KEY is not set",
        ),
        (
            cli(
                tmp_path,
                db_url,
                "municipality",
                "secret",
                "set",
                "ak-chiy",
                "BALLOT_KEY",
                "--from-env",
                "T",
                T=TOKEN,
            ),
            "civic-bot: 'BALLOT_KEY' is not a municipality setting; one of: TELEGRAM_BOT_TOKEN",
        ),
        (
            cli(
                tmp_path,
                db_url,
                "municipality",
                "secret",
                "set",
                "ak-chiy",
                "TELEGRAM_BOT_TOKEN",
                "--from-env",
                "UNSET_VARIABLE",
            ),
            "civic-bot: the environment variable UNSET_VARIABLE is not set",
        ),
        (
            cli(
                tmp_path,
                db_url,
                "municipality",
                "secret",
                "set",
                "nowhere",
                "TELEGRAM_BOT_TOKEN",
                "--from-env",
                "T",
                T=TOKEN,
            ),
            "civic-bot: no municipality 'nowhere'",
        ),
        # a value on the command line (seen in ps) is not accepted
        (
            cli(
                tmp_path,
                db_url,
                "municipality",
                "secret",
                "set",
                "ak-chiy",
                "TELEGRAM_BOT_TOKEN",
                TOKEN,
            ),
            "unrecognized arguments",
        ),
        (
            run_cli(
                "municipality",
                "list",
                cwd=tmp_path,
                env={"DATABASE_URL": db_url, "SECRETS_KEY": "short"},
            ),
            "SECRETS_KEY",
        ),
    ]
    for result, message in cases:
        assert result.returncode != 0
        assert message in result.stderr, result.stderr
    assert dump_database(db_url) == before


async def test_a_new_secrets_key_reseals_every_secret_all_or_none(
    tmp_path: Path, db_url: str
) -> None:
    for slug in ("ak-chiy", "kara-suu"):
        create(tmp_path, db_url, slug)
        result = cli(
            tmp_path, db_url, "municipality", "secret", "set", slug, "TELEGRAM_BOT_TOKEN",
            "--from-env", "T", T=f"{TOKEN}-{slug}",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    before = dump_database(db_url)
    wrong = cli(
        tmp_path, db_url, "municipality", "secret", "rekey", "--old-key-from-env", "OLD",
        SECRETS_KEY=OTHER_KEY, OLD="w" * 40,
    )  # fmt: skip
    assert wrong.returncode == 2
    assert wrong.stderr == (
        "civic-bot: a secret of municipality 1 does not open with the old key"
        " (was it made with another key?)\n"
    )
    assert dump_database(db_url) == before
    done = cli(
        tmp_path, db_url, "municipality", "secret", "rekey", "--old-key-from-env", "OLD",
        SECRETS_KEY=OTHER_KEY, OLD=KEY,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2 secret(s) sealed under the new SECRETS_KEY\n"
    for slug in ("ak-chiy", "kara-suu"):
        assert await opened(db_url, slug, key=OTHER_KEY) == {
            "telegram_bot_token": f"{TOKEN}-{slug}"
        }
        with pytest.raises(ServiceError):
            await opened(db_url, slug, key=KEY)
    assert TOKEN not in "\n".join(dump_database(db_url))
