"""The staff console's polls pages over HTTP: create (typed options and approved problems,
ballot type, rule, budget), open now, close early, the results only once closed (a secret
ballot), exports CSV and .pb; bad input gets a polite 400 in the staff member's language
and changes nothing; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.core.clock import iso
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data, voting
from bot.core.services.ballot_text import parse_ballot_text
from bot.webui.texts import texts
from storage.models import Resident
from tests.conftest import FakeClock, table_snapshot
from tests.console_site import SMS_STAFF, Site, console_site
from tests.test_console import client

KY = texts("ky")
CHANGED = ("polls", "poll_options", "audit_log", "turnout", "box_ballots")


@pytest.fixture
async def site(db_url: str, clock: FakeClock, renderer: Renderer) -> AsyncIterator[Site]:
    async with console_site(db_url, clock, renderer) as running:
        yield running


async def approved_problems(site: Site, *bodies: str) -> list[int]:
    ids = []
    for body in bodies:
        problem_id = await site.repos.problems.create(
            municipality_id=site.municipality.id, village_id=None, body=body,
            now=iso(site.clock.now()),
        )  # fmt: skip
        await site.repos.problems.decide(problem_id, "approved", reason=None, merged_into=None,
                                         now=iso(site.clock.now()))  # fmt: skip
        ids.append(problem_id)
    return ids


def poll_form(site: Site, **changes: str) -> dict[str, str]:
    """Approve up to 2 of two typed options, open now, closing in a week at 18:00."""
    closes = (site.clock.now() + timedelta(days=7)).date().isoformat()
    form = {"title": "Кайсы долбоорлор?", "ballot_type": "approval", "limit": "2",
            "options": "Көчө жарыгы = 450000\r\nПарк = 300\u00a0000", "rule": "", "budget": "",
            "opens_date": "", "opens_time": "", "closes_date": closes,
            "closes_time": "18:00", "village": ""}  # fmt: skip
    return form | changes


async def voters(site: Site, count: int) -> list[Resident]:
    return [r for r in (await site.repos.residents.by_phones(site.municipality.id)).values()
            if r.phone not in demo_data.ROLE_HOLDERS and r.birth_year
            and r.birth_year < 2000][:count]  # fmt: skip


async def latest_poll_id(site: Site) -> int:
    return await site.count("SELECT MAX(id) FROM polls WHERE municipality_id = ?",
                            site.municipality.id)  # fmt: skip


async def test_create_from_problems_vote_close_early_and_read_the_results(site: Site) -> None:
    school, road = await approved_problems(site, "Мектептин чатыры", "Көпүрө")
    form = poll_form(site, problem=str(school), rule="greedy", budget="800000")
    form[f"cost_{school}"] = "200000"
    async with client(site) as c:
        await c.sign_in()
        assert await c.get("/staff/polls/new") == 200 and c.says("Көпүрө")
        status = await c.post("/staff/polls/new", form)
        assert status == 200, c.page
        assert c.says(KY["poll_created"]) and c.says(KY["poll_state_open"])
        assert c.says(KY["poll_sealed"]) and c.says("Мектептин чатыры")
        poll_id = await latest_poll_id(site)
        here = f"/staff/polls/{poll_id}"
        poll = await site.repos.polls.get(site.municipality.id, poll_id)
        assert poll is not None and (poll.ballot_type, poll.max_choices) == ("approval", 2)
        assert (poll.rule, poll.budget) == ("greedy", 800000)
        options = await site.repos.polls.options(poll_id)
        assert [(o.label, o.cost) for o in options] == [
            ("Көчө жарыгы", 450000), ("Парк", 300000), ("Мектептин чатыры", 200000)]  # fmt: skip
        assert road not in [o.problem_id for o in options]

        # six ballots: the page shows the turnout, never a figure per option
        for person, choice in zip(await voters(site, 6), ["1 3", "1 3", "1", "2", "2 3", "3"],
                                  strict=True):  # fmt: skip
            await voting.cast(site.repos, site.municipality, person,
                              parse_ballot_text(f"#{poll_id} {choice}"), channel="sms",
                              now=site.clock.now())  # fmt: skip
        assert await c.get(here) == 200
        assert re.search(r'id="ballots">6<', c.page) and 'id="results"' not in c.page
        assert await c.get(here + "/export.csv") == 400 and c.says(KY["poll_not_closed"])
        assert await c.get(here + "/export.pb") == 400

        await c.get(here)
        assert await c.post(here + "/close", {}) == 400 and c.says(KY["poll_confirm_needed"])
        assert await c.post(here + "/close", {"confirm": "1"}) == 200
        assert c.says(KY["poll_closed"]) and c.says(KY["poll_state_closed"])
        table = c.page.split('id="results"')[1].split("</table>")[0]
        rows = re.findall(
            r"<tr><th scope=\"row\">(\d)\. ([^<]+?) <small>.*?"
            r"<td class=\"num\">(\d+)</td>.*?<td>(.*?)</td></tr>",
            table,
            re.S,
        )
        assert [(r[0], r[2], KY["poll_selected_yes"] in r[3]) for r in rows] == [
            ("3", "4", True),
            ("1", "3", True),
            ("2", "2", False),
        ]  # 450k + 200k of 800k
        async with c.http.get(site.base_url + here + "/export.csv") as resp:
            assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
            assert "attachment" in resp.headers["Content-Disposition"]
            csv = await resp.text()
        assert csv.startswith("dimension,group,ballots,option,label")
        assert "all,all,6,3,Мектептин чатыры,200000,4,4,1" in csv
        async with c.http.get(site.base_url + here + "/export.pb") as resp:
            assert resp.status == 200
            pb = await resp.text()
        assert pb.startswith("META") and "VOTES" in pb and "PROJECTS" in pb
        assert await c.post(here + "/close", {"confirm": "1"}) == 400
        assert c.says(KY["poll_not_open"])

    staff = await site.repos.residents.by_phone(site.municipality.id, SMS_STAFF)
    assert staff is not None
    audit = await site.repos.db.fetchall(
        "SELECT actor_id, via, action FROM audit_log WHERE object_kind = 'poll' ORDER BY id"
    )
    assert [tuple(r) for r in audit] == [(staff.id, "web", "poll created"),
                                         (staff.id, "web", "poll closed early")]  # fmt: skip


async def test_a_scheduled_poll_opens_now(site: Site) -> None:
    tomorrow = (site.clock.now() + timedelta(days=1)).date().isoformat()
    async with client(site) as c:
        await c.sign_in()
        await c.get("/staff/polls/new")
        form = poll_form(site, ballot_type="choose1", limit="", opens_date=tomorrow,
                         opens_time="09:00")  # fmt: skip
        assert await c.post("/staff/polls/new", form) == 200
        assert c.says(KY["poll_state_scheduled"])
        here = f"/staff/polls/{await latest_poll_id(site)}"
        assert await c.post(here + "/open", {}) == 200
        assert c.says(KY["poll_opened"]) and c.says(KY["poll_state_open"])
        poll = await site.repos.polls.get(site.municipality.id, await latest_poll_id(site))
        assert poll is not None and poll.opens_at == iso(site.clock.now())
        assert await c.post(here + "/open", {}) == 400 and c.says(KY["poll_not_scheduled"])
        assert await c.get("/staff/polls") == 200 and c.says("Кайсы долбоорлор?")
        assert await c.get("/staff/") == 200 and c.says("Кайсы долбоорлор?")  # open today


@pytest.mark.parametrize(
    ("language", "changes", "code"),
    [
        ("ky", {"title": " "}, "title_needed"),
        ("ru", {"ballot_type": "plurality"}, "type_needed"),
        ("en", {"limit": ""}, "limit_needed"),
        ("ky", {"limit": "0"}, "limit_needed"),
        ("ru", {"limit": "3"}, "limit_too_big"),
        ("en", {"options": "Жалгыз"}, "two_options"),
        ("ky", {"options": "A = 12,5\nB"}, "bad_som"),
        ("ru", {"options": "\n".join(f"N{n}" for n in range(51))}, "too_many_options"),
        ("en", {"problem": "999"}, "unknown_problem"),
        ("ky", {"rule": "dictator"}, "rule_needed"),
        ("ru", {"rule": "mes", "budget": ""}, "budget_needed"),
        ("en", {"rule": "greedy", "budget": "100", "options": "A = 5\nB"}, "costs_needed"),
        ("ky", {"closes_date": "2026-11-20"}, "in_past"),
        ("ru", {"closes_time": "7pm"}, "bad_time"),
        ("en", {"opens_date": "2026-12-31", "opens_time": "10:00"}, "closes_before_opens"),
        ("ky", {"village": "Atlantis"}, "unknown_village"),
    ],
)
async def test_a_bad_poll_form_gets_a_polite_answer_in_the_staff_language(
    site: Site, language: str, changes: dict[str, str], code: str
) -> None:
    staff = await site.repos.residents.by_phone(site.municipality.id, SMS_STAFF)
    assert staff is not None
    await site.repos.residents.set_language(staff.id, language, now="2026-11-25T00:00:00Z")
    async with client(site) as c:
        await c.sign_in()
        before = await table_snapshot(site.repos, *CHANGED)
        await c.get("/staff/polls/new")
        assert await c.post("/staff/polls/new", poll_form(site, **changes)) == 400
        assert c.says(texts(language)["poll_" + code])
        assert f'lang="{language}"' in c.page
        assert before == await table_snapshot(site.repos, *CHANGED)


async def test_no_input_on_the_polls_pages_yields_a_server_error(site: Site) -> None:
    nasty = ["", "0", "-1", "99999999999999999999", "' OR 1=1 --", "%", "\x00", "я" * 5000,
             "<script>", "1e9", "2026-13-40", "9999-12-31", "24:00", "=", "a=b=c"]  # fmt: skip
    async with client(site) as c:
        await c.sign_in()
        for value in nasty:
            for name in poll_form(site):
                await c.get("/staff/polls/new")
                status = await c.post("/staff/polls/new", poll_form(site, **{name: value}))
                assert status < 500, (name, value)
                assert "<script>" not in c.page
            await c.get("/staff/polls/new")
            assert await c.post("/staff/polls/new", poll_form(site, problem=value)) < 500
        poll_id = await latest_poll_id(site)
        for path in ("/staff/polls/999999999", "/staff/polls/x", "/staff/polls/1/export.xls",
                     "/staff/polls/999999999/export.csv"):  # fmt: skip
            assert await c.get(path) in (404, 405), path
            assert c.says(KY["not_found"])
        for path in (f"/staff/polls/{poll_id}/open", f"/staff/polls/{poll_id}/close"):
            await c.get(f"/staff/polls/{poll_id}")
            assert await c.post(path, {"confirm": "я" * 100}) < 500
