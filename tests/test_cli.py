"""The civic-bot command line, run as a subprocess on real SQLite files (and the core
commands on PostgreSQL too, when TEST_POSTGRES_URL is set)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import dump_database, query_database, run_cli

SUBCOMMANDS = [
    ["init"],
    ["demo"],
    ["municipality", "create"],
    ["municipality", "list"],
    ["municipality", "secret", "set"],
    ["municipality", "secret", "rekey"],
    ["import", "households"],
    ["import", "residents"],
    ["staff", "grant"],
    ["staff", "revoke"],
    ["staff", "list"],
    ["run"],
    ["broadcast"],
    ["pb", "tally"],
]


def on(db_url: str) -> dict[str, str]:
    """The environment of a command on the test's database (``db_url``: SQLite or PostgreSQL)."""
    return {"DATABASE_URL": db_url}


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=" ".join)
def test_every_subcommand_has_help(tmp_path: Path, command: list[str]) -> None:
    result = run_cli(*command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage: civic-bot" in result.stdout


def test_init_twice_changes_nothing(tmp_path: Path, db_url: str) -> None:
    first = run_cli("init", cwd=tmp_path, env=on(db_url))
    assert first.returncode == 0, first.stderr
    assert "applied: 0001_register, 0002_roles, 0003_channels" in first.stdout
    before = dump_database(db_url)
    second = run_cli("init", cwd=tmp_path, env=on(db_url))
    assert second.returncode == 0
    assert "none, up to date" in second.stdout
    assert dump_database(db_url) == before


def test_init_demo_creates_the_seed_municipality_once(tmp_path: Path, db_url: str) -> None:
    assert run_cli("init", "--demo", cwd=tmp_path, env=on(db_url)).returncode == 0
    (counts,) = query_database(
        db_url,
        "SELECT (SELECT COUNT(*) FROM villages), (SELECT COUNT(*) FROM households),"
        " (SELECT COUNT(*) FROM residents)",
    )
    roles = dict(
        query_database(
            db_url,
            "SELECT role || ':' || gender, COUNT(*) FROM roles JOIN residents r"
            " ON r.id = roles.resident_id GROUP BY role, gender",
        )
    )
    assert counts == (3, 648, 3728)
    assert roles == {
        "admin:m": 1,
        "staff:m": 8,
        "staff:f": 4,
        "deputy:m": 9,
        "deputy:f": 2,
        "monitor:m": 4,
        "monitor:f": 3,
    }
    before = dump_database(db_url)
    again = run_cli("init", "--demo", cwd=tmp_path, env=on(db_url))
    assert "already present" in again.stdout
    assert dump_database(db_url) == before


def test_demo_from_a_pipe_prints_the_replies(tmp_path: Path, db_url: str) -> None:
    result = run_cli(
        "demo", "--as", "+996700000001", cwd=tmp_path, env=on(db_url), stdin="HELP\nLANG RU\nME\n"
    )
    assert result.returncode == 0, result.stderr
    replies = result.stdout.strip().splitlines()
    assert len(replies) == 3
    assert replies[0].startswith("Буйруктар (1/2): МЕН")
    assert replies[1] == "Язык: русский. Команды: ПОМОЩЬ."
    assert ", село Ак-Чий, двор №AC-001 (" in replies[2]
    assert "+996700000002" in result.stderr  # the banner says which phones to try


def test_demo_can_switch_identity(tmp_path: Path) -> None:
    result = run_cli("demo", cwd=tmp_path, stdin="ME\n:as +996700999999\nМЕН\n:quit\nME\n")
    replies = result.stdout.strip().splitlines()
    assert len(replies) == 2
    assert replies[1].startswith("Бул номер реестрде жок.")


def test_demo_refuses_a_bad_phone(tmp_path: Path) -> None:
    result = run_cli("demo", "--as", "12", cwd=tmp_path, stdin="")
    assert result.returncode == 2
    assert result.stderr.strip() == "civic-bot: '12' is not a valid phone number"


def test_register_import_from_scratch(tmp_path: Path, db_url: str) -> None:
    households = tmp_path / "households.csv"
    households.write_text("code,village\nH-1,Ak-Chiy\nH-2,Kachybek\n", encoding="utf-8")
    residents = tmp_path / "residents.csv"
    residents.write_text(
        "phone,name,gender,birth_year,household\n0555 123 456,Asel,f,1990,H-1\n",
        encoding="utf-8",
    )
    created = run_cli(
        "municipality",
        "create",
        "test-aa",
        "--name",
        "Test AA",
        "--village",
        "Ak-Chiy",
        "--village",
        "Kachybek",
        cwd=tmp_path,
        env=on(db_url),
    )
    assert created.returncode == 0, created.stderr
    out = run_cli("import", "households", str(households), cwd=tmp_path, env=on(db_url))
    assert out.stdout.strip() == "households: 2 added, 0 updated, 0 unchanged"
    out = run_cli("import", "residents", str(residents), cwd=tmp_path, env=on(db_url))
    assert out.stdout.strip() == "residents: 1 added, 0 updated, 0 unchanged"
    out = run_cli("import", "residents", str(residents), cwd=tmp_path, env=on(db_url))
    assert out.stdout.strip() == "residents: 0 added, 0 updated, 1 unchanged"
    grant = run_cli("staff", "grant", "996555123456", "staff", cwd=tmp_path, env=on(db_url))
    assert grant.stdout.strip() == "staff: granted"
    listing = run_cli("staff", "list", cwd=tmp_path, env=on(db_url))
    assert listing.stdout.strip() == "staff\t+996***3456\tAsel"
    revoke = run_cli("staff", "revoke", "0555123456", "staff", cwd=tmp_path, env=on(db_url))
    assert revoke.stdout.strip() == "staff: revoked"
    assert run_cli("staff", "list", cwd=tmp_path, env=on(db_url)).stdout == ""


def test_bad_import_lists_every_bad_line_and_imports_nothing(tmp_path: Path, db_url: str) -> None:
    assert run_cli("init", "--demo", cwd=tmp_path, env=on(db_url)).returncode == 0
    before = dump_database(db_url)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "phone,name,gender,birth_year,household\n"
        "0555 100 200,Good Row,f,1990,AC-001\n"
        "0555 100 201,Bad Household,m,1990,ZZ-1\n"
        "+996700000001,Moves Nobody,f,1990,KB-001\n"
        "0555 100 200,Duplicate,m,1990,AC-002\n",
        encoding="utf-8",
    )
    result = run_cli("import", "residents", str(bad), cwd=tmp_path, env=on(db_url))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{bad}: line 3: unknown household 'ZZ-1': import households first",
        f"{bad}: line 5: phone +996555100200 already on line 2",
        "civic-bot: 2 bad line(s); nothing was imported",
    ]
    assert dump_database(db_url) == before


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (
            ["import", "residents", "missing.csv"],
            "civic-bot: cannot read missing.csv: No such file or directory",
        ),
        (
            ["staff", "grant", "+996700999999", "staff"],
            "civic-bot: +996700999999 is not in the register of ak-chiy",
        ),
        (["staff", "list", "--municipality", "nowhere"], "civic-bot: no municipality 'nowhere'"),
        (
            ["municipality", "create", "Bad Slug", "--name", "x", "--village", "a"],
            "civic-bot: slug must be 2-63 lower-case letters, digits or '-', not 'Bad Slug'",
        ),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(
    tmp_path: Path, args: list[str], reason: str
) -> None:
    assert run_cli("init", "--demo", cwd=tmp_path).returncode == 0
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == reason


def test_commands_need_a_municipality_first(tmp_path: Path) -> None:
    result = run_cli("staff", "list", cwd=tmp_path)
    assert result.returncode == 2
    assert "no municipality yet" in result.stderr


def test_a_broadcast_is_previewed_then_cancelled_while_queued(tmp_path: Path, db_url: str) -> None:
    assert run_cli("init", "--demo", cwd=tmp_path, env=on(db_url)).returncode == 0
    text = tmp_path / "text.txt"
    text.write_text("Суу түтүгү эртең оңдолот.", encoding="utf-8")
    preview = run_cli(
        "broadcast", "--village", "Kachybek", "--text-file", str(text), "--dry-run",
        cwd=tmp_path, env=on(db_url),
    )  # fmt: skip
    assert preview.returncode == 0, preview.stderr
    [(audience,)] = query_database(
        db_url,
        "SELECT COUNT(*) FROM residents r JOIN villages v ON v.id = r.village_id"
        " WHERE v.name = 'Kachybek' AND NOT r.opted_out",
    )
    assert preview.stdout == (
        f"would reach {audience} resident(s): telegram 0, sms {audience};"
        " nothing queued (--dry-run)\n"
    )
    assert query_database(db_url, "SELECT COUNT(*) FROM broadcasts") == [(0,)]
    queued = run_cli(
        "broadcast", "--village", "Kachybek", "--text-file", str(text), cwd=tmp_path,
        env=on(db_url),
    )  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    [(waiting,)] = query_database(db_url, "SELECT COUNT(*) FROM outbox WHERE status = 'queued'")
    assert waiting > 0

    cancelled = run_cli("broadcast", "cancel", "1", cwd=tmp_path, env=on(db_url))

    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.startswith(
        f"broadcast 1 cancelled: {waiting} message(s) will not be sent\n"
    )
    assert "queued 0, sent 0, delivered 0, failed" in cancelled.stdout
    rows = query_database(db_url, "SELECT status, error FROM outbox WHERE broadcast_id = 1")
    assert set(rows) == {("failed", "cancelled by staff")} and len(rows) == waiting
    [(detail,)] = query_database(
        db_url, "SELECT detail FROM audit_log WHERE action = 'broadcast cancelled'"
    )
    assert detail == f"{waiting} message(s) not sent"
    again = run_cli("broadcast", "cancel", "1", cwd=tmp_path, env=on(db_url))
    assert again.stdout.startswith("broadcast 1 cancelled: 0 message(s) will not be sent")
    unknown = run_cli("broadcast", "cancel", "99", cwd=tmp_path, env=on(db_url))
    assert unknown.returncode == 2 and "no broadcast 99" in unknown.stderr
