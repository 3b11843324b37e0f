"""Budget transparency: import, per-household summary, projects, groups, acts, ratings."""

from __future__ import annotations

import pytest

from bot.core.rendering.sms import sms_size
from bot.core.rendering.templates import Renderer
from bot.core.services import budget_summary, demo_data, projects, ratings
from bot.core.services.budget_import import import_budget
from bot.core.services.csv_input import ImportRejected
from handlers.text import handle_text
from storage.models import Municipality
from storage.repos import Repos
from tests.conftest import FakeClock, table_snapshot

RESIDENT = demo_data.RESIDENT_PHONE  # household AC-001 in Ak-Chiy
MONITOR = demo_data.MONITOR_PHONES[3]  # a community leader in the monitoring group
BUDGET_TABLES = ("budgets", "budget_lines", "projects", "project_funding", "plans")
HEADER = "kind,year,code,name,village,amount,source_type,status,problem,direct,indirect\n"


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


def household_size(code: str) -> int:
    return sum(1 for p in demo_data.generate()[1] if p.household == code)


async def test_the_household_summary_matches_hand_computed_figures(
    say, repos: Repos, demo: Municipality
) -> None:
    resident = await repos.residents.by_phone(demo.id, RESIDENT)
    assert resident is not None
    summary = await budget_summary.household_summary(repos, demo, resident)
    members = household_size("AC-001")
    assert (summary.revenue, summary.spending) == (12_000_000, 12_000_000)
    assert summary.village == "Ak-Chiy"
    assert summary.village_spending == 600_000 + 1_100_000 + 300_000 + 600_000
    assert summary.top_spending == [
        ("Administration", 3_100_000), ("Schools and kindergartens", 2_400_000),
        ("Roads", 1_500_000),
    ]  # fmt: skip
    assert summary.household_members == members
    assert summary.per_resident == round(12_000_000 / 3728) == 3219
    assert summary.household_share == round(12_000_000 * members / 3728)
    assert [p.code for p, _ in summary.projects] == [
        "ROADS",
        "TRANSFORMERS",
        "SCHOOLHALL",
        "EXCAVATOR",
    ]  # fmt: skip  (the Kachybek kindergarten is not this village's)
    assert summary.plans[0].total == 5_684_800 and summary.plans[0].activities == 49
    await say("LANG EN")
    reply = await say("BUDGET")
    share = f"{round(12_000_000 * members / 3728):,}"
    assert reply == (
        f"Budget 2015: revenue 12 mln, spending 12 mln som: Ak-Chiy 2.6 mln,"
        f" your household ({members} people) {share} som. PROJECT 1,2,3"
    )
    assert sms_size(reply).segments <= 2


async def test_a_kachybek_household_sees_its_own_village(
    say, repos: Repos, demo: Municipality
) -> None:
    phone = next(p.phone for p in demo_data.generate()[1] if p.household == "KB-001")
    resident = await repos.residents.by_phone(demo.id, phone)
    assert resident is not None
    summary = await budget_summary.household_summary(repos, demo, resident)
    assert summary.village_spending == 900_000
    assert "KINDERGARTEN" in [p.code for p, _ in summary.projects]
    assert "SCHOOLHALL" not in [p.code for p, _ in summary.projects]
    assert summary.household_share == round(12_000_000 * household_size("KB-001") / 3728)


async def test_project_details_by_sms_and_telegram(say) -> None:
    await say("LANG EN")
    reply = await say("PROJECT 1")
    assert reply.startswith("No. 1 ")
    assert "457,000 som, done" in reply and "ARIS 250,000" in reply
    assert sms_size(reply).segments <= 2
    html = await say("PROJECT 1", channel="telegram")
    for line in ("Cost: 457,000 som", "Beneficiaries: 1,500 direct, 700 indirect",
                 "• ARIS (investor): 250,000 som",
                 "• Residents' labour (115 people) (community labour): 25,000 som"):  # fmt: skip
        assert line in html.replace("&#39;", "'")
    assert await say("PROJECT 99") == "There is no project 99."
    assert await say("PROJECT x") == "Send the project number: PROJECT 1."


async def test_a_new_version_replaces_the_year_and_keeps_history(
    repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    body = HEADER + (
        "spending,2015,,Administration,,5000000,,,,,\n"
        "project,2015,ROADS,Roads again,,100,,in_progress,,,\n"
        "funding,2015,ROADS,Local budget,,100,local_budget,,,,\n"
    )
    report = await import_budget(repos, demo, body.encode(), now=clock.now())
    assert (report.year, report.version) == (2015, 2)
    versions = await repos.budget.versions(demo.id)
    assert [(b.year, b.version) for b in versions] == [(2015, 1), (2015, 2)]
    roads = await repos.budget.project_by_code(demo.id, "ROADS")
    assert roads is not None and roads.id == 1  # the number residents know stays
    assert [f.amount for f in await repos.budget.funding(roads.id)] == [100]
    resident = await repos.residents.by_phone(demo.id, RESIDENT)
    assert resident is not None
    summary = await budget_summary.household_summary(repos, demo, resident)
    assert summary.spending == 5_000_000


async def test_budget_of_a_new_year_and_of_a_year_asked_for(
    say, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    body = HEADER + (
        "revenue,2016,,Taxes,,8000000,,,,,\n"
        "spending,2016,,Schools,,8000000,,,,,\n"
        "project,2016,PARK,Park in Ak-Chiy,Ak-Chiy,250000,,planned,,,\n"
        "funding,2016,PARK,Local budget,,250000,local_budget,,,,\n"
    )
    await import_budget(repos, demo, body.encode(), now=clock.now())
    park = await repos.budget.project_by_code(demo.id, "PARK")
    assert park is not None
    await say("LANG EN")
    latest = await say("BUDGET")
    assert latest.startswith("Budget 2016: revenue 8 mln, spending 8 mln som")
    assert latest.endswith(f"PROJECT {park.id}")  # this year's project, not 2015's
    assert (await say("BUDGET 2015")).startswith("Budget 2015: revenue 12 mln")
    assert (await say("BUDGET 2015")).endswith("PROJECT 1,2,3")
    assert await say("BUDGET 2014") == (
        "There is no budget for 2014. Budgets: 2015, 2016 (BUDGET 2016)."
    )
    await say("LANG KY")
    assert await say("БЮДЖЕТ 2014") == "2014-жылдын бюджети жок. Бар: 2015, 2016 (БЮДЖЕТ 2016)."
    html = await say("BUDGET", channel="telegram")
    assert "Park in Ak-Chiy" in html and "Roads" not in html


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("spending,2015,,Roads,Atlantis,100,,,,,\n", ["line 2: unknown village 'Atlantis'"]),
        ("revenue,2015,,Tax,,-5,,,,,\n",
         ["line 2: amount must be a whole non-negative number, not '-5'"]),
        ("bonus,2015,,X,,1,,,,,\n",
         ["line 2: kind must be one of revenue, spending, project, funding, plan, not 'bonus'"]),
        ("project,2015,P,Bridge,,100,,done,,,\nfunding,2015,P,X,,60,grant,,,,\n",
         ["line 2: project 'P' costs 100 but its funding adds up to 60"]),
        ("funding,2015,Q,X,,60,grant,,,,\n", ["line 2: funding for unknown project 'Q'"]),
        ("revenue,2015,,Tax,,1,,,,,\nrevenue,2016,,Tax,,1,,,,,\n",
         ["line 1: one year per file, found [2015, 2016]"]),
        ("project,2015,P,Bridge,,100,,built,,,\n",
         ["line 2: status must be one of planned, tender, in_progress, done, cancelled"]),
    ],
)  # fmt: skip
async def test_a_bad_budget_file_imports_nothing(
    repos: Repos, demo: Municipality, clock: FakeClock, body: str, expected: list[str]
) -> None:
    before = await table_snapshot(repos, *BUDGET_TABLES)
    with pytest.raises(ImportRejected) as rejected:
        await import_budget(repos, demo, (HEADER + body).encode(), now=clock.now())
    assert [str(e) for e in rejected.value.errors] == expected
    assert await table_snapshot(repos, *BUDGET_TABLES) == before


async def test_pushing_the_summary_sends_one_message_per_household(
    repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock
) -> None:
    queued = await budget_summary.push_to_households(repos, renderer, demo, now=clock.now())
    assert queued == 648
    assert await budget_summary.push_to_households(repos, renderer, demo, now=clock.now()) == 0
    households = await repos.db.fetchval(
        "SELECT COUNT(DISTINCT r.household_id) FROM outbox o JOIN residents r"
        " ON r.id = o.resident_id WHERE o.dedupe_key LIKE 'budget:%'"
    )
    assert households == 648


async def test_status_changes_are_told_to_the_village(
    repos: Repos, renderer: Renderer, demo: Municipality, clock: FakeClock
) -> None:
    project, told = await projects.update_status(
        repos, renderer, demo, "KINDERGARTEN", "in_progress", now=clock.now()
    )
    kachybek = await repos.db.fetchval(
        "SELECT COUNT(*) FROM residents WHERE village_id = ?", (project.village_id,)
    )
    assert told == kachybek
    body = await repos.db.fetchval(
        "SELECT body FROM outbox WHERE dedupe_key LIKE 'project:4:status:in_progress:%'"
        " AND channel = 'sms' LIMIT 1"
    )
    assert "ДОЛБООР 4" in body or "ПРОЕКТ 4" in body


async def test_joining_an_initiative_group(say, repos: Repos) -> None:
    await say("LANG EN")
    assert await say("JOIN 3") == (
        "You joined initiative group 3: Pre-school education (kindergartens)."
    )
    assert (await say("JOIN 3")).startswith("You are already in initiative group 3")
    assert await say("JOIN 42") == "There is no approved problem 42. List: PROBLEMS."
    assert len(await repos.problems.members(3)) == 1


async def test_monitoring_acts(say, repos: Repos) -> None:
    await say("LANG EN", phone=MONITOR)
    assert await say("ACT 1 PURCHASE 120 t of gravel delivered", phone=MONITOR) == (
        "Act 5 (purchase) on project 1 is recorded."  # after the demo's 4 on the excavator
    )
    await say("LANG EN")
    before = await table_snapshot(repos, "monitoring_acts")
    assert await say("ACT 1 USE looks fine") == "Only members of the monitoring group file acts."
    assert await say("ACT 1 BUY x", phone=MONITOR) == (
        "Act: ACT 3 PURCHASE text (TENDER, PURCHASE, HANDOVER, USE)."
    )
    assert await table_snapshot(repos, "monitoring_acts") == before
    reply = await say("ACTS 1")
    assert reply.startswith("Acts on 1: ") and "purchase: 120 t of gravel delivered" in reply


async def test_a_rating_round(say, repos: Repos, demo: Municipality, clock: FakeClock) -> None:
    await say("LANG EN")
    assert await say("R 1 4") == "There is no rating round now."
    await ratings.open_round(
        repos, demo, "2015", ["Schools", "Health post", "Roads"], now=clock.now()
    )
    assert await say("R") == "Rate 1 to 5: 1) Schools 2) Health post 3) Roads. Example: R 1 4"
    assert await say("R 2 3") == "Thank you! 'Health post': 3/5."
    assert await say("R 2 5") == "Thank you! 'Health post': 5/5."  # the last counts
    before = await table_snapshot(repos, "ratings")
    assert await say("R 2 6") == "A rating is 1 to 5: R 1 4."
    assert await say("R 9 3") == "Service numbers are 1 to 3. List: R."
    assert await table_snapshot(repos, "ratings") == before
    await say("R 2 3", phone="+996700000003")
    clock.advance(days=365)
    await ratings.open_round(repos, demo, "2016", ["Health post"], now=clock.now())
    await say("R 1 4")
    results = await ratings.results(repos, demo)
    # round 1: the demo's (closed) rating of 2015
    assert results.rounds["2. 2015"]["Health post"][""].mean == 4.0  # (5 + 3) / 2
    assert results.trend("Health post") == [("2. 2015", 4.0), ("3. 2016", 4.0)]
