"""Settings of the SMS gateways: safe defaults, one-line errors naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, SettingsError, load_settings

GATEWAY_FIELDS = [
    name
    for name in Settings.model_fields
    if name.startswith(("sms_gateway", "sms_number", "smpp_", "android_gateway", "http_gateway"))
]
PHONES = "http://sms:p%40ss@192.168.1.10:8080,https://sms:secret-two@api.sms-gate.app/3rdparty/v1"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in GATEWAY_FIELDS:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_twilio_and_safe_limits() -> None:
    settings = load_settings()
    assert settings.sms_gateway == "twilio"
    assert settings.sms_number_parts is False
    assert (settings.smpp_port, settings.smpp_window, settings.smpp_tps) == (2775, 10, 10.0)
    assert settings.smpp_enquire_link_interval == 30.0
    assert settings.android_gateway_per_minute == "20"
    assert (settings.http_gateway_method, settings.http_gateway_content_type) == (
        "POST",
        "application/json",
    )


def test_a_complete_gateway_configuration_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMS_GATEWAY", "android")
    monkeypatch.setenv("ANDROID_GATEWAY_PHONES", PHONES)
    monkeypatch.setenv("ANDROID_GATEWAY_PER_MINUTE", "20,30")
    monkeypatch.setenv("ANDROID_GATEWAY_SIGNING_KEYS", "k1,k2")
    monkeypatch.setenv("SMS_NUMBER_PARTS", "true")
    settings = load_settings()
    assert settings.sms_gateway == "android" and settings.sms_number_parts


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SMS_GATEWAY": "smpp"}, "SMS_GATEWAY=smpp needs SMPP_HOST"),
        (
            {"SMS_GATEWAY": "smpp", "SMPP_HOST": "smsc.example.kg", "SMPP_SYSTEM_ID": "civic",
             "SMPP_PASSWORD": "pw"},
            "SMS_GATEWAY=smpp needs SMPP_SOURCE_ADDR",
        ),
        ({"SMS_GATEWAY": "android"}, "SMS_GATEWAY=android needs ANDROID_GATEWAY_PHONES"),
        (
            {"SMS_GATEWAY": "android", "ANDROID_GATEWAY_PHONES": PHONES},
            "SMS_GATEWAY=android needs ANDROID_GATEWAY_SIGNING_KEYS",
        ),
        (
            {"SMS_GATEWAY": "android", "ANDROID_GATEWAY_PHONES": "http://192.168.1.10:8080",
             "ANDROID_GATEWAY_SIGNING_KEYS": "k"},
            "ANDROID_GATEWAY_PHONES: phone 1 has no LOGIN:PASSWORD@ in its URL",
        ),
        (
            {"SMS_GATEWAY": "android", "ANDROID_GATEWAY_PHONES": PHONES,
             "ANDROID_GATEWAY_PER_MINUTE": "20,0", "ANDROID_GATEWAY_SIGNING_KEYS": "k"},
            "ANDROID_GATEWAY_PHONES: phone 2: the per-minute limit must be 1 to 600",
        ),
        ({"SMS_GATEWAY": "http"}, "SMS_GATEWAY=http needs HTTP_GATEWAY_SEND_URL"),
        (
            {"SMS_GATEWAY": "http", "HTTP_GATEWAY_SEND_URL": "https://sms.example.kg/send",
             "HTTP_GATEWAY_INBOUND_SECRET": "s", "HTTP_GATEWAY_BODY": "{{to}} {{password}}"},
            "HTTP_GATEWAY_BODY: unknown template variable 'password'",
        ),
        (
            {"SMS_GATEWAY": "http", "HTTP_GATEWAY_SEND_URL": "https://sms.example.kg/send",
             "HTTP_GATEWAY_INBOUND_SECRET": "s", "HTTP_GATEWAY_METHOD": "DELETE"},
            "HTTP_GATEWAY_METHOD: must be GET, POST or PUT",
        ),
        ({"SMS_GATEWAY": "kannel"}, "SMS_GATEWAY: Input should be 'twilio', 'android', 'smpp'"),
        ({"SMPP_TPS": "0"}, "SMPP_TPS: must be a positive number"),
        ({"SMPP_WINDOW": "0"}, "SMPP_WINDOW: must be a whole number from 1 to 65535"),
    ],
)  # fmt: skip
def test_a_wrong_gateway_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    text = str(error.value)
    assert message in text
    assert "\n" not in text


def test_passwords_in_phone_urls_are_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMS_GATEWAY", "android")
    monkeypatch.setenv("ANDROID_GATEWAY_PHONES", "ftp://sms:hunter2@phone")
    monkeypatch.setenv("ANDROID_GATEWAY_SIGNING_KEYS", "k")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "hunter2" not in str(error.value)
    assert "phone 1 is not an http(s) URL" in str(error.value)


def test_env_example_documents_every_gateway_variable() -> None:
    example = (Path(__file__).parent.parent / ".env.example").read_text()
    missing = [name.upper() for name in GATEWAY_FIELDS if f"{name.upper()}=" not in example]
    assert missing == []
