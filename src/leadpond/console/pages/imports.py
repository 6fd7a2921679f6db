"""Importing people from a CSV/XLSX file: upload it, see each column with sample values and the
trait it fills (the importer's defaults, changed by hand), check it without writing or import
it — as a job of the job layer (``ingest.import_people``, what a large REST upload queues), its
progress followed on the page — then the report: rows read, imported, already there, and every
bad row with its row number, column and reason."""

import io
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import events, ui

from leadpond.config import get_settings
from leadpond.console.pages.frame import Visit, header, notify_error, visit
from leadpond.db.engine import read_only, unit_of_work
from leadpond.ingest import importer
from leadpond.ingest.import_files import cell_text, read_table
from leadpond.ingest.tasks import enqueue_import
from leadpond.jobs.models import Job, JobState
from leadpond.jobs.service import get_job
from leadpond.kit.errors import LeadpondError
from leadpond.users.permissions import IMPORTS_WRITE

POLL_S = 1.0
SAMPLE_ROWS = 3
# The targets offered for every column, with their words (any other trait may be typed).
TARGETS = {
    importer.IGNORE: "Ignore this column",
    "user_id": "User ID",
    "email": "Email",
    "phone": "Mobile",
    "name": "Name",
    "first_name": "Given name",
    "last_name": "Family name",
    "company": "Company",
    "title": "Title",
    "department": "Department",
    "industry": "Industry",
    "city": "City",
    "province": "Province",
    "uscc": "Unified social credit code",
    "wechat_unionid": "WeChat UnionID",
    "wechat_openid": "WeChat OpenID",
    "crm_id": "CRM ID",
    "timestamp": "Time of the row",
}


# A bad row's problem by the importer's code, in the user's language ({value}: the cell's text).
PROBLEMS = {
    "bad_email": "Not a valid email address: {value}",
    "bad_phone": "Not a valid mobile number: {value}",
    "bad_time": "Not a date or time: {value}",
    "time_out_of_range": "A time before 2000 or after tomorrow: {value}",
    "identifier_too_long": "An ID may hold at most 255 characters",
    "no_identifier": "No user ID, email, mobile or external ID in this row",
    "row_too_large": "The row is too large to import",
}


def problem_text(v: Visit, problem: dict[str, Any]) -> str:
    """A bad row's reason in the user's language (the importer's words for an unknown code)."""
    words = PROBLEMS.get(str(problem.get("code")))
    if words is None:
        return str(problem.get("reason", ""))
    return v._(words).format(value=problem.get("value", ""))


@dataclass
class Upload:
    """The file as uploaded, its headers and a few rows to show."""

    filename: str
    content: bytes
    headers: list[str]
    samples: list[list[str]] = field(default_factory=list)


def read_upload(filename: str, content: bytes) -> Upload:
    """The headers and the first rows of a CSV/XLSX file; 400 for a file the importer refuses."""
    headers, rows = read_table(io.BytesIO(content), filename)
    upload = Upload(PurePath(filename).name, content, headers)
    try:
        for cells in rows:
            texts = [cell_text(c) or "" for c in cells]
            if any(texts):
                upload.samples.append(texts)
            if len(upload.samples) >= SAMPLE_ROWS:
                break
    finally:
        rows.close()
    return upload


def target_options(v: Visit, header: str) -> dict[str, str]:
    """What a column may fill: the known targets, and the custom trait its header names."""
    _ = v._
    options = {key: _(words) for key, words in TARGETS.items()}
    default = importer.default_target(header)
    if default not in options:
        options[default] = _("Custom trait {name}").format(name=default)
    return options


def report_text(v: Visit, result: dict[str, Any], dry_run: bool) -> str:
    _ = v._
    words = (
        _(
            "Checked {rows} rows: {imported} would be imported, {duplicates} are there already, "
            "{rejected} have problems (nothing was written)."
        )
        if dry_run
        else _(
            "Read {rows} rows: {imported} imported, {duplicates} were there already, "
            "{rejected} have problems."
        )
    )
    return words.format(
        rows=result.get("rows", 0),
        imported=result.get("imported", 0),
        duplicates=result.get("duplicates", 0),
        rejected=len(result.get("rejected", [])),
    )


def import_page(request: Request) -> RedirectResponse | None:
    """Upload, map, check or import, and the report."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        header(v, v._("Import people"), session)
    if not v.may(IMPORTS_WRITE):
        ui.label(v._("Read only: marketers and admins import people.")).classes(
            "text-gray-600"
        ).mark("import-read-only")
        return None
    ImportScreen(v)
    return None


class ImportScreen:
    """The upload, the column mapping, the buttons, the progress and the report."""

    def __init__(self, v: Visit) -> None:
        self.v = v
        _ = v._
        self.upload: Upload | None = None
        self.targets: dict[str, ui.select] = {}
        self.timer: ui.timer | None = None
        limit = get_settings().import_max_upload_bytes
        ui.label(
            _(
                "A CSV or XLSX file with a header row; each row becomes a person (or updates one) "
                "by their user ID, email, mobile or an external ID."
            )
        ).classes("text-gray-600")
        ui.upload(
            label=_("CSV or XLSX file"),
            on_upload=self.uploaded,
            on_rejected=lambda: ui.notify(_("The file is too large"), type="negative"),
            auto_upload=True,
            max_file_size=limit,
        ).props('accept=".csv,.tsv,.txt,.xlsx,.xlsm"').classes("lp-import-upload").mark(
            "import-upload"
        )
        self.mapping = ui.column().classes("w-full")
        self.progress = ui.label().classes("lp-import-progress").mark("import-progress")
        self.report = ui.column().classes("w-full")

    async def uploaded(self, event: events.UploadEventArguments) -> None:
        _ = self.v._
        content = await event.file.read()
        try:
            self.upload = read_upload(event.file.name, content)
        except LeadpondError as exc:
            notify_error(exc, self.v._)
            return
        self.show_mapping()

    def show_mapping(self) -> None:
        _ = self.v._
        assert self.upload is not None
        self.mapping.clear()
        self.report.clear()
        self.progress.text = ""
        self.targets = {}
        with self.mapping:
            ui.label(
                _("{file}: map each column to what it holds").format(file=self.upload.filename)
            ).classes("text-lg font-semibold").mark("import-file")
            with ui.grid(columns=3).classes("w-full max-w-4xl items-center gap-2 lp-mapping"):
                ui.label(_("Column")).classes("font-semibold")
                ui.label(_("Sample values")).classes("font-semibold")
                ui.label(_("Fills")).classes("font-semibold")
                for index, name in enumerate(self.upload.headers):
                    if not name:
                        continue
                    values = [row[index] for row in self.upload.samples if index < len(row)]
                    ui.label(name)
                    ui.label(" · ".join(v for v in values if v) or "–").classes(
                        "text-gray-600 truncate"
                    )
                    self.targets[name] = (
                        ui.select(
                            target_options(self.v, name),
                            value=importer.default_target(name),
                            with_input=True,
                            new_value_mode="add-unique",
                        )
                        .props("dense options-dense")
                        .classes(f"lp-target-{index}")
                        .mark(f"target-{name}")
                    )
            with ui.row().classes("gap-2"):
                ui.button(
                    _("Check (write nothing)"), icon="fact_check", on_click=lambda: self.start(True)
                ).classes("lp-import-check").mark("import-check")
                ui.button(_("Import"), icon="upload", on_click=lambda: self.start(False)).classes(
                    "lp-import-start"
                ).mark("import-start")

    def chosen(self) -> dict[str, str]:
        """Every column's target as chosen ("" ignores a column)."""
        return {name: str(select.value or "") for name, select in self.targets.items()}

    def start(self, dry_run: bool) -> None:
        """Queue the import job (after the mapping is checked as the importer checks it)."""
        _ = self.v._
        if self.upload is None:
            return
        mapping = self.chosen()
        try:
            importer.plan_columns(self.upload.headers, mapping)
            with unit_of_work() as writing:
                ws = self.v.authorised(writing, IMPORTS_WRITE).workspace_id
                options = {"mapping": mapping, "dry_run": dry_run, "timezone": self.v.zone.key}
                job = enqueue_import(
                    writing, ws, self.upload.content, self.upload.filename, options
                )
                job_id = job.id
        except LeadpondError as exc:
            notify_error(exc, self.v._)
            return
        self.report.clear()
        self.progress.text = _("Import queued (job {id})…").format(id=job_id)
        if self.timer is not None:
            self.timer.deactivate()
        self.timer = ui.timer(POLL_S, lambda: self.poll(job_id, dry_run))

    def poll(self, job_id: int, dry_run: bool) -> None:
        with read_only() as session:
            job = get_job(session, self.v.actor.workspace_id, job_id)
        if self.follow(job, dry_run) and self.timer is not None:
            self.timer.deactivate()

    def follow(self, job: Job, dry_run: bool) -> bool:
        """Show the job's state; the report once it is done. True when it is done."""
        _ = self.v._
        if job.state == JobState.SUCCEEDED:
            self.progress.text = ""
            self.show_report(job.result or {}, dry_run)
            return True
        if job.state in (JobState.FAILED, JobState.CANCELLED):
            error = (job.last_error or "").strip().splitlines()
            self.progress.text = _("The import failed: {error}").format(
                error=error[-1] if error else job.state
            )
            return True
        if job.progress_done:
            self.progress.text = _("Importing: {rows} rows read").format(
                rows=f"{job.progress_done:,}"
            )
        return False

    def show_report(self, result: dict[str, Any], dry_run: bool) -> None:
        _ = self.v._
        self.report.clear()
        with self.report:
            ui.label(report_text(self.v, result, dry_run)).classes("text-lg lp-import-report").mark(
                "import-report"
            )
            rejected = result.get("rejected", [])
            if rejected:
                columns = [
                    {"name": k, "label": label, "field": k, "align": "left"}
                    for k, label in (
                        ("row", _("Row")),
                        ("column", _("Column")),
                        ("reason", _("Problem")),
                    )
                ]
                rows = [
                    {
                        "id": i,
                        "row": p.get("row"),
                        "column": p.get("column") or "–",
                        "reason": problem_text(self.v, p),
                    }
                    for i, p in enumerate(rejected)
                ]
                ui.table(columns=columns, rows=rows, row_key="id", pagination=20).props(
                    "flat bordered dense"
                ).classes("w-full max-w-4xl lp-import-rejected").mark("import-rejected")
