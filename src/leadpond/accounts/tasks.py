"""Account jobs: scanning a workspace's accounts for ones that look like one company."""

from typing import Any

from leadpond.accounts.duplicates import scan_accounts
from leadpond.db.engine import unit_of_work
from leadpond.jobs.registry import JobContext

SCAN_ACCOUNTS = "accounts.duplicates"


def scan_accounts_task(ctx: JobContext) -> dict[str, Any]:
    """Compare the workspace's accounts and queue likely duplicates for review."""
    ctx.progress(0, None, "comparing accounts")
    with unit_of_work(ctx.url) as session:
        suggested = scan_accounts(session, ctx.workspace_id)
    return {"suggested": suggested}
