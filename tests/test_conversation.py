"""The conversation core over the demo register: replies, and what changes (or not)."""

from __future__ import annotations

import logging
import re

import pytest

from bot.core.rendering.sms import sms_size
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data
from handlers import hearing_commands
from handlers.commands import KEYWORDS, parse
from handlers.text import HANDLERS, ROLE_COMMANDS, handle_text
from storage.models import Municipality
from storage.repos import Repos
from tests.conftest import FakeClock, table_snapshot

RESIDENT = demo_data.RESIDENT_PHONE


@pytest.fixture
def say(repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock):
    async def say(text: str, phone: str = RESIDENT, channel: str = "sms") -> str:
        handled = await handle_text(
            repos,
            renderer,
            municipality=demo,
            phone=phone,
            text=text,
            channel=channel,
            now=clock.now(),
        )
        return handled.text

    return say


async def help_pages(say, command: str, phone: str = demo_data.RESIDENT_PHONE) -> list[str]:
    """HELP, HELP 2, ... as far as the replies say there is more."""
    pages = [await say(command, phone=phone)]
    while pages[-1].endswith(f" {len(pages) + 1}"):
        pages.append(await say(f"{command} {len(pages) + 1}", phone=phone))
    return pages


@pytest.mark.parametrize(
    ("phone", "shown", "not_shown"),
    [
        (demo_data.RESIDENT_PHONE, set(), {"broadcast", "act"}),
        (demo_data.ADMIN_PHONE, {"broadcast"}, {"act"}),
        (demo_data.MONITOR_PHONES[3], {"act"}, {"broadcast"}),
    ],
)
async def test_help_lists_every_command_the_person_may_use(
    say, phone: str, shown: set[str], not_shown: set[str]
) -> None:
    everyone = set(HANDLERS) - {"help"} - hearing_commands.NOT_IN_HELP - set(ROLE_COMMANDS)
    assert {"join", "project", "acts"} <= everyone
    for language, command in (("ky", "ЖАРДАМ"), ("ru", "ПОМОЩЬ"), ("en", "HELP")):
        await say(f"LANG {language}", phone=phone)
        pages = await help_pages(say, command, phone)
        assert len(pages) == 2
        for page in pages:
            assert sms_size(page).segments <= 2, page
        entries = [entry for page in pages for entry in page.split(": ", 1)[1].split(", ")]
        listed = [entry.split()[0].rstrip(".") for entry in entries]
        expected = everyone | shown
        assert sorted(listed) == sorted(KEYWORDS[name][language][0] for name in expected)
        assert not {KEYWORDS[name][language][0] for name in not_shown} & set(listed)
        for keyword in listed:
            assert parse(keyword).name in expected  # it works as shown
        html = await say(command, phone=phone, channel="telegram")
        # Telegram: all at once, as /commands (START by its word: /start is the menu)
        slashes = re.findall(r"<code>(/[a-z]+)", html)
        assert sorted(parse(slash).name for slash in slashes) == sorted(expected - {"start"})
        assert f"<code>{KEYWORDS['start'][language][0]}</code>" in html
        sms_only = {keyword for keyword in listed if keyword != KEYWORDS["start"][language][0]}
        assert not {k for k in sms_only if len(k) > 1} & set(html.split())


async def test_staff_see_staff_commands_in_help(say) -> None:
    reply = "".join(await help_pages(say, "HELP", demo_data.ADMIN_PHONE))
    assert "ЖАРЫЯ [текст]" in reply
    assert "АКТ 1" not in reply


async def test_broadcast_is_refused_to_residents_and_changes_nothing(say, repos: Repos) -> None:
    before = await table_snapshot(repos, "broadcasts", "outbox")
    reply = await say("BROADCAST Hearing tomorrow")
    assert reply == "Бул буйрук айыл өкмөтүнүн кызматкерлери үчүн гана."
    assert await table_snapshot(repos, "broadcasts", "outbox") == before


async def test_staff_broadcast_by_text_queues_one_message_per_opted_in_resident(
    say, repos: Repos, demo: Municipality
) -> None:
    await say("STOP")  # resident 1 opts out
    before = await table_snapshot(repos, "broadcasts", "outbox")
    reply = await say("РАССЫЛКА Слушания по бюджету в пятницу", phone=demo_data.ADMIN_PHONE)
    # first who it would reach, by channel; nothing goes before the YES
    assert reply.startswith("Жарыя 3\xa0727 кишиге: Telegram 0, SMS 3\xa0727.")
    assert "10 мүнөттүн ичинде ИЙЕ деп жооп бериңиз" in reply
    assert await table_snapshot(repos, "broadcasts", "outbox") == before
    reply = await say("ИЙЕ", phone=demo_data.ADMIN_PHONE)
    assert reply == "Жарыя №1 3\xa0727 кишиге жөнөтүлүүдө."
    assert await repos.db.fetchval("SELECT COUNT(*) FROM outbox WHERE broadcast_id = 1") == 3727
    resident = await repos.residents.by_phone(demo.id, RESIDENT)
    assert resident is not None
    assert (
        await repos.db.fetchval("SELECT COUNT(*) FROM outbox WHERE resident_id = ?", (resident.id,))
        == 0
    )
    # a second YES queues nothing more (it is an answer to no invitation)
    await say("ИЙЕ", phone=demo_data.ADMIN_PHONE)
    assert await repos.db.fetchval("SELECT COUNT(*) FROM broadcasts") == 1
    assert await say("BROADCAST", phone=demo_data.ADMIN_PHONE) == (
        "Жарыя: ЖАРЫЯ [текст] (1600 белгиге чейин)."
    )


@pytest.mark.parametrize(
    ("language", "command", "yes", "asks", "queued"),
    [
        ("ky", "ЖАРЫЯ", "ИЙЕ", "ИЙЕ деп жооп бериңиз", "Жарыя №1 "),
        ("ru", "РАССЫЛКА", "ДА", "ответьте ДА в течение 10 минут", "Рассылка №1: "),
        ("en", "BROADCAST", "YES", "Reply YES within 10 minutes", "Broadcast 1: "),
    ],
)
async def test_a_broadcast_by_sms_goes_only_on_a_yes_within_ten_minutes(
    say,
    repos: Repos,
    clock: FakeClock,
    language: str,
    command: str,
    yes: str,
    asks: str,
    queued: str,
) -> None:
    admin = demo_data.ADMIN_PHONE
    await say(f"LANG {language}", phone=admin)
    before = await table_snapshot(repos, "broadcasts", "outbox")
    # another reply than YES: nothing queued, and a YES after it confirms nothing
    for other in ("HELP", "what?"):  # a command, or a text the bot does not know
        assert asks in await say(f"{command} Water off", phone=admin)
        await say(other, phone=admin)
        await say(yes, phone=admin)
        assert await table_snapshot(repos, "broadcasts", "outbox") == before
    # a YES after ten minutes: too late, said so, nothing queued
    await say(f"{command} Water off", phone=admin)
    clock.advance(minutes=10, seconds=1)
    late = await say(yes, phone=admin)
    assert late.split()[0] in {"Жарыя", "Рассылка", "This"} and "№" not in late
    assert await table_snapshot(repos, "broadcasts", "outbox") == before
    # in time: queued once
    await say(f"{command} Water off", phone=admin)
    clock.advance(minutes=9)
    assert (await say(yes, phone=admin)).startswith(queued)
    assert await repos.db.fetchval("SELECT COUNT(*) FROM broadcasts") == 1


async def test_default_language_is_kyrgyz(say) -> None:
    assert (await say("HELP")).startswith("Буйруктар (1/2):")


async def test_lang_changes_the_language_of_every_later_reply(
    say, repos: Repos, demo: Municipality
) -> None:
    assert await say("LANG RU") == "Язык: русский. Команды: ПОМОЩЬ."
    resident = await repos.residents.by_phone(demo.id, RESIDENT)
    assert resident is not None and resident.language == "ru"
    assert (await say("nonsense")).startswith("Не понял сообщение.")
    assert await say("тил en") == "Language: English. Commands: HELP."


async def test_lang_without_a_known_language_explains_and_changes_nothing(
    say, repos: Repos
) -> None:
    before = await table_snapshot(repos)
    assert await say("LANG fr") == "Тилди тандаңыз: ТИЛ KY, ТИЛ RU же ТИЛ EN."
    assert await say("LANG") == "Тилди тандаңыз: ТИЛ KY, ТИЛ RU же ТИЛ EN."
    assert await table_snapshot(repos) == before


async def test_me_shows_name_village_and_household(say, repos: Repos, demo: Municipality) -> None:
    resident = await repos.residents.by_phone(demo.id, RESIDENT)
    assert resident is not None
    size = len([p for p in demo_data.generate()[1] if p.household == "AC-001"])
    await say("LANG EN")
    assert await say("ME") == (
        f"{resident.name}, Ak-Chiy village, household AC-001 ({size} people)."
    )
    telegram = await say("ME", channel="telegram")
    assert f"<b>{resident.name}</b>" in telegram
    assert "Phone: +996700000001" in telegram


async def test_stop_and_start_opt_out_and_back_in(say, repos: Repos, demo: Municipality) -> None:
    assert await say("СТОП") == "Кабарлар токтотулду. Кайра алуу үчүн: БАШТА."
    resident = await repos.residents.by_phone(demo.id, RESIDENT)
    assert resident is not None and resident.opted_out
    assert (await say("ME")).endswith("Кабарлар токтотулган.")
    assert await say("STOP") == "Кабарлар токтотулду. Кайра алуу үчүн: БАШТА."
    assert await say("start") == "Кабарлар кайра жөнөтүлөт. Токтотуу үчүн: ТОКТОТ."
    resident = await repos.residents.by_phone(demo.id, RESIDENT)
    assert resident is not None and not resident.opted_out


@pytest.mark.parametrize(
    ("text", "expected_ky"),
    [
        ("", "Билдирүү бош. Буйруктардын тизмеси: ЖАРДАМ."),
        ("x" * 5000, "Билдирүү өтө узун. Кыска буйрук жазыңыз, мисалы: ЖАРДАМ."),
        ("DROP TABLE residents;", "Түшүнгөн жокмун. Буйруктардын тизмеси: ЖАРДАМ."),
        ("😀😀😀", "Түшүнгөн жокмун. Буйруктардын тизмеси: ЖАРДАМ."),
    ],
)
async def test_bad_input_gets_a_polite_answer_and_changes_nothing(
    say, repos: Repos, text: str, expected_ky: str
) -> None:
    before = await table_snapshot(repos)
    assert await say(text) == expected_ky
    assert await table_snapshot(repos) == before


async def test_bad_input_is_answered_in_the_residents_language(say) -> None:
    await say("LANG RU")
    assert await say("") == "Пустое сообщение. Список команд: ПОМОЩЬ."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # answered in the language of the keyword they used
        ("МЕН", "Бул номер реестрде жок."),
        ("ТОКТОТ", "Бул номер реестрде жок."),
        ("СТОП", "Этого номера нет в реестре."),
        ("ПОМОЩЬ", "Этого номера нет в реестре."),
        ("LANG RU", "This number is not in the register."),
        ("HELP", "This number is not in the register."),
        ("?", "Бул номер реестрде жок."),  # no language: the municipality's default
    ],
)
async def test_unknown_numbers_learn_how_to_register_and_change_nothing(
    say, repos: Repos, text: str, expected: str
) -> None:
    before = await table_snapshot(repos)
    reply = await say(text, phone=demo_data.UNKNOWN_PHONE)
    assert reply.startswith(expected)
    assert "паспорт" in reply or "passport" in reply
    assert await table_snapshot(repos) == before


async def test_logs_carry_no_phone_name_or_text(
    say, repos: Repos, demo: Municipality, caplog
) -> None:
    caplog.set_level(logging.INFO)
    await say("ME")
    await say("secret words", phone=demo_data.UNKNOWN_PHONE)
    resident = await repos.residents.by_phone(demo.id, RESIDENT)
    assert resident is not None
    logged = caplog.text
    assert "command=me" in logged
    for private in (RESIDENT, demo_data.UNKNOWN_PHONE, resident.name, "secret words"):
        assert private not in logged
