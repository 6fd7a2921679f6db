"""The demo's first duplicate scans: queued once the world is processed, so the console's
duplicates page opens with the model's suggestions, and later batches are scanned
incrementally (a workspace scans once its first full scan ran)."""

import uuid

from leadpond.accounts.tasks import SCAN_ACCOUNTS
from leadpond.db.engine import unit_of_work
from leadpond.identity.duplicates import queue_scan
from leadpond.jobs.service import enqueue


def queue_first_scans(workspace_id: uuid.UUID) -> None:
    """Queue a full people scan and an account scan (the worker runs them)."""
    with unit_of_work() as session:
        queue_scan(session, workspace_id, full=True)
        enqueue(session, SCAN_ACCOUNTS, f"{SCAN_ACCOUNTS}:demo", {}, workspace_id=workspace_id)
