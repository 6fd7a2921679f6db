"""Duplicates: people and accounts that look like one, with the evidence; a human decides."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.accounts import duplicates as account_duplicates
from leadpond.accounts.models import Account
from leadpond.accounts.tasks import SCAN_ACCOUNTS
from leadpond.console.pages.frame import Visit, header, notify_error, visit
from leadpond.db.engine import read_only, unit_of_work
from leadpond.identity import duplicates, suggestions
from leadpond.identity.suggestions import Cursor
from leadpond.jobs.models import JobState
from leadpond.jobs.service import enqueue, fresh_key, get_job
from leadpond.kit.errors import LeadpondError
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.users.permissions import ACCOUNTS_WRITE, IDENTITY_WRITE, Permission

PAGE_SIZE = 30

# What each comparison and level is called on screen (translated in the console catalog).
COMPARISON_NAMES = {
    "name": "Name",
    "birthday": "Birthday",
    "address": "Address",
    "city": "City",
    "postcode": "Postcode",
    "phone": "Phone",
    "email_local": "Email name",
    "company": "Company",
    "title": "Job title",
    "id_number": "ID number",
    "region": "Region",
}
LEVEL_NAMES = {
    "exact": "same",
    "one_typo": "one typo apart",
    "similar": "similar",
    "somewhat_similar": "somewhat similar",
    "different": "different",
    "swapped": "surname and given name swapped",
    "surname_exact_given_similar": "same surname, similar given name",
    "given_exact_surname_similar": "same given name, similar surname",
    "both_similar": "similar surname and given name",
    "surname_exact": "same surname only",
    "same_normalised_name": "same name once normalised",
    "english_name_is_pinyin": "English name is the pinyin of the Chinese name",
    "same_name_without_region": "same name, one without its city",
    "short_name_of": "the short name of the other",
    "english_agency_name": "English name of an agency of that city",
}


def duplicates_page(request: Request) -> RedirectResponse | None:
    """The review queues: people first, then accounts."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        header(v, _("Duplicates"), session)
        with ui.tabs().mark("duplicate-tabs") as tabs:
            people_tab = ui.tab(_("People"))
            accounts_tab = ui.tab(_("Accounts"))
        with ui.tab_panels(tabs, value=people_tab).classes("w-full"):
            with ui.tab_panel(people_tab):
                SuggestionQueue(v, PEOPLE).draw(session)
            with ui.tab_panel(accounts_tab):
                SuggestionQueue(v, ACCOUNTS).draw(session)
    return None


def evidence_text(v: Visit, evidence: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(text, colour) of each comparison: green for evidence for, red against."""
    _ = v._
    chips = []
    for item in evidence:
        name = _(COMPARISON_NAMES.get(item["comparison"], item["comparison"]))
        level = _(LEVEL_NAMES.get(item["level"], item["level"]))
        weight = item.get("weight")
        text = f"{name}: {level}" + (f" ({weight:+.1f})" if weight is not None else "")
        chips.append((text, "negative" if weight is not None and weight < 0 else "positive"))
    return chips


def follow_job(v: Visit, job_id: int, done: Callable[[], None]) -> None:
    """A line that tracks a scan job until it finishes, then redraws the queue."""
    _ = v._
    label = ui.label(_("Scan queued (job {id})…").format(id=job_id)).mark("scan-progress")

    def poll() -> None:
        with read_only() as session:
            job = get_job(session, v.actor.workspace_id, job_id)
        if job.state == JobState.SUCCEEDED:
            label.set_text(_("Scan finished"))
            timer.deactivate()
            done()
        elif job.state in (JobState.FAILED, JobState.CANCELLED):
            label.set_text(_("The scan failed: {error}").format(error=job.last_error or ""))
            timer.deactivate()
        elif job.progress_message:
            label.set_text(f"{job.progress_message}: {job.progress_done or 0:,}")

    timer = ui.timer(1.0, poll)


@dataclass(frozen=True)
class QueueKind:
    """What differs between the people queue and the accounts queue."""

    mark: str  # "suggestion" / "account-suggestion": the test marks of cards and counters
    permission: Permission
    link: str  # the console path a pair's names link to
    count_text: str
    scan_text: str
    scan_mark: str
    apart_text: str
    listing: Callable[[Session, Any, int, Cursor | None], tuple[int, list[Any]]]
    pair: Callable[[Any], tuple[int, int]]
    names: Callable[[Session, Any, set[int]], dict[int, str]]
    accept: Callable[[Session, Any, int, str], object]
    reject: Callable[[Session, Any, int, str], object]
    queue_scan: Callable[[Session, Any], int]


class SuggestionQueue:
    """Pending suggestions of one kind, best first, a page at a time (keyset)."""

    def __init__(self, v: Visit, kind: QueueKind) -> None:
        self.v = v
        self.kind = kind
        self.cursor: str | None = None
        self.list = ui.column().classes("w-full gap-2")

    def draw(self, session: Session) -> None:
        _ = self.v._
        with ui.row().classes("items-center gap-3"):
            self.summary = (
                ui.label().classes(f"lp-{self.kind.mark}-count").mark(f"{self.kind.mark}-count")
            )
            if self.v.may(self.kind.permission):
                ui.button(_(self.kind.scan_text), icon="search", on_click=self.scan).mark(
                    self.kind.scan_mark
                )
            self.more = ui.button(_("More"), on_click=self.load_more).props("flat")
        self.status = ui.row()
        self.list.move(target_index=-1)
        self.show(session, reset=True)

    def show(self, session: Session, *, reset: bool) -> None:
        _ = self.v._
        ws = self.v.actor.workspace_id
        after = suggestions.decode_cursor(self.cursor) if self.cursor and not reset else None
        total, page = self.kind.listing(session, ws, PAGE_SIZE, after)
        names = self.kind.names(session, ws, {i for s in page for i in self.kind.pair(s)})
        if reset:
            self.list.clear()
        self.summary.text = _(self.kind.count_text).format(total=f"{total:,}")
        with self.list:
            for found in page:
                self._card(found, names)
        self.cursor = suggestions.encode_cursor(page[-1]) if len(page) == PAGE_SIZE else None
        self.more.set_visibility(self.cursor is not None)

    def _card(self, found: Any, names: dict[int, str]) -> None:
        _ = self.v._
        kind = self.kind
        with ui.card().classes(f"w-full lp-{kind.mark}").mark(f"{kind.mark}-{found.id}") as card:
            with ui.row().classes("items-center gap-4"):
                ui.label(f"{found.score:.2f}").classes("text-lg font-bold").mark("score")
                for other in kind.pair(found):
                    ui.link(names.get(other, f"#{other}"), f"{kind.link}/{other}")
                if self.v.may(kind.permission):
                    ui.button(_("Merge"), on_click=lambda: self.decide(found.id, True, card))
                    ui.button(
                        _(kind.apart_text), on_click=lambda: self.decide(found.id, False, card)
                    ).props("flat")
            with ui.row().classes("gap-1"):
                for text, colour in evidence_text(self.v, found.evidence or []):
                    ui.badge(text, color=colour).classes("lp-evidence").mark("evidence")

    def decide(self, suggestion_id: int, accept: bool, card: ui.card) -> None:
        try:
            with unit_of_work() as session:
                actor = self.v.authorised(session, self.kind.permission)
                decide = self.kind.accept if accept else self.kind.reject
                decide(session, actor.workspace_id, suggestion_id, f"console:{actor.role}")
        except LeadpondError as exc:
            notify_error(exc)
            return
        card.delete()

    def scan(self) -> None:
        try:
            with unit_of_work() as session:
                actor = self.v.authorised(session, self.kind.permission)
                job_id = self.kind.queue_scan(session, actor.workspace_id)
        except LeadpondError as exc:
            notify_error(exc)
            return
        self.status.clear()
        with self.status:
            follow_job(self.v, job_id, self.reload)

    def reload(self) -> None:
        with read_only() as session:
            self.show(session, reset=True)

    def load_more(self) -> None:
        with read_only() as session:
            self.show(session, reset=False)


def _scan_people(session: Session, workspace_id: Any) -> int:
    job_id: int = duplicates.queue_scan(session, workspace_id, full=True).id
    return job_id


def _scan_accounts(session: Session, workspace_id: Any) -> int:
    key = f"{SCAN_ACCOUNTS}:console:{fresh_key()}"
    return enqueue(session, SCAN_ACCOUNTS, key, {}, workspace_id=workspace_id).id


def _account_names(session: Session, workspace_id: Any, ids: set[int]) -> dict[int, str]:
    rows = session.execute(
        select(Account.id, Account.name).where(owned(Account, workspace_id), Account.id.in_(ids))
    ).all()
    return {account_id: name for account_id, name in rows}


def _names(session: Session, workspace_id: Any, ids: set[int]) -> dict[int, str]:
    rows = session.execute(
        select(Person.id, Person.traits).where(owned(Person, workspace_id), Person.id.in_(ids))
    ).all()
    found = {}
    for person_id, traits in rows:
        name = (traits or {}).get("name") or " ".join(
            str(traits.get(k)) for k in ("first_name", "last_name") if (traits or {}).get(k)
        )
        found[person_id] = f"{name or '#' + str(person_id)} (#{person_id})"
    return found


PEOPLE = QueueKind(
    mark="suggestion",
    permission=IDENTITY_WRITE,
    link="/people",
    count_text="{total} possible duplicates",
    scan_text="Scan people now",
    scan_mark="scan",
    apart_text="Not the same person",
    listing=lambda s, ws, n, after: suggestions.list_suggestions(s, ws, "pending", n, after),
    pair=lambda found: (found.person_a_id, found.person_b_id),
    names=_names,
    accept=suggestions.accept,
    reject=suggestions.reject,
    queue_scan=_scan_people,
)
ACCOUNTS = QueueKind(
    mark="account-suggestion",
    permission=ACCOUNTS_WRITE,
    link="/accounts",
    count_text="{total} accounts may be one company",
    scan_text="Scan accounts now",
    scan_mark="scan-accounts",
    apart_text="Not the same company",
    listing=lambda s, ws, n, after: account_duplicates.list_account_suggestions(
        s, ws, "pending", n, after
    ),
    pair=lambda found: (found.account_a_id, found.account_b_id),
    names=_account_names,
    accept=account_duplicates.accept,
    reject=account_duplicates.reject,
    queue_scan=_scan_accounts,
)
