"""Names staff enter in Kyrgyz, Russian and English: each reader sees their language (else
the municipality's default, else any), by SMS in pages of whole names within two UCS-2
segments; CSV imports and the command line take the three versions."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.languages import in_language
from bot.core.rendering.sms import sms_size
from bot.core.rendering.templates import Paged, Renderer
from bot.core.services import budget_import, demo_data, demo_groups, door, hearings, ratings
from bot.core.services.attendance import CheckInWindow
from bot.core.services.csv_input import ImportRejected
from bot.core.services.polls import OptionSpec, create_poll
from handlers.text import handle_text
from storage.models import Municipality, Texts
from storage.repos import Repos
from tests.conftest import FakeClock, query_database, run_cli
from tests.samples import ACT, ROADS

RU_PHONE = "+996700000003"  # a demo resident, switched to Russian below
MORE = re.compile(r"(?:Дагы|Ещё|More): (.+)$")
#: the demo's English names that must not show in a Kyrgyz or Russian reply
ENGLISH = (
    "Ak-Chiy", "Kachybek", "Sovetskoye", "Internal roads", "Local budget", "Residents",
    "Roads", "Excavator", "Investment", "Transformers", "School hall", "Kindergarten",
)  # fmt: skip


@pytest.fixture
def say(repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock):
    async def say(text: str, phone: str = demo_data.RESIDENT_PHONE) -> str:
        handled = await handle_text(
            repos, renderer, municipality=demo, phone=phone, text=text, channel="sms",
            now=clock.now(),
        )  # fmt: skip
        return handled.text

    return say


async def every_page(say, command: str, phone: str) -> list[str]:
    """The reply to ``command`` and to each "more" command it names, to the last page."""
    pages = [await say(command, phone)]
    while (more := MORE.search(pages[-1])) and len(pages) < 20:
        pages.append(await say(more[1], phone))
    return pages


def test_a_name_is_read_in_the_readers_language_else_its_base_text() -> None:
    village = Texts("Ak-Chiy", {"ky": "Ак-Чий", "ru": "Ак-Чий"})
    assert [in_language(village, lang) for lang in ("ky", "ru", "en")] == [
        "Ак-Чий", "Ак-Чий", "Ak-Chiy",
    ]  # fmt: skip
    assert str(village) == "Ak-Chiy" and village == "Ak-Chiy"  # code reading .name as text
    assert in_language("plain", "ru") == "plain"
    assert Texts(" a ", {"ru": " б "}).strip().versions == {"ru": "б"}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("lang", ["ky", "ru"])
async def test_every_sms_reply_of_the_demo_has_whole_names_in_two_segments(
    say, repos: Repos, demo: Municipality, lang: str
) -> None:
    phone = demo_data.RESIDENT_PHONE if lang == "ky" else RU_PHONE
    await say(f"LANG {lang.upper()}", phone)
    replies: dict[str, list[str]] = {}
    commands = ["HELP", "ME", "PROBLEMS", "BUDGET", "HEARINGS", "POLLS", "VOTED 1", "R", "JOIN 1",
                "PROJECT 9", "ACTS 9", "NONSENSE", "LANG XX"]  # fmt: skip
    commands += [f"PROJECT {n}" for n in range(1, 6)] + [f"ACTS {n}" for n in range(1, 6)]
    for command in commands:
        replies[command] = await every_page(say, command, phone)
    for command, pages in replies.items():
        for text in pages:
            assert sms_size(text).units <= 134, (command, text)
            assert "…" not in text, (command, text)
            assert not [word for word in ENGLISH if word in text], (command, text)

    # every problem, every project's funding source, every act: whole, on some page
    problems = " ".join(replies["PROBLEMS"])
    assert len(replies["PROBLEMS"]) > 1
    for problem in await repos.problems.by_status(demo.id, "approved"):
        assert in_language(problem.body, lang) in problems
    for project in await repos.budget.projects(demo.id):
        pages = replies[f"PROJECT {project.id}"]
        assert all(in_language(project.name, lang) in page for page in pages)
        for funding in await repos.budget.funding(project.id):
            assert in_language(funding.source_name, lang) in " ".join(pages)
    excavator = await repos.budget.project_by_code(demo.id, "EXCAVATOR")
    assert excavator is not None
    acts = " ".join(replies[f"ACTS {excavator.id}"])
    for _, _, body in demo_groups.EXCAVATOR_ACTS:
        assert body in acts
    village = "Ак-Чий"
    assert village in replies["ME"][0] and village in replies["BUDGET"][0]


#: long names in the reader's language: a poll's options, the services of a rating round
LONG_NAMES = {
    "ky": [
        "Ички жолдорду асфальттоо жана оңдоо",
        "Мектептин чатырын алмаштыруу",
        "Ичүүчү суу түтүгүн узартуу",
        "Бала бакчага жаңы оюн аянтчасы",
        "Көчө жарыгын орнотуу жана оңдоо",
        "Маданият үйүнүн залын жаңылоо",
        "Спорт аянтчасын куруу",
        "Таштанды чыгаруучу машина сатып алуу",
    ],
    "ru": [
        "Асфальтирование и ремонт внутренних дорог",
        "Замена крыши школы",
        "Продление водопровода питьевой воды",
        "Новая игровая площадка детсада",
        "Установка и ремонт уличного освещения",
        "Обновление зала дома культуры",
        "Строительство спортивной площадки",
        "Покупка мусоровоза для села",
    ],
}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("lang", ["ky", "ru"])
async def test_every_sms_reply_of_the_demo_has_whole_names_in_polls_and_ratings(
    say, repos: Repos, demo: Municipality, clock: FakeClock, lang: str
) -> None:
    phone = demo_data.RESIDENT_PHONE if lang == "ky" else RU_PHONE
    await say(f"LANG {lang.upper()}", phone)
    names = LONG_NAMES[lang]
    poll = await create_poll(
        repos, demo, title=names[0][:20], ballot_type="approval",
        options=[OptionSpec(name) for name in names], max_choices=len(names),
        opens_at=clock.now() - timedelta(hours=1), closes_at=clock.now() + timedelta(days=7),
        now=clock.now(),
    )  # fmt: skip
    await ratings.open_round(repos, demo, "2026", names, now=clock.now())
    every = " ".join(str(n) for n in range(1, len(names) + 1))
    vote = {"ky": "Д", "ru": "Г"}[lang]

    replies = {
        "POLLS": await every_page(say, "POLLS", phone),
        "VOTE": await every_page(say, f"{vote}{poll.id} {every}", phone),
        "VOTED": await every_page(say, f"VOTED {poll.id}", phone),
        "R": await every_page(say, "R", phone),
    }
    keyword = {"ky": ("ДОБУШТАР", "ДОБУШУМ", "БАА"), "ru": ("ОПРОСЫ", "ЧЕК", "ОЦЕНКА")}[lang]
    assert replies["POLLS"][0].endswith(f"{keyword[0]} {poll.id} 2")
    assert replies["VOTED"][0].endswith(f"{keyword[1]} {poll.id} 2")
    assert replies["R"][0].endswith(f"{keyword[2]} 2")
    for command, pages in replies.items():
        assert len(pages) > 1, (command, pages)
        for text in pages:
            assert sms_size(text).units <= 134, (command, text)
            assert "…" not in text, (command, text)
        shown = " ".join(pages)
        for name in names:  # every name whole, on some page
            assert name in shown, (command, name, pages)
    # the vote's example comes with the last page of the options
    assert f"{vote}{poll.id} " in replies["POLLS"][-1]


def test_a_shortened_name_before_a_full_stop_has_no_second_stop(renderer: Renderer) -> None:
    act = replace(ACT, body="Экскаватор " + "абдан узун текст " * 20 + "аягы.")
    text = renderer.render("acts", "ky", "sms", project=ROADS, acts=Paged([act, act]))
    assert text.endswith(f"Дагы: АКТТАР {ROADS.id} 2")  # one act a page, shortened
    assert "…" in text and "…." not in text and ".." not in text


@pytest.mark.sqlite_only
async def test_a_page_past_the_last_shows_the_last(say) -> None:
    pages = await every_page(say, "PROBLEMS", demo_data.RESIDENT_PHONE)
    assert await say("PROBLEMS 99") == pages[-1]
    assert await say("PROBLEMS x") == pages[0]
    assert pages[0].endswith("Дагы: КӨЙГӨЙЛӨР 2")


async def test_the_demo_has_the_seeds_groups_acts_and_rating(
    repos: Repos, demo: Municipality
) -> None:
    groups = await repos.problems.groups(demo.id)
    assert [(g.name.versions["ky"], g.name.versions["en"], g.problem_ids) for g in groups] == [
        ("Келечек", "Kelechek", (1, 2)), ("Умут", "Umut", (3, 4, 5)), ("Айкын", "Aikyn", (6,)),
    ]  # fmt: skip
    excavator = await repos.budget.project_by_code(demo.id, "EXCAVATOR")
    assert excavator is not None
    acts = await repos.acts.for_project(excavator.id)
    assert sorted(a.kind for a in acts) == ["handover", "purchase", "tender", "use"]
    results = await ratings.results(repos, demo)
    [(name, services)] = results.rounds.items()
    assert name == "1. Service evaluation 2015"
    counts = [s[""].count for s in services.values()]
    totals = sum(s[""].mean * s[""].count for s in services.values())
    assert counts == [100] * 4 and round(totals / sum(counts), 2) == 3.6
    raters = await repos.db.fetchval("SELECT COUNT(DISTINCT resident_id) FROM ratings")
    villages = await repos.db.fetchval("SELECT COUNT(DISTINCT village_id) FROM ratings")
    assert (raters, villages) == (100, 3)
    # created once: a second ensure changes nothing
    assert not await demo_groups.ensure_demo_groups(repos, demo)


async def test_a_budget_csv_in_three_languages(
    say, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    """No plain name: the base is the version in the municipality's default language (ky),
    what an English reader gets when no English is given; a village in any spelling."""
    csv_text = (
        "kind,year,code,name_ky,name_ru,name_en,village,amount,source_type,status\n"
        "revenue,2026,,Салыктар,Налоги,Taxes,,100000,,\n"
        "spending,2026,,Суу,Вода,,Качыбек,100000,,\n"
        "project,2026,WELL,Качыбектеги кудук,Колодец в Качыбеке,,Kachybek,100000,,planned\n"
        "funding,2026,WELL,Жергиликтүү бюджет,,,,100000,local_budget,\n"
    )
    await budget_import.import_budget(repos, demo, csv_text.encode(), now=clock.now())
    well = await repos.budget.project_by_code(demo.id, "WELL")
    assert well is not None and well.name == "Качыбектеги кудук"
    await say("LANG RU", RU_PHONE)
    assert (await say(f"PROJECT {well.id}", RU_PHONE)).startswith(
        f"№{well.id} Колодец в Качыбеке: 100\xa0000 сом, запланирован. Жергиликтүү бюджет"
    )
    await say("LANG EN", RU_PHONE)
    assert (await say(f"PROJECT {well.id}", RU_PHONE)).startswith(
        f"No. {well.id} Качыбектеги кудук: 100,000 som, planned."
    )
    with pytest.raises(ImportRejected) as refused:
        await budget_import.import_budget(
            repos, demo, b"kind,year,name_ru,amount\nrevenue,2026,,5\n", now=clock.now()
        )
    assert [str(e) for e in refused.value.errors] == [
        "line 2: missing value in column 'name' (or name_ky, name_ru, name_en)"
    ]


async def test_a_walk_in_from_a_village_named_in_the_staff_members_language(
    repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    """The console's list shows "Ак-Чий" to Kyrgyz staff: that is the village Ak-Chiy."""
    created = await hearings.create_hearing(
        repos, demo, kind="formation", starts_at=clock.now() + timedelta(hours=1),
        place="Клуб", now=clock.now(),
    )  # fmt: skip
    await repos.hearings.set_status(created.id, "published")
    hearing = await hearings.get_hearing(repos, demo, created.id)
    window = CheckInWindow(ZoneInfo("Asia/Bishkek"), timedelta(hours=2), timedelta(hours=6))
    await door.walk_in(
        repos, demo, hearing, name="", gender="f", village="Ак-Чий", deputy=False,
        now=clock.now(), window=window,
    )  # fmt: skip
    [village] = [v for v in await repos.municipalities.villages(demo.id) if v.name == "Ak-Chiy"]
    assert (
        await repos.db.fetchval(
            "SELECT village_id FROM attendance WHERE hearing_id = ?", (hearing.id,)
        )
        == village.id
    )


def test_the_command_line_takes_names_in_three_languages(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/town.db"}
    created = run_cli(
        "municipality", "create", "ak-suu", "--name", "Ak-Suu", "--language", "ru",
        "--village-ky", "Ак-Суу", "--village-ru", "Ак-Суу", "--village-en", "Ak-Suu",
        "--village-ky", "Жыргалаң", "--village-ru", "Джергалан", "--village-en", "Jyrgalang",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert created.stdout == "created 'ak-suu' with 2 village(s)\n"
    # the base name is the municipality's default language (ru)
    assert run_cli("municipality", "list", cwd=tmp_path, env=env).stdout.startswith(
        "ak-suu\tAk-Suu\tАк-Суу, Джергалан\t"
    )
    hearing = run_cli(
        "hearing", "create", "--kind", "formation", "--at", "2030-01-10 10:00",
        "--place-ky", "Айылдык клуб", "--place-ru", "Сельский клуб", "--agenda-en", "Budget",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert hearing.returncode == 0, hearing.stderr
    assert hearing.stdout.endswith(", Сельский клуб\n")  # the base: the default language's
    assert query_database(
        env["DATABASE_URL"], "SELECT place, place_ky, place_en, agenda, agenda_en FROM hearings"
    ) == [("Сельский клуб", "Айылдык клуб", None, "Budget", "Budget")]
    # a version alone changes that language's and keeps the others
    columns = "SELECT place, place_ky, place_ru, place_en, agenda_en FROM hearings"
    for flags in (("--place-en", "Village club"), ("--place-ru", "Новый клуб")):
        updated = run_cli("hearing", "update", "1", *flags, cwd=tmp_path, env=env)
        assert updated.returncode == 0, updated.stderr
    assert query_database(env["DATABASE_URL"], columns) == [
        ("Новый клуб", "Айылдык клуб", "Новый клуб", "Village club", "Budget")
    ]
    # a plain place is a new place: the old one's names go with it
    updated = run_cli("hearing", "update", "1", "--place", "Мектеп", cwd=tmp_path, env=env)
    assert updated.returncode == 0, updated.stderr
    assert query_database(env["DATABASE_URL"], columns) == [("Мектеп", None, None, None, "Budget")]
    uneven = run_cli(
        "municipality", "create", "kok-jar", "--name", "Kok-Jar", "--village", "A",
        "--village", "B", "--village-ky", "Б",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert uneven.returncode == 2
    assert "give as many of each of --village" in uneven.stderr


async def test_telegram_buttons_name_projects_in_the_readers_language(
    repos: Repos, demo: Municipality
) -> None:
    from bot.core.services import budget_summary
    from handlers.telegram.budget import _project_buttons

    resident = await repos.residents.by_phone(demo.id, demo_data.RESIDENT_PHONE)
    assert resident is not None
    summary = await budget_summary.household_summary(repos, demo, resident)
    markup = _project_buttons(summary, "ru")
    assert markup is not None
    assert markup.inline_keyboard[0][0].text == "№1 Дороги: 4,0 км гравия и 7 мостов"
