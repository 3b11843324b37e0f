"""One typed settings object, read once from the environment and ``.env``.

Every variable of the deployment contract is a field here and is documented in
``.env.example``. A wrong value fails at start-up with a one-line reason
(:func:`load_settings` raises :class:`SettingsError`).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.languages import Language
from bot.core.services.attendance import CheckInWindow

DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"
_SECRET_FIELDS = {
    "telegram_bot_token",
    "telegram_webhook_secret",
    "twilio_auth_token",
    "smpp_password",
    "android_gateway_phones",
    "android_gateway_signing_keys",
    "http_gateway_auth_header",
    "http_gateway_inbound_secret",
    "ballot_key",
    "secrets_key",
}
#: the shortest BALLOT_KEY accepted (characters; `secrets.token_hex(32)` gives 64)
BALLOT_KEY_MIN = 32


class SettingsError(Exception):
    """A configuration value is missing or wrong; the message is one line."""


class Settings(BaseSettings):
    """Deployment configuration (see ``.env.example`` for each variable)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = "sqlite:///civic-bot.db"

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_url: str | None = None

    public_base_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 8080

    timezone: str = "Asia/Bishkek"
    default_language: Language = "ky"

    #: the municipality this deployment's bot and SMS number serve (slug); may be left
    #: unset while the database holds only one
    municipality: str | None = None
    #: outbox rate limits, messages per second
    telegram_rate: float = 30.0
    telegram_chat_rate: float = 1.0
    twilio_rate: float = 10.0
    #: Telegram forms and ballot drafts untouched for this many days are deleted
    telegram_draft_days: int = 30
    #: hearing check-in opens this many hours before the start and closes this many
    #: after it, never outside the hearing's local day; later: a correction by staff
    checkin_opens_before_hours: float = 2.0
    checkin_closes_after_hours: float = 6.0
    #: the CPU civic-bot run keeps its threads on: auto (the default: one, by process id),
    #: off (the system schedules them), or a CPU number (bot/runtime/cpu.py, bench/README.md)
    cpu_pin: str = "auto"
    #: the secret ballot's key (storage/sealing.py): without it no poll opens and no vote
    #: is cast; never stored in the database
    ballot_key: SecretStr | None = None
    #: the key that seals each municipality's provider secrets in the database (bot
    #: tokens, SMS gateway credentials: ``civic-bot municipality secret``); never stored
    secrets_key: SecretStr | None = None
    #: a breakdown of results (village, gender, age group) shows no figures for a group of
    #: fewer voters than this
    small_group_min: int = 5
    #: the staff console (/staff/): sign-in codes valid this long, this many tries each;
    #: codes per phone and per client address per hour; a session ends after this idle time
    staff_code_minutes: int = 10
    staff_code_attempts: int = 5
    staff_codes_per_phone_hour: int = 3
    staff_codes_per_address_hour: int = 10
    staff_session_idle_minutes: int = 30

    #: which SMS gateway sends and receives (bot/channels; wired by bot/app.py)
    sms_gateway: Literal["twilio", "android", "smpp", "http"] = "twilio"
    #: send long SMS as numbered messages ("1/3 ...") for operators that do not join parts
    sms_number_parts: bool = False
    #: the chosen gateway's codes for "the recipient refuses our SMS" (a stop list), comma-
    #: separated: SMPP submit_sm_resp statuses (0x401) and receipt err: codes, the Android
    #: app's sms:failed reasons, an HTTP gateway's refusal status or a word of its answer
    sms_optout_codes: str = ""
    smpp_host: str | None = None
    smpp_port: int = 2775
    smpp_system_id: str | None = None
    smpp_password: SecretStr | None = None
    smpp_system_type: str = ""
    smpp_source_addr: str | None = None
    smpp_window: int = 10
    smpp_tps: float = 10.0
    smpp_enquire_link_interval: float = 30.0
    android_gateway_phones: SecretStr | None = None
    android_gateway_per_minute: str = "20"
    android_gateway_signing_keys: SecretStr | None = None
    http_gateway_send_url: str | None = None
    http_gateway_method: str = "POST"
    http_gateway_body: str = ""
    http_gateway_content_type: str = "application/json"
    http_gateway_auth_header: SecretStr | None = None
    http_gateway_from: str = ""
    http_gateway_id_path: str = ""
    http_gateway_inbound_secret: SecretStr | None = None
    #: messages per second the HTTP gateway takes
    http_gateway_rate: float = 10.0

    @field_validator("http_port")
    @classmethod
    def _port_in_range(cls, value: int) -> int:
        if not 0 <= value <= 65535:
            raise ValueError("must be a TCP port number between 0 and 65535")
        return value

    @field_validator("telegram_rate", "telegram_chat_rate", "twilio_rate", "http_gateway_rate")
    @classmethod
    def _positive_rate(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be a positive number of messages per second")
        return value

    @field_validator("checkin_opens_before_hours", "checkin_closes_after_hours")
    @classmethod
    def _hours_in_a_day(cls, value: float) -> float:
        if not 0 <= value <= 24:
            raise ValueError("must be a number of hours between 0 and 24")
        return value

    @field_validator("telegram_draft_days")
    @classmethod
    def _positive_days(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be a whole number of days, at least 1")
        return value

    @field_validator("ballot_key", "secrets_key")
    @classmethod
    def _long_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < BALLOT_KEY_MIN:
            raise ValueError(
                f"must be at least {BALLOT_KEY_MIN} characters (make one with: python -c"
                " 'import secrets; print(secrets.token_hex(32))')"
            )
        return value

    @field_validator("small_group_min")
    @classmethod
    def _positive_group(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be a whole number of voters, at least 1")
        return value

    def checkin_window(self) -> CheckInWindow:
        """When check-in at a hearing's door is open (``CHECKIN_*``)."""
        return CheckInWindow(
            self.tz,
            timedelta(hours=self.checkin_opens_before_hours),
            timedelta(hours=self.checkin_closes_after_hours),
        )

    @property
    def ballot_secret(self) -> str | None:
        """``BALLOT_KEY`` in clear, or None when it is not set."""
        return None if self.ballot_key is None else self.ballot_key.get_secret_value().strip()

    @property
    def secrets_secret(self) -> str | None:
        """``SECRETS_KEY`` in clear, or None when it is not set."""
        return None if self.secrets_key is None else self.secrets_key.get_secret_value().strip()

    @field_validator(
        "staff_code_minutes",
        "staff_code_attempts",
        "staff_codes_per_phone_hour",
        "staff_codes_per_address_hour",
        "staff_session_idle_minutes",
    )
    @classmethod
    def _positive_count(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be a whole number, at least 1")
        return value

    @field_validator("cpu_pin")
    @classmethod
    def _cpu_choice(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("auto", "off") and not value.isdigit():
            raise ValueError("must be auto, off or a CPU number")
        allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
        if value.isdigit() and allowed and int(value) not in allowed:
            raise ValueError(f"must be one of the CPUs this process may run on: {sorted(allowed)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError(
                "must be sqlite:///PATH or postgresql://USER:PASSWORD@HOST[:PORT]/DATABASE"
            )
        return value

    @field_validator(
        "telegram_bot_token",
        "telegram_webhook_url",
        "telegram_webhook_secret",
        "twilio_account_sid",
        "twilio_auth_token",
        "twilio_from_number",
        "twilio_messaging_service_sid",
        "twilio_api_url",
        "public_base_url",
        "municipality",
        "ballot_key",
        "secrets_key",
        "smpp_host",
        "smpp_system_id",
        "smpp_password",
        "smpp_source_addr",
        "android_gateway_phones",
        "android_gateway_signing_keys",
        "http_gateway_send_url",
        "http_gateway_auth_header",
        "http_gateway_inbound_secret",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """``FOO=`` in a .env file means "not set", not "set to the empty string"."""
        return None if value == "" else value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.telegram_webhook_url and not self.telegram_webhook_secret:
            raise ValueError("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET as well")
        return self

    @field_validator("smpp_window", "smpp_port")
    @classmethod
    def _positive_whole(cls, value: int) -> int:
        if not 1 <= value <= 65535:
            raise ValueError("must be a whole number from 1 to 65535")
        return value

    @field_validator("smpp_tps", "smpp_enquire_link_interval")
    @classmethod
    def _positive_number(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be a positive number")
        return value

    @model_validator(mode="after")
    def _gateway_complete(self) -> Settings:
        """The chosen SMS gateway has what it needs (one line naming what is missing)."""
        required = {
            "smpp": ("smpp_host", "smpp_system_id", "smpp_password", "smpp_source_addr"),
            "android": ("android_gateway_phones", "android_gateway_signing_keys"),
            "http": ("http_gateway_send_url", "http_gateway_inbound_secret"),
        }.get(self.sms_gateway, ())
        for name in required:
            if not getattr(self, name):
                raise ValueError(f"SMS_GATEWAY={self.sms_gateway} needs {name.upper()}")
        # a gateway's package is loaded only where it was chosen
        if self.sms_gateway == "android" and self.android_gateway_phones:
            from bot.channels.android import parse_phones

            try:
                parse_phones(
                    self.android_gateway_phones.get_secret_value(), self.android_gateway_per_minute
                )
            except ValueError as exc:
                raise ValueError(f"ANDROID_GATEWAY_PHONES: {exc}") from None
        if self.sms_gateway == "http":
            from bot.channels.http_gateway import HttpGatewayConfig, InvalidSetting

            try:
                HttpGatewayConfig(
                    send_url=self.http_gateway_send_url or "",
                    body_template=self.http_gateway_body,
                    method=self.http_gateway_method,
                    content_type=self.http_gateway_content_type,
                    auth_header=self.plain(self.http_gateway_auth_header),
                )
            except InvalidSetting as exc:
                variable = "HTTP_GATEWAY_BODY" if exc.field == "body_template" else (
                    f"HTTP_GATEWAY_{exc.field.upper()}")  # fmt: skip
                raise ValueError(f"{variable}: {exc.reason}") from None
        return self

    @staticmethod
    def plain(value: SecretStr | None) -> str:
        """A secret setting in clear ("" when unset), for the code that uses it."""
        return value.get_secret_value() if value else ""

    @property
    def optout_codes(self) -> frozenset[str]:
        """``SMS_OPTOUT_CODES`` as a set, in lower case."""
        return frozenset(c.strip().lower() for c in self.sms_optout_codes.split(",") if c.strip())

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(**overrides: object) -> Settings:
    """Read the settings; turn pydantic's report into one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]).upper()
        message = first["msg"].removeprefix("Value error, ")
        given = first.get("input")
        prefix = f"{where}: " if where else ""
        shown = where and isinstance(given, str | int) and where.lower() not in _SECRET_FIELDS
        suffix = f" (got {given!r})" if shown else ""
        raise SettingsError(f"configuration error: {prefix}{message}{suffix}") from None
