"""The public pages (``/m/``) over HTTP, served as ``civic-bot run`` serves them
(tests/console_site.py) on the demo: figures against the database, the secret ballot,
nothing personal, the slow line (size, 304, a cache that follows the data), bad input."""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from html import unescape
from urllib.parse import quote

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict
from PIL import Image

from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_budget, hearings, projects, voting
from bot.core.services.ballot_text import parse_ballot_text
from bot.core.services.budget_import import import_budget
from bot.core.services.demo_hearings import SEED_HEARINGS, TZ
from bot.core.services.municipalities import create_municipality
from bot.core.services.polls import OptionSpec, create_poll
from bot.core.services.public_site import RECENT_CLOSED
from bot.webui.texts import texts
from tests.conftest import FakeClock
from tests.console_site import Site, console_site
from tests.public_data import ACT_TEXT, PublicData, adults_by_village, populate

EN = texts("en", "public")
KY = texts("ky", "public")
PAGES = ("", "budget", "projects", "hearings", "polls", "ratings", "data")
FILES = ("budget.csv", "projects.csv", "hearings.csv", "ratings.csv")
LIMIT = 50 * 1024


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer) as running:
        yield running


@pytest.fixture
async def data(site: Site) -> PublicData:
    return await populate(site.repos, site.municipality, now=site.clock.now())


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        yield session


async def fetch(
    http: aiohttp.ClientSession, site: Site, path: str, **headers: str
) -> tuple[int, CIMultiDict[str], str, int]:
    """Status, headers, the text, and the bytes transferred (gzip asked for)."""
    async with http.get(
        site.base_url + path, headers={"Accept-Encoding": "gzip", **headers},
        allow_redirects=False,
    ) as response:  # fmt: skip
        raw = await response.read()
        body = gzip.decompress(raw) if response.headers.get("Content-Encoding") == "gzip" else raw
        text = body.decode() if response.content_type.startswith("text/") else ""
        return response.status, response.headers.copy(), text, len(raw)


def page_url(page: str, lang: str = "en", /, **query: object) -> str:
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    return f"/m/ak-chiy/{page}?lang={lang}{extra}"


def cells(html: str) -> list[list[str]]:
    """Every table row as its cells' text."""
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        found = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        rows.append([unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in found])
    return rows


def number(text: str) -> int:
    return int(re.sub(r"\D", "", text))


async def test_every_page_answers_in_three_languages_under_50_kb(
    site: Site, data: PublicData, http: aiohttp.ClientSession
) -> None:
    status, _, listing, _ = await fetch(http, site, "/m/")
    assert status == 200 and 'href="/m/ak-chiy/?lang=ky"' in listing
    for lang in ("ky", "ru", "en"):
        words = texts(lang, "public")
        for page in PAGES:
            status, headers, html, size = await fetch(http, site, page_url(page, lang))
            assert status == 200, (page, lang)
            assert f'<html lang="{lang}">' in html
            assert headers["Content-Encoding"] == "gzip" and size <= LIMIT, (page, size)
            assert "<script" not in html
            assert words["nav_budget"] in html and words["footer"] in unescape(html)
    status, headers, _, _ = await fetch(http, site, "/m/ak-chiy")
    assert status == 308 and headers["Location"] == "/m/ak-chiy/"
    status, headers, _, _ = await fetch(http, site, "/m")
    assert status == 308 and headers["Location"] == "/m/"
    # without ?lang= the municipality's own language: Kyrgyz
    _, _, html, _ = await fetch(http, site, "/m/ak-chiy/budget")
    assert '<html lang="ky">' in html and KY["revenue_by_source"] in html


async def test_the_budget_matches_the_database_and_is_drawn_in_the_page(
    site: Site, http: aiohttp.ClientSession
) -> None:
    _, _, html, _ = await fetch(http, site, page_url("budget"))
    budget = await site.repos.budget.current(site.municipality.id)
    assert budget is not None
    revenue = await site.repos.budget.lines(budget.id, "revenue")
    spending = await site.repos.budget.lines(budget.id, "spending")
    shown = {
        row[0]: number(row[1]) for row in cells(html) if len(row) == 2 and row[1][:1].isdigit()
    }
    for name, _, amount in revenue:
        assert shown[name] == amount
    roads = sum(a for n, _, a in spending if n == "Roads")
    assert shown["Roads"] == roads == 1_500_000  # Ak-Chiy and Kachybek together
    villages = {
        v.name: v.id for v in await site.repos.municipalities.villages(site.municipality.id)
    }
    for village, village_id in villages.items():
        assert shown[village] == sum(a for _, v, a in spending if v == village_id)
    assert shown[EN["whole_municipality"]] == sum(a for _, v, a in spending if v is None)
    total = sum(a for _, _, a in revenue)
    assert f"{total:,} som" in html  # 12,000,000
    # three charts drawn in the page, one bar per line of their tables
    assert html.count("<svg") == 3 and "<img" not in html
    assert html.count("<rect") == len(revenue) + len({n for n, _, _ in spending}) + 4
    _, _, csv, _ = await fetch(http, site, "/m/ak-chiy/data/budget.csv?lang=en")
    assert "2015,1,revenue,Mining company payments,,3800000" in csv


async def test_the_roads_funding_adds_up_source_by_source(
    site: Site, data: PublicData, http: aiohttp.ClientSession
) -> None:
    _, _, html, _ = await fetch(http, site, page_url("projects"))
    roads = html[html.index("Roads: 4.0 km") : html.index("Transformers in")]
    rows = {
        row[0]: number(row[1]) for row in cells(roads) if len(row) == 2 and row[1][:1].isdigit()
    }
    assert rows == {
        "Local budget (local budget)": 107_000,
        "ARIS (investor)": 250_000,
        "Pasture committee (investor)": 40_000,
        "Residents (community money)": 35_000,
        "Residents' labour (115 people) (residents' labour)": 25_000,
        "Total": 457_000,
    }
    assert "Cost: <b>457,000 som</b>" in roads
    assert "1,500 direct beneficiaries" in roads and "700 indirect" in roads
    # the monitoring group's act: its role, its milestone, its photo; never its name
    assert ACT_TEXT in roads and EN["role_monitor"] in roads
    assert data.author.name not in html
    milestone = f'{EN["act_handover"]}: <time datetime="{iso(site.clock.now())}">'
    assert milestone in roads and EN["photos"].format(count=1) in roads
    assert "5,684,800 som" in html and "49 activities" in html  # the joint action plan
    _, _, csv, _ = await fetch(http, site, "/m/ak-chiy/data/projects.csv")
    assert csv.count("ROADS,") == 5


async def test_past_hearings_reproduce_the_seed_table_from_check_ins(
    site: Site, http: aiohttp.ClientSession
) -> None:
    _, _, html, _ = await fetch(http, site, page_url("hearings"))
    table = html[html.index(EN["past_hearings"]) : html.index(EN["by_village"])]
    days = [
        datetime.fromisoformat(at).astimezone(TZ).date().isoformat()
        for at in re.findall(r'<time datetime="([^"]+)">', table)
    ]
    rows = [row for row in cells(table) if len(row) == 4 and row[1].isdigit()]
    kinds = {"execution": EN["kind_execution"], "formation": EN["kind_formation"]}
    seed = sorted(SEED_HEARINGS, reverse=True)  # the latest first, as the page
    assert days == [day for day, *_ in seed]
    assert all(row[0].endswith(kinds[kind]) for (_, kind, *_), row in zip(seed, rows, strict=True))
    assert [row[1:] for row in rows] == [
        [str(people), str(women), "–" if deputies is None else str(deputies)]
        for _, _, people, women, deputies in seed
    ]
    # by village: the rows of each hearing add up to its row of the seed's table
    by_village = html[html.index('<table class="by-village">') :]
    for group, (_, _, people, women, deputies) in zip(
        re.findall(r"<tbody>.*?</tbody>", by_village, re.S), seed, strict=True
    ):
        rows = [row for row in cells(group) if len(row) == 4]
        assert [row[0] for row in rows] == ["Ak-Chiy", "Kachybek", "Sovetskoye"]
        assert sum(number(row[1]) for row in rows) == people
        assert sum(number(row[2]) for row in rows) == women
        shown = [row[3] for row in rows]
        assert shown == ["–"] * 3 if deputies is None else sum(map(number, shown)) == deputies
    # the same as open data: the seed's rows, then by village
    _, _, csv, _ = await fetch(http, site, "/m/ak-chiy/data/hearings.csv")
    lines = [line.split(",") for line in csv.splitlines()]
    assert lines[0] == ["starts_at", "kind", "place", "village", "participants", "women",
                        "deputies"]  # fmt: skip
    totals = [line[1:2] + line[4:] for line in lines[1:] if line[3] == "all"]
    assert totals == [
        [kind, str(people), str(women), "" if deputies is None else str(deputies)]
        for _, kind, people, women, deputies in seed
    ]
    assert len(lines) == 1 + 4 * len(seed)


async def test_an_upcoming_hearing_says_how_to_answer(
    site: Site, http: aiohttp.ClientSession
) -> None:
    hearing = await site.hearing_today()
    for lang, reply in (("en", f"H{hearing.id} YES"), ("ky", f"У{hearing.id} ИЙЕ"),
                        ("ru", f"С{hearing.id} ДА")):  # fmt: skip
        _, _, html, _ = await fetch(http, site, page_url("hearings", lang))
        upcoming = html[: html.index(texts(lang, "public")["past_hearings"])]
        assert hearing.place in upcoming and reply in upcoming and "/hearings" in upcoming


async def test_a_secret_poll_shows_only_turnout_while_open_and_no_small_group_after(
    site: Site, data: PublicData, http: aiohttp.ClientSession
) -> None:
    poll = data.poll
    _, _, html, _ = await fetch(http, site, page_url("polls"))
    section = html[html.index(f'id="poll-{poll.id}"') :]
    assert "Voted so far: 15 of" in section and f"V{poll.id} 1" in section
    assert EN["votes"] not in section and EN["by_village"] not in section
    assert "Lenin street" not in section  # not even the options' order by score
    for suffix in ("csv", "pb"):
        status, _, text, _ = await fetch(http, site, f"/m/ak-chiy/data/poll-{poll.id}.{suffix}")
        assert status == 404 and KY["poll_not_closed"] in text
    _, _, listing, _ = await fetch(http, site, page_url("data"))
    assert f"poll-{poll.id}.pb" not in listing

    site.clock.advance(days=8)
    _, _, html, _ = await fetch(http, site, page_url("polls"))
    section = html[html.index(f'id="poll-{poll.id}"') :]
    assert "Voted: 15 of" in section
    results = {row[0]: row[1:] for row in cells(section) if row[0].startswith(("1.", "2."))}
    assert results["1. Lenin street — chosen"] == ["8", "8"]
    assert results["2. School street"] == ["7", "7"]
    shown_groups = 0
    for table in re.findall(r'<table class="breakdown">.*?</table>', section, re.S):
        for row in cells(table)[1:]:
            if row[1] == EN["too_small"]:
                continue
            shown_groups += 1
            assert number(row[1]) >= 5, row
            assert sum(number(c) for c in row[2:]) == number(row[1])
    assert shown_groups >= 1
    villages = cells(re.findall(r'<table class="breakdown">.*?</table>', section, re.S)[0])
    assert [row[:2] for row in villages[1:]] == [
        ["Ak-Chiy", "7"], ["Kachybek", EN["too_small"]], ["Sovetskoye", EN["too_small"]],
    ]  # fmt: skip
    status, headers, pb, _ = await fetch(http, site, f"/m/ak-chiy/data/poll-{poll.id}.pb")
    assert status == 200 and "attachment" in headers["Content-Disposition"]
    assert "VOTES" in pb and pb.count("\n1;") + pb.count("\n2;") >= 2
    _, _, csv, _ = await fetch(http, site, f"/m/ak-chiy/data/poll-{poll.id}.csv?lang=en")
    assert "village,Sovetskoye,2,,,,,," in csv


async def test_service_ratings_by_village_with_the_trend_and_few_ratings_hidden(
    site: Site, data: PublicData, http: aiohttp.ClientSession
) -> None:
    _, _, html, _ = await fetch(http, site, page_url("ratings"))
    # the two rounds of tests/public_data.py (the demo's own round comes first)
    tables = re.findall(r"<table>\s*<caption>\d+\. 202[56]</caption>.*?</table>", html, re.S)
    first = cells(tables[0])
    assert first[0] == [EN["service"], EN["all_villages"], "Ak-Chiy", "Kachybek", "Sovetskoye"]
    # Sovetskoye's 3 are too few, and Kachybek's 5 would give them away (the total minus
    # the shown villages): both hidden
    assert first[1] == ["Water", "3.0 (14)", "3.0 (6)", EN["too_few"], EN["too_few"]]
    assert cells(tables[1])[1][1] == "4.0 (14)"
    trend = html[html.index(EN["trend"]) :]
    water = trend[trend.index("<h3>Water</h3>") :]
    water = water[: water.index("</svg>")]
    assert ">4.0<" in water and ">3.0<" in water and water.count("<rect") == 2
    _, _, csv, _ = await fetch(http, site, "/m/ak-chiy/data/ratings.csv?lang=en")
    assert "Water,Sovetskoye,,\n" in csv.replace("\r", "")


async def test_no_phone_or_name_appears_on_any_public_page(
    site: Site, data: PublicData, http: aiohttp.ClientSession
) -> None:
    names = {row[0] for row in await site.repos.db.fetchall("SELECT name FROM residents")}
    phone = re.compile(r"\+?996\s?\d{3}|700\s?0\d{5}")
    site.clock.advance(days=8)  # the poll's results and files too
    paths = ["/m/"] + [page_url(p, lang) for p in PAGES for lang in ("ky", "ru", "en")]
    paths += [f"/m/ak-chiy/data/{name}" for name in FILES]
    paths += [f"/m/ak-chiy/data/poll-{data.poll.id}.{kind}" for kind in ("csv", "pb")]
    for path in paths:
        status, _, text, _ = await fetch(http, site, path)
        assert status == 200, path
        assert not phone.search(text), path
        assert not [name for name in names if name in text], path
    assert data.author.name in names and data.voters[0].name in names


async def test_a_repeat_visit_costs_a_304_until_the_data_changes(
    site: Site, data: PublicData, http: aiohttp.ClientSession, renderer: Renderer
) -> None:
    path = page_url("projects")
    status, headers, html, _ = await fetch(http, site, path)
    assert status == 200, html
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert status == 200 and headers["Cache-Control"] == "public, no-cache"
    status, again, _, size = await fetch(http, site, path, **{"If-None-Match": etag})
    assert status == 304 and size == 0 and again["ETag"] == etag
    status, _, _, _ = await fetch(http, site, path, **{"If-Modified-Since": modified})
    assert status == 304
    # a change of what the page shows: a new version, a new page
    site.clock.advance(minutes=5)
    await projects.update_status(
        site.repos, renderer, site.municipality, "EXCAVATOR", "in_progress", now=site.clock.now()
    )
    status, headers, changed, _ = await fetch(http, site, path, **{"If-None-Match": etag})
    assert status == 200 and headers["ETag"] != etag and changed != html
    assert headers["Last-Modified"] != modified
    # a vote changes the turnout shown on the polls page, nothing else is needed
    _, before, _, _ = await fetch(http, site, page_url("polls"))
    await populate_one_more_vote(site, data)
    status, after, text, _ = await fetch(
        http, site, page_url("polls"), **{"If-None-Match": before["ETag"]}
    )
    assert status == 200 and "Voted so far: 16 of" in text
    # and the poll's closing, by time alone
    site.clock.advance(days=8)
    status, _, text, _ = await fetch(
        http, site, page_url("polls"), **{"If-None-Match": after["ETag"]}
    )
    assert status == 200 and "Voted: 16 of" in text


async def populate_one_more_vote(site: Site, data: PublicData) -> None:
    resident = (await adults_by_village(site.repos, site.municipality, site.clock.now()))[
        "Ak-Chiy"
    ][300]
    ballot = parse_ballot_text(f"#{data.poll.id} 2")
    await voting.cast(
        site.repos, site.municipality, resident, ballot, channel="sms", now=site.clock.now()
    )


@pytest.mark.parametrize(
    ("path", "status", "key"),
    [
        ("/m/nowhere/", 404, "not_found"),
        ("/m/ak-chiy/nothing", 404, "not_found"),
        ("/m/ak-chiy/budget?year=abc", 400, "bad_request"),
        ("/m/ak-chiy/budget?year=%F0%9F%92%A5", 400, "bad_request"),
        ("/m/ak-chiy/budget?year=1999", 404, "not_found"),
        ("/m/ak-chiy/budget?version=99999999999", 400, "bad_request"),
        ("/m/ak-chiy/data/secrets.csv", 404, "not_found"),
        ("/m/ak-chiy/data/poll-999.pb", 404, "not_found"),
        ("/m/Ak-Chiy/", 404, "not_found"),
    ],
)
async def test_a_wrong_address_gets_a_polite_page_in_kyrgyz(
    site: Site, http: aiohttp.ClientSession, path: str, status: int, key: str
) -> None:
    got, headers, html, _ = await fetch(http, site, path)
    assert got == status and KY[key] in html
    assert headers["Cache-Control"] == "no-store"
    got, _, html, _ = await fetch(http, site, path + ("&" if "?" in path else "?") + "lang=ru")
    assert got == status and texts("ru", "public")[key] in html


async def test_an_unknown_language_falls_back_to_the_municipality_s(
    site: Site, http: aiohttp.ClientSession
) -> None:
    status, _, html, _ = await fetch(http, site, "/m/ak-chiy/budget?lang=xx%00")
    assert status == 200 and '<html lang="ky">' in html


def camera_photo() -> bytes:
    """A phone camera's JPEG: 1600x1200, with EXIF naming its owner and place."""
    picture = Image.new("RGB", (1600, 1200), (120, 160, 90))
    exif = Image.Exif()
    exif[0x013B] = "Айгүл Асанбекова"  # Artist
    exif[0x010F] = "Phone maker"
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=95, exif=exif)
    return out.getvalue()


async def test_an_act_s_photo_is_a_small_thumbnail_without_its_metadata(
    site: Site, data: PublicData, http: aiohttp.ClientSession
) -> None:
    act = (await site.repos.public.acts(site.municipality.id))[0]
    src = f"/m/ak-chiy/acts/{act.id}/1.jpg"
    _, _, html, _ = await fetch(http, site, page_url("projects"))
    assert f'<img src="{src}" width="160" alt="{EN["photo_alt"].format(n=1)}"' in html
    # Telegram does not have it (yet): a polite 503, tried again later, nothing cached
    status, headers, text, _ = await fetch(http, site, src + "?lang=en")
    assert status == 503 and EN["photo_unavailable"] in text and headers["Retry-After"]
    original = camera_photo()
    site.telegram.add_file(original, file_id="ph-1", file_path="photos/file_1.jpg")
    status, headers, _, _ = await fetch(http, site, src)
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    async with http.get(site.base_url + src) as response:
        small = await response.read()
    with Image.open(io.BytesIO(small)) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == 320 and thumb.size == (320, 240)
        assert not thumb.getexif() and "exif" not in thumb.info
    assert len(small) < len(original) / 10 and "Асанбекова".encode() not in small
    # fetched from Telegram once; a repeat visit costs a 304
    assert len(site.telegram.calls("getFile")) == 2  # the 503 and the first 200
    status, _, _, size = await fetch(http, site, src, **{"If-None-Match": headers["ETag"]})
    assert status == 304 and size == 0
    for wrong in (f"/m/ak-chiy/acts/{act.id}/2.jpg", f"/m/ak-chiy/acts/{act.id + 1}/1.jpg"):
        status, _, _, _ = await fetch(http, site, wrong)
        assert status == 404


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    page=st.sampled_from(["", *PAGES, "data/budget.csv", "data/poll-1.pb", "acts/1/1.jpg"]),
    tail=st.text(max_size=12),
    query=st.dictionaries(
        st.sampled_from(["lang", "year", "version", "x"]), st.text(max_size=12), max_size=3
    ),
)
async def test_no_address_under_m_is_answered_5xx(
    site: Site, http: aiohttp.ClientSession, page: str, tail: str, query: dict[str, str]
) -> None:
    for path in (f"/m/ak-chiy/{page}", f"/m/ak-chiy/{page}{quote(tail)}", f"/m/{quote(tail)}/"):
        async with http.get(site.base_url + path, params=query) as response:
            assert response.status < 500, path


async def test_earlier_years_and_versions_stay_readable(
    site: Site, http: aiohttp.ClientSession
) -> None:
    later = demo_budget.BUDGET_CSV.replace(",2015,", ",2016,").replace(
        "Mining company payments,,3800000", "Mining company payments,,4100000"
    )
    await import_budget(site.repos, site.municipality, later.encode(), now=site.clock.now())
    corrected = later.replace(",,4100000", ",,4000000")
    await import_budget(site.repos, site.municipality, corrected.encode(), now=site.clock.now())
    _, _, html, _ = await fetch(http, site, page_url("budget"))
    assert "Budget 2016" in html and "version 2" in html and "4,000,000" in html
    assert 'href="/m/ak-chiy/budget?lang=en&amp;year=2016&amp;version=1"' in html
    assert 'href="/m/ak-chiy/budget?lang=en&amp;year=2015&amp;version=1"' in html
    _, _, html, _ = await fetch(http, site, page_url("budget", year=2016, version=1))
    assert "Budget 2016" in html and "4,100,000" in html and "4,000,000" not in html
    _, _, html, _ = await fetch(http, site, page_url("budget", year=2015))
    assert "Budget 2015" in html and "3,800,000" in html
    # its file: the figures of the year and version the page shows
    link = unescape(re.findall(r'href="(/m/ak-chiy/data/budget\.csv[^"]*)"', html)[0])
    assert link == "/m/ak-chiy/data/budget.csv?lang=en&year=2015&version=1"
    _, _, csv, _ = await fetch(http, site, link)
    assert "2015,1,revenue,Mining company payments,,3800000" in csv and "2016," not in csv
    status, _, _, _ = await fetch(http, site, "/m/ak-chiy/data/budget.csv?year=2014")
    assert status == 404
    _, _, csv, _ = await fetch(http, site, "/m/ak-chiy/data/budget.csv?lang=en")
    assert "2016,2,revenue,Mining company payments,,4000000" in csv


async def test_a_deployment_of_many_lists_them_and_keeps_their_pages_apart(
    site: Site, http: aiohttp.ClientSession
) -> None:
    _, before, _, _ = await fetch(http, site, "/m/")
    other = await create_municipality(
        site.repos, slug="kara-suu", name="Kara-Suu ayil aimak", villages=["Kara-Suu"],
        default_language="ru", now=site.clock.now(),
    )  # fmt: skip
    status, _, listing, _ = await fetch(http, site, "/m/", **{"If-None-Match": before["ETag"]})
    assert status == 200  # the list follows the municipalities
    assert 'href="/m/ak-chiy/?lang=ky"' in listing and 'href="/m/kara-suu/?lang=ky"' in listing
    # its own language, its own (empty) figures; nothing of the demo's
    _, _, html, _ = await fetch(http, site, "/m/kara-suu/budget")
    assert '<html lang="ru">' in html and texts("ru", "public")["no_budget"] in html
    assert "Mining company payments" not in html
    _, _, html, _ = await fetch(http, site, "/m/kara-suu/hearings?lang=en")
    assert EN["no_past"] in html and EN["no_upcoming"] in html
    _, _, csv, _ = await fetch(http, site, "/m/kara-suu/data/budget.csv")
    assert csv == "year,version,kind,name,village,amount\n"
    _, _, html, _ = await fetch(http, site, "/m/kara-suu/")
    assert other.name in html and "Ak-Chiy ayil aimak" not in html


async def test_closed_polls_page_ten_at_a_time_with_their_results(
    site: Site, data: PublicData, http: aiohttp.ClientSession
) -> None:
    now = site.clock.now()
    for n in range(RECENT_CLOSED + 2):
        await create_poll(
            site.repos, site.municipality, title=f"Question {n}", ballot_type="approval",
            options=[OptionSpec(f"Option {k}", cost=100_000 * k) for k in range(1, 9)],
            opens_at=now, closes_at=now + timedelta(hours=n + 1), now=now, max_choices=3,
        )  # fmt: skip
    site.clock.advance(days=30)
    status, _, html, size = await fetch(http, site, page_url("polls"))
    assert status == 200 and size <= LIMIT
    # the latest 10 closed first, with results; the three that closed first on page 2
    assert html.count(f"<caption>{EN['by_village']}</caption>") == RECENT_CLOSED
    assert html.index(data.poll.title) < html.index("Question 11") < html.index("Question 3<")
    assert "Question 2<" not in html and "Question 0<" not in html
    assert EN["polls_page"].format(page=1, pages=2) in html
    assert f'href="/m/ak-chiy/polls?lang=en&amp;page=2" rel="next">{EN["earlier_polls"]}' in html
    _, _, second, _ = await fetch(http, site, page_url("polls", page=2))
    assert second.count(f"<caption>{EN['by_village']}</caption>") == 3
    assert second.index("Question 2<") < second.index("Question 1<") < second.index("Question 0<")
    assert "Question 3<" not in second and data.poll.title not in second
    assert f'href="/m/ak-chiy/polls?lang=en" rel="prev">{EN["later_polls"]}' in second
    assert EN["earlier_polls"] not in second
    for poll in (await site.repos.polls.all(site.municipality.id))[1:4]:
        assert f"data/poll-{poll.id}.pb" in second
        status, _, _, _ = await fetch(http, site, f"/m/ak-chiy/data/poll-{poll.id}.pb")
        assert status == 200
    # a page past the last, or not a number: a polite page, not an error
    status, _, html, _ = await fetch(http, site, page_url("polls", page=3))
    assert status == 404 and EN["not_found"] in html
    status, _, html, _ = await fetch(http, site, page_url("polls", page="x"))
    assert status == 400 and EN["bad_request"] in html


async def test_switching_language_keeps_the_page_s_query(
    site: Site, data: PublicData, http: aiohttp.ClientSession
) -> None:
    later = demo_budget.BUDGET_CSV.replace(",2015,", ",2016,")
    await import_budget(site.repos, site.municipality, later.encode(), now=site.clock.now())
    _, _, html, _ = await fetch(http, site, page_url("budget", year=2015, version=1))
    for lang in ("ky", "ru"):
        link = f'href="/m/ak-chiy/budget?lang={lang}&amp;year=2015&amp;version=1" hreflang'
        assert link in html
    _, _, html, _ = await fetch(http, site, page_url("budget", "ru", year=2015, version=1))
    assert texts("ru", "public")["budget_of"].format(year=2015) in html
    assert 'href="/m/ak-chiy/budget?lang=en&amp;year=2015&amp;version=1" hreflang' in html
    # a parameter the page does not take is not carried (nor kept in its cached copy)
    _, _, html, _ = await fetch(http, site, page_url("hearings", year=2015))
    assert 'href="/m/ak-chiy/hearings?lang=ru" hreflang' in html
    site.clock.advance(days=30)
    for n in range(RECENT_CLOSED):
        await create_poll(
            site.repos, site.municipality, title=f"Question {n}", ballot_type="choose1",
            options=[OptionSpec("Yes"), OptionSpec("No")], opens_at=site.clock.now(),
            closes_at=site.clock.now() + timedelta(hours=1), now=site.clock.now(),
        )  # fmt: skip
    site.clock.advance(days=1)
    _, _, html, _ = await fetch(http, site, page_url("polls", "ky", page=2))
    assert 'href="/m/ak-chiy/polls?lang=en&amp;page=2" hreflang' in html


#: what the demo's names are in each language: a village, a project, a funding source,
#: a budget line
DEMO_NAMES = {
    "ky": ("Ак-Чий", "Жолдор: 4,0 км шагыл жана 7 көпүрө", "Жайыт комитети",
           "Тоо-кен компаниясынын төлөмдөрү"),
    "ru": ("Ак-Чий", "Дороги: 4,0 км гравия и 7 мостов", "Пастбищный комитет",
           "Платежи горнодобывающей компании"),
    "en": ("Ak-Chiy", "Roads: 4.0 km of gravel and 7 bridges", "Pasture committee",
           "Mining company payments"),
}  # fmt: skip


@pytest.mark.parametrize("lang", ["ky", "ru", "en"])
async def test_names_are_in_the_reader_s_language_on_pages_and_in_files(
    site: Site, data: PublicData, http: aiohttp.ClientSession, lang: str
) -> None:
    village, project, source, revenue = DEMO_NAMES[lang]
    # (not the villages': "Ak-Chiy ayil aimak" and "Ак-Чий айылдык клубу" are in every one)
    others = {name for other, names in DEMO_NAMES.items() if other != lang for name in names[1:]}
    site.clock.advance(days=8)  # the poll closed: its breakdown by village too
    words = texts(lang, "public")
    await hearings.create_hearing(
        site.repos, site.municipality, kind="execution", village="Kachybek", place="Club",
        agenda="The school hall", starts_at=site.clock.now() + timedelta(days=3),
        now=site.clock.now(),
    )  # fmt: skip
    await site.repos.db.execute("UPDATE hearings SET status = 'published'")
    pages = {page: (await fetch(http, site, page_url(page, lang)))[2] for page in PAGES}
    assert village in pages["budget"] and revenue in pages["budget"]
    assert project in pages["projects"] and source in pages["projects"]
    assert village in pages["hearings"] and village in pages["ratings"]
    assert village in pages["polls"]
    kachybek = {"ky": "Качыбек", "ru": "Качыбек", "en": "Kachybek"}[lang]
    upcoming = pages["hearings"][: pages["hearings"].index(words["past_hearings"])]
    assert words["for_village"].format(village=kachybek) in upcoming
    assert f"{words['place']}: Club" in upcoming
    assert f"{words['agenda']}: The school hall" in upcoming
    trend = pages["ratings"][pages["ratings"].index(words["trend"]) :]
    service, evaluation = {"ky": ("Мектептер", "Кызматтарды"), "ru": ("Школы", "Оценка услуг"),
                           "en": ("Schools", "Service evaluation")}[lang]  # fmt: skip
    assert f"<h3>{service}</h3>" in trend and f". {evaluation}" in trend
    files = {
        name: (await fetch(http, site, f"/m/ak-chiy/data/{name}?lang={lang}"))[2]
        for name in (*FILES, f"poll-{data.poll.id}.csv")
    }
    assert f"revenue,{revenue}," in files["budget.csv"]
    assert f",spending by village,,{village}," in files["budget.csv"]
    assert (
        f"ROADS,{project}," in files["projects.csv"]
        or f'ROADS,"{project}",' in files["projects.csv"]
    )
    assert f",{source}," in files["projects.csv"]
    assert f",{village}," in files["hearings.csv"] and f",{village}," in files["ratings.csv"]
    assert f"village,{village}," in files[f"poll-{data.poll.id}.csv"]
    for text in (*pages.values(), *files.values()):
        assert not [name for name in others if name in text]


def test_the_texts_have_the_same_keys_in_every_language() -> None:
    assert set(texts("ky", "public")) == set(texts("ru", "public")) == set(EN)
    for lang in ("ky", "ru", "en"):
        assert all(value.strip() for value in texts(lang, "public").values()), lang
