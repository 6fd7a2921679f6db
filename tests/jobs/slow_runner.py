"""A job runner process for the kill test: its ``tests.slow`` handler reports progress, then
hangs on the first attempt (until killed) and finishes on any later one."""

import sys
import time
from typing import Any

import leadpond.db.models  # noqa: F401  (every mapper known, as leadpond.wiring does)
from leadpond.jobs import registry
from leadpond.jobs.registry import JobContext, JobKind
from leadpond.jobs.runner import JobRunner

SLOW = "tests.slow"


def slow(ctx: JobContext) -> dict[str, Any]:
    ctx.progress(1, 2, "started")
    if ctx.attempt == 1:
        time.sleep(120)
    return {"finished_on_attempt": ctx.attempt}


if __name__ == "__main__":
    registry.install([JobKind(SLOW, slow, startable=False)])
    JobRunner(lease_s=float(sys.argv[1])).run()
