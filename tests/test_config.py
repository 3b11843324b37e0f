"""Settings: defaults, .env, and one-line errors for wrong values."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, SettingsError, load_settings
from tests.conftest import run_cli

CONTRACT_VARIABLES = [
    "DATABASE_URL",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_URL",
    "TELEGRAM_WEBHOOK_URL",
    "TELEGRAM_WEBHOOK_SECRET",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_API_URL",
    "PUBLIC_BASE_URL",
    "HTTP_HOST",
    "HTTP_PORT",
    "TIMEZONE",
    "DEFAULT_LANGUAGE",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in CONTRACT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_match_the_contract() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///civic-bot.db"
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert settings.timezone == "Asia/Bishkek"
    assert settings.default_language == "ky"
    assert settings.telegram_bot_token is None
    assert settings.telegram_api_url == "https://api.telegram.org"


def test_dotenv_is_read_and_secrets_stay_hidden(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "TELEGRAM_BOT_TOKEN=123:abc\nHTTP_PORT=9000\nTWILIO_FROM_NUMBER=\n", encoding="utf-8"
    )
    settings = load_settings()
    assert settings.http_port == 9000
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(settings)
    assert settings.twilio_from_number is None  # empty means unset


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("HTTP_PORT", "abc", "HTTP_PORT: Input should be a valid integer"),
        ("HTTP_PORT", "70000", "HTTP_PORT: must be a TCP port number"),
        ("TIMEZONE", "Mars/Base", "TIMEZONE: unknown time zone 'Mars/Base'"),
        ("DEFAULT_LANGUAGE", "fr", "DEFAULT_LANGUAGE: Input should be 'ky', 'ru' or 'en'"),
        ("TELEGRAM_DRAFT_DAYS", "0", "TELEGRAM_DRAFT_DAYS: must be a whole number of days"),
        (
            "DATABASE_URL",
            "mysql://db/civic",
            "DATABASE_URL: must be sqlite:///PATH or postgresql://",
        ),
        (
            "TELEGRAM_WEBHOOK_URL",
            "https://x.example/telegram/webhook",
            "needs TELEGRAM_WEBHOOK_SECRET",
        ),
    ],
)
def test_wrong_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "url",
    ["sqlite:////var/lib/civic/civic.db", "postgresql://civic:pw@db:5432/civic", "postgres://db/c"],
)
def test_database_url_may_name_sqlite_or_postgresql(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    assert load_settings().database_url == url


def test_secret_values_are_not_echoed_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://x.example/hook")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "999:supersecret")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "supersecret" not in str(error.value)


def test_cli_reports_a_wrong_value_in_one_line(tmp_path: Path) -> None:
    result = run_cli("init", cwd=tmp_path, env={"HTTP_PORT": "abc"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("civic-bot: configuration error: HTTP_PORT")
    assert not (tmp_path / "civic-bot.db").exists()


def test_env_example_documents_every_contract_variable() -> None:
    example = (Path(__file__).resolve().parents[1] / ".env.example").read_text(encoding="utf-8")
    documented = {
        line.lstrip("# ").split("=", 1)[0] for line in example.splitlines() if "=" in line
    }
    assert set(CONTRACT_VARIABLES) <= documented
    assert set(CONTRACT_VARIABLES) <= {name.upper() for name in Settings.model_fields}
