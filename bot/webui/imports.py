"""The imports page: the budget and the register (households, residents) from a CSV file.

Upload, then a preview (what would be added or changed, or every bad line and its reason
in the staff member's language), then confirm; nothing is imported before. Between the
preview and the confirmation the file waits in memory (:class:`Uploads`), for this staff
member only and for a while: a restart or a late confirmation asks for the file again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiohttp import web

from bot.core.services import import_desk
from bot.core.services.audit import Actor
from bot.core.services.budget_import import BudgetReport
from bot.core.services.csv_input import ImportRejected, LineError
from bot.core.services.register_import import ImportReport
from bot.webui.base import ROOT, VIA, console_of, language, page, redirect, staff, text
from bot.webui.texts import texts

#: a file waits this long for its confirmation
KEPT = timedelta(minutes=30)
#: files waiting at most (the oldest goes first)
MOST_WAITING = 20
#: bad lines shown at most (the count says how many more)
MOST_SHOWN = 500


@dataclass(frozen=True)
class Upload:
    staff_id: int
    kind: str
    data: bytes
    until: datetime


@dataclass
class Uploads:
    """Checked files waiting for their confirmation, by a random token."""

    waiting: dict[str, Upload] = field(default_factory=dict)

    def keep(self, upload: Upload) -> str:
        while len(self.waiting) >= MOST_WAITING:
            self.waiting.pop(next(iter(self.waiting)))
        token = secrets.token_urlsafe(16)
        self.waiting[token] = upload
        return token

    def take(self, token: str, staff_id: int, now: datetime) -> Upload | None:
        upload = self.waiting.get(token)
        if upload is None or upload.staff_id != staff_id:
            return None
        del self.waiting[token]
        return upload if upload.until > now else None


UPLOADS = web.AppKey("uploads", Uploads)


def add_routes(app: web.Application) -> None:
    app[UPLOADS] = Uploads()
    add = app.router.add_route
    add("GET", "/imports", import_form, name="imports")
    add("POST", "/imports", import_check, name="import_check")
    add("POST", "/imports/confirm", import_confirm, name="import_confirm")


def _reasons(request: web.Request, errors: list[LineError]) -> list[tuple[int, str]]:
    """Each bad line's reason in the reader's language (English if it has no code)."""
    t = texts(language(request))
    shown = []
    for e in errors[:MOST_SHOWN]:
        said = t.get("import_" + e.code) if e.code else None
        shown.append((e.line, said.format(**e.args) if said else e.reason))
    return shown


def _show(
    request: web.Request, *, status: int = 200, kind: str = "",
    report: BudgetReport | ImportReport | None = None, token: str = "",
    bad: list[tuple[int, str]] | None = None, more: int = 0, error: str | None = None,
) -> web.Response:  # fmt: skip
    return page(request, "imports", status=status, kinds=import_desk.KINDS, kind=kind,
                report=report, token=token, bad=bad or [], more=more, error=error)  # fmt: skip


def _rejected(request: web.Request, kind: str, rejected: ImportRejected) -> web.Response:
    return _show(
        request, status=400, kind=kind, bad=_reasons(request, rejected.errors),
        more=max(0, len(rejected.errors) - MOST_SHOWN),
        error=text(request, "import_rejected", count=len(rejected.errors)),
    )  # fmt: skip


async def import_form(request: web.Request) -> web.Response:
    return _show(request)


async def import_check(request: web.Request) -> web.Response:
    console = console_of(request)
    posted = await request.post()
    kind = posted.get("kind")
    upload = posted.get("file")
    if kind not in import_desk.KINDS:
        return _show(request, status=400, error=text(request, "import_pick_kind"))
    data = upload.file.read() if isinstance(upload, web.FileField) else b""
    if not data:
        return _show(request, status=400, kind=kind, error=text(request, "import_no_file"))
    now = console.clock.now()
    try:
        report = await import_desk.check(console.repos, console.municipality, kind, data, now=now)
    except ImportRejected as rejected:
        return _rejected(request, kind, rejected)
    uploads = request.app[UPLOADS]
    token = uploads.keep(Upload(staff(request).resident.id, kind, data, now + KEPT))
    return _show(request, kind=kind, report=report, token=token)


async def import_confirm(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    token = (await request.post()).get("token")
    now = console.clock.now()
    member = staff(request).resident
    upload = request.app[UPLOADS].take(token, member.id, now) if isinstance(token, str) else None
    if upload is None:
        return _show(request, status=400, error=text(request, "import_expired"))
    try:
        report = await import_desk.run(
            console.repos, console.municipality, upload.kind, upload.data, now=now,
            actor=Actor.of(member, VIA),
        )  # fmt: skip
    except ImportRejected as rejected:
        return _rejected(request, upload.kind, rejected)
    if isinstance(report, BudgetReport):
        notice = text(request, "import_done_budget", year=report.year, version=report.version)
    else:
        notice = text(request, "import_done_register", created=report.created,
                      updated=report.updated, unchanged=report.unchanged)  # fmt: skip
    return redirect(request, ROOT + "imports", notice=notice)
