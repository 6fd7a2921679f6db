"""Every job kind leadpond runs: importing this module registers each domain's handlers."""

import leadpond.identity.tasks
import leadpond.ingest.tasks
import leadpond.playbooks.tasks  # noqa: F401
from leadpond.jobs.registry import kind_of, startable_kinds

__all__ = ["kind_of", "startable_kinds"]
