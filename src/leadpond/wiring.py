"""How the domains are put together, written once: the pipeline's stages in the order data flows,
who recomputes what when people change shape (in order), and the job kinds leadpond runs.

Importing this module installs the hooks and job kinds; the app, the CLI, the worker and the
tests import it. A new domain adds its stage, handler or job kind here and nowhere else.
"""

from collections.abc import Callable

import leadpond.db.models  # noqa: F401  (every mapper known before the first batch or job)
from leadpond.accounts.service import link_batch, relink_people
from leadpond.accounts.tasks import SCAN_ACCOUNTS, scan_accounts_task
from leadpond.acquisition import service as acquisition_links
from leadpond.acquisition.wechat_codes import WECHAT_HANDLERS
from leadpond.acquisition.wechat_unionid import FETCH_UNIONID, fetch_unionid_task
from leadpond.channels import wechat_callback
from leadpond.channels.consent import opted_out_people
from leadpond.content import service as content_service
from leadpond.engage import events as engage_events
from leadpond.engage.events_tasks import close_task, confirm_task, remind_task
from leadpond.engage.forms_consent import record_consents
from leadpond.flow import hooks
from leadpond.flow.batch import Batch
from leadpond.identity.service import resolve_batch
from leadpond.identity.suggestions import suggest_batch
from leadpond.identity.tasks import (
    REBUILD_GRAPH,
    SCAN_DUPLICATES,
    rebuild_graph_task,
    scan_duplicates_task,
)
from leadpond.ingest.tasks import IMPORT_PEOPLE, import_people_task
from leadpond.jobs import registry
from leadpond.jobs.registry import JobKind
from leadpond.journeys.merges import people_reshaped as journeys_follow_merges
from leadpond.journeys.triggers import enroll_batch as enroll_journeys
from leadpond.playbooks.tasks import REPLAY_HISTORY, replay_history_task
from leadpond.profiles.service import apply_batch as fold_profiles
from leadpond.profiles.tasks import RECOMPUTE_TOUCHES, recompute_touches_task
from leadpond.rules.service import apply_batch as apply_rules
from leadpond.rules.service import recompute_people
from leadpond.rules.sweep import hold_watermarks
from leadpond.segments import exports
from leadpond.segments.incremental import people_reshaped, segment_batch

Stage = Callable[[Batch], None]

# The order is the data flow: who is this about, then what it changes on them; journeys last,
# since their triggers read the tags, stages and segment entries the batch produced.
STAGES: tuple[Stage, ...] = (
    hold_watermarks,
    resolve_batch,
    fold_profiles,
    record_consents,
    link_batch,
    suggest_batch,
    apply_rules,
    segment_batch,
    enroll_journeys,
)

# After a merge, unmerge or rebuild. Segments go after the accounts and rules: they read the
# accounts and the rules' tags, scores and stages those recomputed; journeys' enrollments then
# follow the survivors.
PEOPLE_CHANGED: tuple[hooks.PeopleChangedHandler, ...] = (
    relink_people,
    recompute_people,
    people_reshaped,
    journeys_follow_merges,
)

JOB_KINDS: tuple[JobKind, ...] = (
    JobKind(REPLAY_HISTORY, replay_history_task, startable=True),
    JobKind(REBUILD_GRAPH, rebuild_graph_task, startable=True),
    JobKind(SCAN_DUPLICATES, scan_duplicates_task, startable=True),
    JobKind(SCAN_ACCOUNTS, scan_accounts_task, startable=True),
    JobKind(IMPORT_PEOPLE, import_people_task, startable=False),
    JobKind(RECOMPUTE_TOUCHES, recompute_touches_task, startable=True),
    JobKind(FETCH_UNIONID, fetch_unionid_task, startable=False),
    JobKind(engage_events.CONFIRM, confirm_task, startable=False),
    JobKind(engage_events.REMIND, remind_task, startable=False),
    JobKind(engage_events.CLOSE, close_task, startable=False),
)

hooks.install(PEOPLE_CHANGED)
registry.install(JOB_KINDS)
# Exports and member lists flag who unsubscribed: the consent records are channels'.
exports.install_opt_out_reader(opted_out_people)
# The official account's callback (channels) hands what followers do to acquisition.
wechat_callback.install_handlers(WECHAT_HANDLERS)
# ``POST /api/v1/links`` with a content_id: the content pool makes the link to its viewer.
acquisition_links.install_content_links(content_service.make_links)
