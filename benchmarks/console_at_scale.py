"""Every console page at scale, next to the bare SQL of its question (issue #20).

``python -m benchmarks.console_at_scale WORLD [--calls 5]``: WORLD is a world built by
``benchmarks.scale_world`` (a SQLite file path or a PostgreSQL database name). A real
``leadpond serve --no-worker`` serves it; the script logs in through the console's own form
and times each page's GET (the console pages read their numbers while rendering) or the REST
call the page makes, one warm-up then ``--calls`` timed calls, and the one SQL query that
answers the page's question, run directly on the same database the same number of times.
Budget: every page under 1 s (p95). Prints a table; writes
``benchmarks/results/console_at_scale-<backend>.json``.
"""

import argparse
import json
import math
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import Connection

from benchmarks.common import PG_ADMIN_URL, live_server, machine, use_database
from leadpond.db.engine import get_engine, is_postgres, unit_of_work
from leadpond.kit.clock import utcnow
from leadpond.rules.vocabulary import personas
from leadpond.users import service as users

RESULTS = Path(__file__).resolve().parent / "results"
BUDGET_SECONDS = 1.0
PAGE_SIZE = 50
BENCH_USER = "console-bench@leadpond.dev"
BENCH_PASSWORD = "console-bench-password-1"


@dataclass
class World:
    """What the pages are asked about: the largest of each thing in the world."""

    url: str
    postgres: bool
    workspace_id: uuid.UUID
    person_id: int
    account_id: int
    segment_key: str
    segment_id: int
    journey_key: str | None
    tag: str
    stage: str
    # The stage with the fewest known contacts (most people on a tie): its console default view
    # (known contacts only) is the one no index of the whole stage answers.
    anonymous_stage: str
    persona: str | None
    company_prefix: str
    domain: str
    content: tuple[int, str] | None  # the most viewed content item: id, key

    @property
    def w(self) -> str:
        return str(self.workspace_id) if self.postgres else self.workspace_id.hex

    def trait(self, key: str) -> str:
        return f"traits->>'{key}'" if self.postgres else f"json_extract(traits, '$.{key}')"


@dataclass
class PageCheck:
    """One page: the HTTP GET the console makes and the bare SQL of its question."""

    name: str
    path: str
    sql: str
    params: dict[str, Any]


def p95(seconds: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(seconds)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _one(connection: Connection, sql: str, **params: Any) -> Any:
    return connection.execute(text(sql), params).first()


def discover(url: str) -> World:
    """The world's workspace and the largest account, segment, person; a tag, stage, persona."""
    use_database(url)
    engine = get_engine(url)
    postgres = is_postgres(engine)
    with engine.connect() as c:
        workspace = _one(c, "SELECT workspace_id, count(*) FROM person GROUP BY 1 ORDER BY 2 DESC")
        raw = workspace[0]
        workspace_id = raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))
        w = str(workspace_id) if postgres else workspace_id.hex
        person = _one(
            c,
            "SELECT id FROM person WHERE workspace_id = :w AND merged_into_id IS NULL "
            "ORDER BY event_count DESC LIMIT 1",
            w=w,
        )
        account = _one(
            c,
            "SELECT account_id, count(*) FROM person_account WHERE workspace_id = :w "
            "GROUP BY account_id ORDER BY 2 DESC LIMIT 1",
            w=w,
        )
        name = _one(c, "SELECT name, domain FROM account WHERE id = :a", a=account[0])
        segment = _one(
            c,
            "SELECT key, id FROM segment WHERE workspace_id = :w AND level = 'person' "
            "ORDER BY member_count DESC LIMIT 1",
            w=w,
        )
        tag = _one(
            c,
            "SELECT tag FROM person_tag WHERE workspace_id = :w GROUP BY tag "
            "ORDER BY count(*) DESC LIMIT 1",
            w=w,
        )
        stage = _one(
            c,
            "SELECT stage FROM person_stage WHERE workspace_id = :w GROUP BY stage "
            "ORDER BY count(*) DESC LIMIT 1",
            w=w,
        )
        known = " OR ".join(
            f"{trait} IS NOT NULL"
            for trait in (
                (f"traits->>'{k}'" if postgres else f"json_extract(traits, '$.{k}')")
                for k in ("name", "email", "phone")
            )
        )
        anonymous_stage = _one(
            c,
            "SELECT stage FROM person WHERE workspace_id = :w AND merged_into_id IS NULL "
            "AND stage IS NOT NULL GROUP BY stage "
            f"ORDER BY sum(CASE WHEN {known} THEN 1 ELSE 0 END), count(*) DESC LIMIT 1",
            w=w,
        )
        content = _one(
            c,
            "SELECT i.id, i.key FROM content_item i JOIN content_tally t "
            "ON t.workspace_id = i.workspace_id AND t.content_key = i.key "
            "WHERE i.workspace_id = :w GROUP BY i.id, i.key ORDER BY sum(t.views) DESC LIMIT 1",
            w=w,
        )
    with unit_of_work() as session:
        persona_keys = [key for key, _ in personas(session, workspace_id)]
    return World(
        url=url,
        postgres=postgres,
        workspace_id=workspace_id,
        person_id=int(person[0]),
        account_id=int(account[0]),
        segment_key=str(segment[0]),
        segment_id=int(segment[1]),
        journey_key=None,
        tag=str(tag[0]),
        stage=str(stage[0]),
        anonymous_stage=str(anonymous_stage[0]),
        persona=persona_keys[0] if persona_keys else None,
        # A company's start as a marketer types it: its city and the start of its name (a city
        # alone, 上海, names no company and found nobody in every version).
        company_prefix=str(name[0])[:4],
        domain=str(name[1] or "example.cn"),
        content=(int(content[0]), str(content[1])) if content else None,
    )


def _funnel_sql() -> str:
    """The funnel's reached people per stage, from the rollup the rules keep
    (``rules.stage_days``)."""
    return (
        "SELECT stage, sum(people) FROM stage_reach_day WHERE workspace_id = :w "
        "AND day >= :first AND day <= :last AND previous_day < :first GROUP BY stage"
    )


def checks(world: World) -> list[PageCheck]:
    """The pages, each with its GET and its question's SQL."""
    today = utcnow().date()
    live = "workspace_id = :w AND merged_into_id IS NULL"
    first_page = f"SELECT id FROM person WHERE {live} ORDER BY last_seen_at DESC, id DESC LIMIT 50"
    w = {"w": world.w}
    name, email, phone = world.trait("name"), world.trait("email"), world.trait("phone")

    def days(n: int) -> dict[str, Any]:
        low = datetime.combine(today - timedelta(days=n - 1), datetime.min.time())
        high = datetime.combine(today + timedelta(days=1), datetime.min.time())
        return {
            **w,
            "low": low.isoformat(sep=" "),
            "high": high.isoformat(sep=" "),
            "first": low.date(),
            "last": today,
        }

    def dashboard(n: int) -> PageCheck:
        start = (today - timedelta(days=n - 1)).isoformat()
        path = f"/api/v1/dashboard?start={start}&end={today.isoformat()}"
        return PageCheck(f"dashboard, {n} days (REST)", path, _funnel_sql(), days(n))

    search = "/api/v1/search/people"
    pages = [
        PageCheck("dashboard page (a year)", "/console/", _funnel_sql(), days(365)),
        dashboard(7),
        dashboard(90),
        dashboard(365),
        PageCheck("directory page", "/console/people", first_page, w),
        PageCheck(
            "directory: known only",
            f"{search}?known=true",
            f"SELECT id FROM person WHERE {live} AND ({name} IS NOT NULL OR {email} IS NOT "
            f"NULL OR {phone} IS NOT NULL) ORDER BY last_seen_at DESC, id DESC LIMIT 50",
            w,
        ),
        PageCheck(
            "directory: search 张",
            f"{search}?q=张",
            f"SELECT id FROM person WHERE {live} AND {name} LIKE :q "
            "ORDER BY last_seen_at DESC, id DESC LIMIT 50",
            {**w, "q": "张%"},
        ),
        PageCheck(
            f"directory: search company {world.company_prefix}",
            f"{search}?q={world.company_prefix}",
            "SELECT pa.person_id FROM account a JOIN person_account pa ON pa.account_id = a.id "
            "WHERE a.workspace_id = :w AND a.name LIKE :q LIMIT 50",
            {**w, "q": f"{world.company_prefix}%"},
        ),
        PageCheck(
            f"directory: search domain {world.domain}",
            f"{search}?q={world.domain}",
            "SELECT person_id FROM identifier WHERE workspace_id = :w AND type = 'email' "
            "AND value LIKE :q LIMIT 50",
            {**w, "q": f"%@{world.domain}"},
        ),
        PageCheck(
            f"directory: stage {world.stage}",
            f"{search}?stage={world.stage}",
            f"SELECT id FROM person WHERE {live} AND stage = :stage "
            "ORDER BY last_seen_at DESC, id DESC LIMIT 50",
            {**w, "stage": world.stage},
        ),
        PageCheck(
            f"directory: stage {world.stage}, known only (the console's default)",
            f"{search}?stage={world.stage}&known=true",
            f"SELECT id FROM person WHERE {live} AND stage = :stage "
            f"AND ({name} IS NOT NULL OR {email} IS NOT NULL OR {phone} IS NOT NULL) "
            "ORDER BY last_seen_at DESC, id DESC LIMIT 50",
            {**w, "stage": world.stage},
        ),
        PageCheck(
            f"directory: stage {world.anonymous_stage}, known only",
            f"{search}?stage={world.anonymous_stage}&known=true",
            f"SELECT id FROM person WHERE {live} AND stage = :stage "
            f"AND ({name} IS NOT NULL OR {email} IS NOT NULL OR {phone} IS NOT NULL) "
            "ORDER BY last_seen_at DESC, id DESC LIMIT 50",
            {**w, "stage": world.anonymous_stage},
        ),
        PageCheck(
            f"directory: tag {world.tag}",
            f"{search}?tag={world.tag}",
            "SELECT p.id FROM person_tag t JOIN person p ON p.id = t.person_id "
            "WHERE t.workspace_id = :w AND t.tag = :tag "
            "ORDER BY p.last_seen_at DESC, p.id DESC LIMIT 50",
            {**w, "tag": world.tag},
        ),
        PageCheck(
            "directory: sort by name",
            f"{search}?sort=name",
            f"SELECT id FROM person WHERE {live} ORDER BY lower({name}), id LIMIT 50",
            w,
        ),
        PageCheck(
            "directory: sort by events",
            f"{search}?sort=-events",
            f"SELECT id FROM person WHERE {live} ORDER BY event_count DESC, id DESC LIMIT 50",
            w,
        ),
        PageCheck(
            "directory: page 1000",
            f"{search}?offset={999 * PAGE_SIZE}&limit={PAGE_SIZE}",
            f"{first_page} OFFSET {999 * PAGE_SIZE}",
            w,
        ),
        PageCheck(
            "person 360",
            f"/console/people/{world.person_id}",
            "SELECT id FROM event WHERE workspace_id = :w AND person_id = :p "
            "ORDER BY timestamp DESC LIMIT 50",
            {**w, "p": world.person_id},
        ),
        PageCheck(
            "account list",
            "/console/accounts",
            "SELECT id FROM account WHERE workspace_id = :w ORDER BY name, id LIMIT 50",
            w,
        ),
        PageCheck(
            "account overview (largest)",
            f"/console/accounts/{world.account_id}",
            "SELECT pa.role, count(DISTINCT pa.person_id), count(e.id) FROM person_account pa "
            "LEFT JOIN event e ON e.person_id = pa.person_id AND e.timestamp >= :low "
            "WHERE pa.account_id = :a GROUP BY pa.role",
            {**days(84), "a": world.account_id},
        ),
        PageCheck(
            "segments list",
            "/console/segments",
            "SELECT key, member_count FROM segment WHERE workspace_id = :w ORDER BY key",
            w,
        ),
        PageCheck(
            f"segment members ({world.segment_key})",
            f"/console/segments/{world.segment_key}",
            "SELECT m.person_id FROM segment_member m JOIN person p ON p.id = m.person_id "
            "WHERE m.segment_id = :s ORDER BY m.since DESC, m.person_id DESC LIMIT 50",
            {"s": world.segment_id},
        ),
        PageCheck(
            "journeys list",
            "/console/journeys",
            "SELECT journey_key, state, count(*) FROM journey_enrollment WHERE workspace_id = :w "
            "GROUP BY journey_key, state",
            w,
        ),
        PageCheck(
            "content library",
            "/console/content",
            "SELECT id FROM content_item WHERE workspace_id = :w ORDER BY updated_at DESC LIMIT 50",
            w,
        ),
        PageCheck(
            "forms",
            "/console/forms",
            "SELECT form_id, count(*) FROM form_submission WHERE workspace_id = :w "
            "GROUP BY form_id",
            w,
        ),
        PageCheck(
            "events",
            "/console/events",
            "SELECT event_id, count(*) FROM event_registration WHERE workspace_id = :w "
            "GROUP BY event_id",
            w,
        ),
        PageCheck(
            "duplicates",
            "/console/duplicates",
            "SELECT id FROM merge_suggestion WHERE workspace_id = :w AND status = 'pending' "
            "ORDER BY score DESC, id LIMIT 50",
            w,
        ),
        PageCheck(
            "settings",
            "/console/settings",
            "SELECT user_id, role FROM membership WHERE workspace_id = :w",
            w,
        ),
    ]
    # Pages whose question is not one query (configuration, builders' pickers, reports made of
    # several reads): timed as pages, the bare SQL left out.
    for name, path in (
        ("segment builder (new)", "/console/segments/new"),
        ("journey builder (new)", "/console/journeys/new"),
        ("playbook", "/console/playbook"),
        ("playbook history", "/console/playbook/history"),
        ("channels", "/console/channels"),
        ("templates", "/console/templates"),
        ("acquisition", "/console/acquisition"),
        ("import", "/console/import"),
        ("content coverage", "/console/content/coverage"),
    ):
        pages.append(PageCheck(name, path, "", w))
    pages.append(
        PageCheck(
            "content authors",
            "/console/content/authors",
            "SELECT i.author, sum(t.views), count(DISTINCT t.person_id) FROM content_tally t "
            "JOIN content_item i ON i.workspace_id = t.workspace_id AND i.key = t.content_key "
            "WHERE t.workspace_id = :w GROUP BY i.author",
            w,
        )
    )
    if world.content is not None:
        item_id, key = world.content
        pages.append(
            PageCheck(
                f"content stats ({key}, most viewed)",
                f"/console/content/{item_id}/stats",
                "SELECT person_id, sum(views) FROM content_tally "
                "WHERE workspace_id = :w AND content_key = :k GROUP BY person_id",
                {**w, "k": key},
            )
        )
    if world.persona is not None:
        pages.insert(
            12,
            PageCheck(
                f"directory: persona {world.persona}",
                f"{search}?persona={world.persona}",
                "",  # a playbook condition: leadpond's compiler writes its SQL
                w,
            ),
        )
    if world.journey_key is not None:
        pages.append(
            PageCheck(
                f"journey report ({world.journey_key})",
                f"/console/journeys/{world.journey_key}",
                "SELECT step, state, count(*) FROM journey_enrollment WHERE workspace_id = :w "
                "AND journey_key = :j GROUP BY step, state",
                {**w, "j": world.journey_key},
            )
        )
        pages.append(
            PageCheck(
                f"journey builder ({world.journey_key})",
                f"/console/journeys/{world.journey_key}/edit",
                "",
                w,
            )
        )
    return pages


def console_login(url: str, workspace_id: uuid.UUID) -> None:
    """A console user who administers the world's workspace (added once)."""
    use_database(url)
    with unit_of_work() as session:
        user = users.find_user(session, BENCH_USER)
        if user is None:
            user = users.create_user(session, BENCH_USER, "bench", BENCH_PASSWORD, "en")
        users.grant(session, user.id, workspace_id, "admin")


def timed(call: Callable[[], object], calls: int) -> list[float]:
    """One warm-up, then ``calls`` timed calls (seconds)."""
    call()
    seconds = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def measure(world: World, calls: int, only: str | None) -> list[dict[str, Any]]:
    """Each page's p95 over HTTP and its SQL's p95 on the database."""
    console_login(world.url, world.workspace_id)
    rows: list[dict[str, Any]] = []
    engine = get_engine(world.url)
    with (
        live_server(world.url, start_seconds=600) as base,
        httpx.Client(base_url=base, timeout=300) as client,
    ):
        form = {"email": BENCH_USER, "password": BENCH_PASSWORD}
        login = client.post("/console/login", data=form, follow_redirects=False)
        if login.headers.get("location") != "/console/":
            raise RuntimeError(f"console login failed: {login.status_code} {login.headers}")
        journeys = client.get("/api/v1/journeys").json()["items"]
        world.journey_key = str(journeys[0]["key"]) if journeys else None

        for page in checks(world):
            if only and only not in page.name:
                continue

            def get(path: str = page.path) -> None:
                response = client.get(path)
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")

            http = timed(get, calls)
            sql: list[float] = []
            if page.sql:
                with engine.connect() as connection:
                    sql = timed(
                        lambda c=connection, p=page: c.execute(text(p.sql), p.params).all(), calls
                    )
            row = {
                "page": page.name,
                "path": page.path,
                "p95_s": round(p95(http), 3),
                "median_s": round(sorted(http)[len(http) // 2], 3),
                "sql_p95_s": round(p95(sql), 4) if sql else None,
                "sql": page.sql or None,
                "under_budget": p95(http) < BUDGET_SECONDS,
            }
            print(f"  {page.name}: {row['p95_s']} s (SQL {row['sql_p95_s']})", flush=True)
            rows.append(row)
    return rows


def world_url(world: str) -> str:
    """The SQLAlchemy URL of a SQLite path or a PostgreSQL database name."""
    if "/" in world or world.endswith(".db"):
        return f"sqlite:///{Path(world).resolve()}"
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{world}"


def _table(rows: list[dict[str, Any]], backend: str) -> Table:
    table = Table(title=f"console at scale ({backend}), p95 of the page vs its bare SQL")
    for column in ("page", "page p95", "SQL p95", "< 1 s"):
        table.add_column(column, justify="left" if column == "page" else "right")
    for row in rows:
        sql = "—" if row["sql_p95_s"] is None else f"{row['sql_p95_s']:.3f} s"
        verdict = "[green]yes[/]" if row["under_budget"] else "[red]no[/]"
        table.add_row(row["page"], f"{row['p95_s']:.3f} s", sql, verdict)
    return table


def main(argv: list[str] | None = None) -> int:
    """Measure every page of the world and write the JSON; exit 1 when a page is over budget."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("world", help="a SQLite file path or a PostgreSQL database name")
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--only", help="only pages whose name contains this")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    world = discover(world_url(args.world))
    backend = "postgresql" if world.postgres else "sqlite"
    rows = measure(world, args.calls, args.only)
    with get_engine(world.url).connect() as connection:
        people = connection.execute(
            text("SELECT count(*) FROM person WHERE workspace_id = :w AND merged_into_id IS NULL"),
            {"w": world.w},
        ).scalar()
    document = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": backend,
        "world": args.world,
        "live_people": people,
        "calls": args.calls,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
        "pages": rows,
    }
    output = args.output or RESULTS / f"console_at_scale-{backend}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    Console(width=150).print(_table(rows, backend))
    print(f"written to {output}")
    return 0 if all(row["under_budget"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
