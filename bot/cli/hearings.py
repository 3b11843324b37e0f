"""``civic-bot hearing ...``: public budget hearings from creation to the report."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.cli.common import (
    Call,
    add_municipality_option,
    add_staff_option,
    add_translated_option,
    async_handler,
    local_time,
    run_action,
    translated_values,
    write_export,
)
from bot.cli.errors import CliError
from bot.core.languages import with_versions
from bot.core.phones import mask_phone
from bot.core.rendering.spreadsheet import csv_text
from bot.core.rendering.templates import Renderer
from bot.core.services import attendance, hearings
from bot.core.services.attendance_import import ROLES, import_attendance
from bot.core.services.csv_input import ImportRejected
from bot.core.services.errors import Refused
from storage.models import Hearing

EXPORT_COLUMNS = ["date", "kind", "participants", "women", "deputies"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("hearing", help="public budget hearings")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", help="a new hearing or other meeting (a draft until published)"
    )
    create.add_argument(
        "--meeting", choices=hearings.MEETINGS, default="hearing",
        help="what kind of meeting (default: a budget hearing)",
    )  # fmt: skip
    create.add_argument("--kind", choices=hearings.KINDS, help="a hearing's budget stage")
    create.add_argument(
        "--age-group", choices=hearings.MEETING_AGE_GROUPS, help="a PRA session's age group"
    )
    create.add_argument("--at", required=True, help="local date and time, e.g. 2026-12-04 10:00")
    add_translated_option(create, "place", "where (also --place-ky, -ru, -en)")
    create.add_argument("--village", help="only this village is invited (default: everyone)")
    add_translated_option(create, "agenda", "what is discussed")
    actions.add_parser("list", help="all hearings")
    for name, text in (
        ("show", "details, who was reached and answered (by village), attendance"),
        ("publish", "send the invitations (publishing twice sends nothing twice)"),
        ("cancel", "cancel; everyone invited is told"),
    ):
        actions.add_parser(name, help=text).add_argument("id", type=int)
    actions.choices["show"].add_argument(
        "--names", action="store_true", help="also list who answered what (staff only)"
    )
    update = actions.add_parser("update", help="change time, place or agenda")
    update.add_argument("id", type=int)
    update.add_argument("--at")
    add_translated_option(update, "place", "the new place (a --place-ru alone: its Russian name)")
    add_translated_option(update, "agenda", "the new agenda")
    checkin = actions.add_parser(
        "checkin", help="count a person at the door: --phone, --code, or a walk-in"
    )
    checkin.add_argument("id", type=int)
    who = checkin.add_mutually_exclusive_group(required=True)
    who.add_argument("--phone")
    who.add_argument("--code", help="the code the RSVP confirmation showed")
    who.add_argument("--walk-in", choices=["f", "m"], help="not in the register: gender")
    checkin.add_argument("--role", choices=ROLES, default="resident", help="for a walk-in")
    uncheck = actions.add_parser(
        "uncheck", help="take a mistaken check-in off (a correction: --by and --reason)"
    )
    uncheck.add_argument("id", type=int)
    who = uncheck.add_mutually_exclusive_group(required=True)
    who.add_argument("--phone")
    who.add_argument("--code", help="the code the RSVP confirmation showed")
    who.add_argument("--walk-in", choices=["f", "m"], help="the latest walk-in of this gender")
    uncheck.add_argument("--role", choices=ROLES, default="resident", help="for a walk-in")
    attendance = actions.add_parser(
        "import-attendance", help="attendance CSV: phone,gender,role (phone empty: walk-in)"
    )
    attendance.add_argument("id", type=int)
    attendance.add_argument("file", type=Path)
    attendance.add_argument(
        "--sheet",
        help="the sheet's name: walk-ins already imported from it count once"
        " (default: the file's name)",
    )
    outcome = actions.add_parser("outcome", help="tell everyone invited and who came the outcome")
    outcome.add_argument("id", type=int)
    outcome.add_argument("--text", required=True)
    export = actions.add_parser(
        "export", help="CSV per budget hearing: date, kind, participants, women, deputies"
    )
    export.add_argument("--output", type=Path, help="file (default: standard output)")
    for name, sub in actions.choices.items():
        add_municipality_option(sub)
        if name not in ("list", "show", "export"):
            add_staff_option(sub, reason=name in ("checkin", "uncheck", "import-attendance"))
        sub.set_defaults(handler=_hearing)


@dataclass(frozen=True)
class HearingCall(Call):
    async def hearing(self) -> Hearing:
        return await hearings.get_hearing(self.repos, self.municipality, self.args.id)

    async def correction(self) -> attendance.Correction | None:
        """``--by`` and ``--reason`` given: a correction of the attendance."""
        if self.args.by is None and self.args.reason is None:
            return None
        return attendance.Correction(await self.actor(), self.args.reason or "")

    def local(self, hearing: Hearing) -> str:
        return (
            datetime.fromisoformat(hearing.starts_at)
            .astimezone(self.config.tz)
            .strftime("%Y-%m-%d %H:%M")
        )


@async_handler
async def _hearing(args: argparse.Namespace) -> int:
    return await run_action(args, ACTIONS, HearingCall)


async def _create(c: HearingCall) -> None:
    language = c.municipality.default_language
    (place,) = translated_values(c.args, "place", language)
    agenda = translated_values(c.args, "agenda", language, required=False) or [""]
    hearing = await hearings.create_hearing(
        c.repos,
        c.municipality,
        kind=c.args.kind or "",
        starts_at=local_time(c.args.at, c.config),
        place=place,
        now=c.now,
        village=c.args.village,
        agenda=agenda[0],
        actor=await c.actor(),
        meeting=c.args.meeting,
        age_group=c.args.age_group,
    )
    print(f"{hearing.meeting} {hearing.id} created (draft): {c.local(hearing)}, {hearing.place}")


def _what(hearing: Hearing) -> str:
    """A hearing's budget stage, or the kind of meeting (a PRA session with its age group)."""
    if hearing.meeting == "hearing":
        return hearing.kind
    return " ".join(filter(None, (hearing.meeting, hearing.age_group)))


async def _list(c: HearingCall) -> None:
    for hearing in await c.repos.hearings.all(c.municipality.id):
        print(
            f"{hearing.id}\t{c.local(hearing)}\t{_what(hearing)}\t{hearing.status}\t{hearing.place}"
        )


async def _show(c: HearingCall) -> None:
    hearing = await c.hearing()
    where = f"{c.local(hearing)}, {hearing.place}"
    print(f"hearing {hearing.id}: {_what(hearing)}, {where} ({hearing.status})")
    print("village\tinvited\treached\tyes\tno\tmaybe\tnot answered")
    for v in await c.repos.hearings.live_view(hearing.id):
        unanswered = v.invited - v.yes - v.no - v.maybe
        print(f"{v.village}\t{v.invited}\t{v.reached}\t{v.yes}\t{v.no}\t{v.maybe}\t{unanswered}")
    report = await hearings.report(c.repos, hearing)
    deputies = "-" if report.deputies is None else report.deputies
    print(
        f"attendance: {report.participants} participants, {report.women} women, {deputies} deputies"
    )
    for label, groups in (("by village", report.by_village), ("by age", report.by_age_group)):
        print(f"  {label}: " + ", ".join(f"{k} {v}" for k, v in groups.items()))
    if c.args.names:
        for a in await c.repos.hearings.answered(hearing.id):
            print(f"{a.answer}\t{a.village}\t{mask_phone(a.phone)}\t{a.name}")


async def _publish(c: HearingCall) -> None:
    try:
        queued = await hearings.publish(
            c.repos, Renderer(c.config.tz), await c.hearing(), now=c.now, actor=await c.actor()
        )
    except Refused as refused:
        why = {"cancelled": "is cancelled", "past": "has already begun"}.get(refused.code, "")
        raise CliError(f"hearing {c.args.id} {why}") from None
    print(f"hearing {c.args.id}: published; {queued} invitation(s) queued")


async def _update(c: HearingCall) -> None:
    hearing = await c.hearing()
    hearing, told = await hearings.update(
        c.repos,
        Renderer(c.config.tz),
        hearing,
        now=c.now,
        starts_at=local_time(c.args.at, c.config) if c.args.at else None,
        place=_changed(c, "place", hearing.place),
        agenda=_changed(c, "agenda", hearing.agenda),
        actor=await c.actor(),
    )
    print(f"hearing {hearing.id}: {c.local(hearing)}, {hearing.place}; {told} resident(s) told")


def _changed(c: HearingCall, flag: str, old: str) -> str | None:
    """The new place or agenda: a plain ``--place`` is a new one (with the versions given
    beside it: the old ones named the old place); versions alone (``--place-ru``) change
    those languages' versions and keep the others; nothing given: None (unchanged)."""
    language = c.municipality.default_language
    given = translated_values(c.args, flag, language, required=False)
    if not given:
        return None
    if getattr(c.args, flag) is not None:
        return given[0]
    return with_versions(old, given[0].versions, language)


async def _cancel(c: HearingCall) -> None:
    told = await hearings.cancel(
        c.repos, Renderer(c.config.tz), await c.hearing(), now=c.now, actor=await c.actor()
    )
    print(f"hearing {c.args.id}: cancelled; {told} resident(s) told")


async def _checkin(c: HearingCall) -> None:
    result = await attendance.check_in(
        c.repos,
        c.municipality,
        await c.hearing(),
        now=c.now,
        phone=c.args.phone,
        code=c.args.code,
        walk_in_gender=c.args.walk_in,
        walk_in_role=c.args.role,
        window=c.config.checkin_window(),
        correction=await c.correction(),
    )
    who = result.name or "walk-in"
    print(
        f"{who}: checked in" if result.first_time else f"{who}: already checked in (counted once)"
    )


async def _uncheck(c: HearingCall) -> None:
    correction = await c.correction()
    if correction is None:
        raise CliError("taking a check-in off needs --by PHONE (staff) and --reason")
    await attendance.remove_attendee(
        c.repos,
        c.municipality,
        await c.hearing(),
        now=c.now,
        window=c.config.checkin_window(),
        correction=correction,
        phone=c.args.phone,
        code=c.args.code,
        walk_in_gender=c.args.walk_in,
        walk_in_role=c.args.role,
    )
    print(f"hearing {c.args.id}: taken off the attendance")


async def _import_attendance(c: HearingCall) -> None:
    try:
        data = c.args.file.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {c.args.file}: {exc.strerror}") from None
    try:
        new, repeated = await import_attendance(
            c.repos,
            c.municipality,
            await c.hearing(),
            data,
            now=c.now,
            window=c.config.checkin_window(),
            sheet=c.args.sheet or c.args.file.name,
            actor=await c.actor(),
            correction=await c.correction(),
        )
    except ImportRejected as rejected:
        for error in rejected.errors:
            print(f"{c.args.file}: {error}", file=sys.stderr)
        raise CliError(str(rejected)) from None
    print(f"hearing {c.args.id}: {new} counted, {repeated} already checked in")


async def _outcome(c: HearingCall) -> None:
    told = await hearings.publish_outcome(
        c.repos,
        Renderer(c.config.tz),
        await c.hearing(),
        c.args.text,
        now=c.now,
        actor=await c.actor(),
    )
    print(f"hearing {c.args.id}: outcome queued to {told} resident(s)")


async def _export(c: HearingCall) -> None:
    rows = []
    for hearing in await c.repos.hearings.all(c.municipality.id):
        if hearing.status == "cancelled" or hearing.meeting != "hearing":
            continue  # the seed's table of budget hearings; every meeting: /staff/participation
        report = await hearings.report(c.repos, hearing)
        deputies = "–" if report.deputies is None else report.deputies
        rows.append(
            [c.local(hearing)[:10], hearing.kind, report.participants, report.women, deputies]
        )
    write_export(csv_text(EXPORT_COLUMNS, rows), c.args.output)


ACTIONS = {
    "create": _create, "list": _list, "show": _show, "publish": _publish, "update": _update,
    "cancel": _cancel, "checkin": _checkin, "uncheck": _uncheck,
    "import_attendance": _import_attendance, "outcome": _outcome, "export": _export,
}  # fmt: skip
