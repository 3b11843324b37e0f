"""Importing households and residents: normalisation, all-or-nothing, idempotence."""

from __future__ import annotations

import pytest

from bot.core.services.csv_input import ImportRejected
from bot.core.services.municipalities import create_municipality
from bot.core.services.register_import import import_households, import_residents
from storage.models import Municipality
from storage.repos import Repos
from tests.conftest import FakeClock, table_snapshot

HOUSEHOLDS = b"code,village,address\nH-1,Ak-Chiy,Lenin 1\nH-2,Kachybek,\nH-3,sovetskoye,Mira 3\n"
RESIDENTS = (
    "phone,name,gender,birth_year,household,language\n"
    "0555 123 456,Айгүл Асанова,f,1980,H-1,ky\n"
    "996555123457,Бакыт Асанов,m,1978,H-1,\n"
    "+996 (555) 12-34-58,Ivan Petrov,m,,H-3,ru\n"
).encode()


#: when the household imports happen (the audit trail records it)
NOW = FakeClock().now()


@pytest.fixture
async def town(repos: Repos, clock: FakeClock) -> Municipality:
    return await create_municipality(
        repos,
        slug="test-aa",
        name="Test AA",
        villages=["Ak-Chiy", "Kachybek", "Sovetskoye"],
        default_language="ky",
        now=clock.now(),
    )


@pytest.fixture
async def registered(repos: Repos, town: Municipality, clock: FakeClock) -> Municipality:
    await import_households(repos, town, HOUSEHOLDS, now=NOW)
    await import_residents(repos, town, RESIDENTS, now=clock.now())
    return town


async def test_phones_in_any_usual_form_become_e164(repos: Repos, registered: Municipality) -> None:
    phones = sorted(await repos.residents.by_phones(registered.id))
    assert phones == ["+996555123456", "+996555123457", "+996555123458"]
    resident = await repos.residents.by_phone(registered.id, "+996555123458")
    assert resident is not None
    assert (resident.name, resident.gender, resident.birth_year, resident.language) == (
        "Ivan Petrov",
        "m",
        None,
        "ru",
    )
    default = await repos.residents.by_phone(registered.id, "+996555123457")
    assert default is not None and default.language == "ky"


async def test_reimporting_the_same_files_changes_nothing(
    repos: Repos, registered: Municipality, clock: FakeClock
) -> None:
    before = await table_snapshot(repos)
    clock.advance(days=1)
    households = await import_households(repos, registered, HOUSEHOLDS, now=NOW)
    residents = await import_residents(repos, registered, RESIDENTS, now=clock.now())
    assert (households.created, households.updated, households.unchanged) == (0, 0, 3)
    assert (residents.created, residents.updated, residents.unchanged) == (0, 0, 3)
    assert await table_snapshot(repos) == before


async def test_an_edited_file_updates_rows_in_place(
    repos: Repos, registered: Municipality, clock: FakeClock
) -> None:
    before = await repos.residents.by_phone(registered.id, "+996555123456")
    edited = RESIDENTS.replace(
        "Айгүл Асанова,f,1980,H-1".encode(), "Айгүл Бакирова,f,1981,H-2".encode()
    )
    report = await import_residents(repos, registered, edited, now=clock.now())
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    after = await repos.residents.by_phone(registered.id, "+996555123456")
    assert before is not None and after is not None
    assert after.id == before.id
    assert (after.name, after.birth_year) == ("Айгүл Бакирова", 1981)
    households = await repos.households.by_code(registered.id)
    assert after.household_id == households["H-2"].id
    assert after.village_id == households["H-2"].village_id
    assert await repos.residents.count(registered.id) == 3


async def test_moving_a_household_moves_its_residents(
    repos: Repos, registered: Municipality
) -> None:
    moved = HOUSEHOLDS.replace(b"H-1,Ak-Chiy", b"H-1,Kachybek")
    report = await import_households(repos, registered, moved, now=NOW)
    assert report.updated == 1
    villages = {v.name: v.id for v in await repos.municipalities.villages(registered.id)}
    resident = await repos.residents.by_phone(registered.id, "+996555123456")
    assert resident is not None and resident.village_id == villages["Kachybek"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "phone,name,gender,household\n0555123459,A,f,H-1\n",
            ["line 1: missing column(s): birth_year"],
            id="missing column",
        ),
        pytest.param(
            "phone,name,gender,birth_year,household\n0555123459,A,f,1990,H-1\n12345,B,m,1990,H-1\n",
            ["line 3: bad phone: '12345' is not a valid phone number"],
            id="bad phone",
        ),
        pytest.param(
            "phone,name,gender,birth_year,household\n0555123459,A,f,1990,H-1\n"
            "+996555123459,B,m,1990,H-2\n",
            ["line 3: phone +996555123459 already on line 2"],
            id="duplicate phone",
        ),
        pytest.param(
            "phone,name,gender,birth_year,household\n0555123459,A,f,1990,H-9\n",
            ["line 2: unknown household 'H-9': import households first"],
            id="unknown household",
        ),
        pytest.param(
            "phone,name,gender,birth_year,household\n0555123459,A,x,1990,H-1\n"
            "0555123460,,m,1990,H-1\n0555123461,C,m,1850,H-1\n0555123462,D,m,1990\n",
            [
                "line 2: gender must be f or m, not 'x'",
                "line 3: missing value in column 'name'",
                "line 4: birth_year must be a year 1900-2026, not '1850'",
                "line 5: expected 5 fields, found 4",
            ],
            id="every bad line reported",
        ),
        pytest.param("", ["line 1: the file is empty: expected a header line"], id="empty file"),
    ],
)
async def test_a_bad_residents_file_imports_nothing(
    repos: Repos, registered: Municipality, clock: FakeClock, body: str, expected: list[str]
) -> None:
    before = await table_snapshot(repos)
    with pytest.raises(ImportRejected) as rejected:
        await import_residents(repos, registered, body.encode(), now=clock.now())
    assert [str(error) for error in rejected.value.errors] == expected
    assert await table_snapshot(repos) == before


async def test_a_bad_households_file_imports_nothing(repos: Repos, town: Municipality) -> None:
    body = b"code,village\nH-1,Ak-Chiy\nH-2,Atlantis\nH-1,Kachybek\n"
    with pytest.raises(ImportRejected) as rejected:
        await import_households(repos, town, body, now=NOW)
    assert [str(e) for e in rejected.value.errors] == [
        "line 3: unknown village 'Atlantis' (known: Ak-Chiy, Kachybek, Sovetskoye)",
        "line 4: household 'H-1' already on line 2",
    ]
    assert await repos.households.count(town.id) == 0


async def test_non_utf8_file_is_rejected(repos: Repos, town: Municipality) -> None:
    with pytest.raises(ImportRejected) as rejected:
        await import_households(repos, town, "code,village\nH-1,Ак-Чий\n".encode("cp1251"), now=NOW)
    assert str(rejected.value.errors[0]) == (
        "line 2: the file is not UTF-8 text: save it as CSV UTF-8"
    )


async def test_semicolon_files_from_spreadsheets_with_bom(repos: Repos, town: Municipality) -> None:
    body = "\ufeffcode;village;address\nH-1;Ak-Chiy;ул. Ленина, 1\n".encode()
    report = await import_households(repos, town, body, now=NOW)
    assert report.created == 1
    assert (await repos.households.by_code(town.id))["H-1"].address == "ул. Ленина, 1"
