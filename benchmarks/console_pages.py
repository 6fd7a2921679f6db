"""The console's reads of accounts, the directory and segment members, timed on a big world.

``python -m benchmarks.console_pages --url URL --workspace ID``: each read is what a console
page asks the service layer for (the page's query calls, nothing drawn), run ``--runs`` times
after one warm-up; printed with its p95 and its bare SQL: the same SELECT statements run again
on the driver's connection, every row fetched (the database's share), with the slowest one's
text. Runs against any checkout
(only service calls that every version has), so the same world gives before and after numbers.
"""

import argparse
import json
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import leadpond.wiring  # noqa: F401  (member lists read opt-outs through it)
from benchmarks.common import use_database
from leadpond.accounts import overview
from leadpond.accounts.models import PersonAccount
from leadpond.db.engine import read_only
from leadpond.kit.clock import utcnow
from leadpond.kit.pagination import PageQuery
from leadpond.reports import directory
from leadpond.rules import reads
from leadpond.segments import service as segments
from leadpond.segments.models import Segment
from leadpond.segments.reads import member_reads


@dataclass
class Statements:
    """The SELECT statements a read ran, with their parameters."""

    seen: list[tuple[str, Any]] = field(default_factory=list)


def _watch(into: Statements) -> None:
    @event.listens_for(Engine, "after_cursor_execute")
    def after(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            into.seen.append((statement, parameters))


def _bare(statements: list[tuple[str, Any]]) -> list[tuple[float, str]]:
    """Each statement run again on the driver's connection, every row fetched: the time the
    database needs for the read's questions, without leadpond around them."""
    timings = []
    with read_only() as session:
        raw = session.connection().connection.driver_connection
        for statement, parameters in statements:
            started = time.perf_counter()
            cursor = raw.cursor()
            cursor.execute(statement, parameters)
            cursor.fetchall()
            timings.append((time.perf_counter() - started, statement))
    return timings


@contextmanager
def _session() -> Iterator[Session]:
    with read_only() as session:
        yield session


def _reads(session: Session, ws: uuid.UUID) -> dict[str, Callable[[Session], object]]:
    big_account = session.execute(
        select(PersonAccount.account_id, func.count())
        .where(PersonAccount.workspace_id == ws)
        .group_by(PersonAccount.account_id)
        .order_by(func.count().desc())
        .limit(1)
    ).first()
    big_segment = session.scalar(
        select(Segment)
        .where(Segment.workspace_id == ws, Segment.level == "person")
        .order_by(Segment.member_count.desc())
        .limit(1)
    )
    page = PageQuery(limit=50)

    def people(**asked: Any) -> Callable[[Session], object]:
        return lambda s: directory.search_people(s, ws, directory.PeopleQuery(**asked), page)

    found: dict[str, Callable[[Session], object]] = {
        "directory: first page (known contacts)": people(known=True),
        "directory: first page (everyone)": people(),
        "directory: search 张": people(known=True, q="张"),
        "directory: search 成都中海": people(known=True, q="成都中海"),
        "directory: search zhonghai.com": people(known=True, q="zhonghai.com"),
        "directory: stage engaged": people(known=True, stage="engaged"),
        "directory: tag value:customer": people(known=True, tag="value:customer"),
        "directory: sort by events": people(known=True, sort="-events"),
        "directory: sort by name": people(known=True, sort="name"),
        "directory: persona bank-cio": people(known=True, persona="bank-cio"),
        "directory: persona engineer": people(known=True, persona="engineer"),
    }
    if big_account is not None:
        account_id = int(big_account[0])

        def account_page(s: Session) -> object:
            found = overview.overview(s, ws, account_id, utcnow().date())
            scores = reads.account_scores(s, ws, account_id)
            return directory.people_by_role(s, ws, found.links_by_role), scores

        found[f"account overview ({big_account[1]:,} links)"] = account_page
        found["accounts: first page"] = lambda s: overview.list_accounts(
            s, ws, name=None, page=page
        )
    if big_segment is not None:
        key = big_segment.key
        label = f"segment members {key} ({big_segment.member_count:,})"

        def members(offset: int) -> Callable[[Session], object]:
            def read(s: Session) -> object:
                current = segments.get_segment(s, ws, key)
                total, rows = segments.members(s, ws, current, limit=50, offset=offset)
                return total, member_reads(s, ws, current.level, rows)

            return read

        found[f"{label}: first page"] = members(0)
        found[f"{label}: page 1,000"] = members(50_000)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--workspace", required=True, type=uuid.UUID)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="", help="run the reads whose name contains this")
    parser.add_argument("--json", dest="as_json", action="store_true")
    args = parser.parse_args()
    use_database(args.url)
    statements = Statements()
    _watch(statements)
    with _session() as session:
        wanted = _reads(session, args.workspace)
    results = []
    for name, read in wanted.items():
        if args.only not in name:
            continue
        times, bare = [], []
        for _ in range(args.runs + 1):
            statements.seen.clear()
            started = time.perf_counter()
            with _session() as session:
                read(session)
            times.append(time.perf_counter() - started)
            ran = list(statements.seen)
            bare.append(_bare(ran))
        times, bare = times[1:], bare[1:]
        last = bare[-1]
        slowest = max(last, default=(0.0, ""))
        result = {
            "read": name,
            "p95_s": round(sorted(times)[round(0.95 * (len(times) - 1))], 3),
            "median_s": round(statistics.median(times), 3),
            "bare_sql_s": round(statistics.median(sum(t for t, _s in b) for b in bare), 3),
            "statements": len(last),
            "slowest_sql_s": round(slowest[0], 3),
            "slowest_sql": " ".join(slowest[1].split()),
        }
        results.append(result)
        print(
            f"{name:55} p95 {result['p95_s']:7.3f} s  median {result['median_s']:7.3f} s  "
            f"bare SQL {result['bare_sql_s']:7.3f} s ({result['statements']} statements)",
            flush=True,
        )
        print(f"    slowest {result['slowest_sql_s']:.3f} s: {result['slowest_sql'][:400]}")
    if args.as_json:
        print(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
