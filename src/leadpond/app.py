"""The FastAPI application: tracking API, admin API and the in-process worker."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

import leadpond.wiring  # noqa: F401  (installs the hooks and job kinds)
from leadpond import __version__
from leadpond.accounts.api import lookup_router as account_lookup_router
from leadpond.accounts.api import router as accounts_router
from leadpond.acquisition.api import public_router as tracking_links_router
from leadpond.acquisition.api import router as links_router
from leadpond.acquisition.wecom_callback import router as wecom_callback_router
from leadpond.channels.api import router as channels_router
from leadpond.channels.bounces_api import router as bounces_router
from leadpond.channels.public import router as public_links_router
from leadpond.channels.receipts import receipts_router
from leadpond.channels.wechat_callback import router as wechat_callback_router
from leadpond.console.setup import install_console
from leadpond.content.api import router as content_router
from leadpond.content.public import router as content_viewer_router
from leadpond.engage.events_api import router as events_router
from leadpond.engage.events_public import router as event_pages_router
from leadpond.engage.forms_api import router as forms_router
from leadpond.engage.forms_public import router as public_forms_router
from leadpond.identity.api import router as identity_router
from leadpond.ingest.api import router as ingest_router
from leadpond.ingest.import_api import router as import_router
from leadpond.jobs.api import router as jobs_router
from leadpond.journeys.api import router as journeys_router
from leadpond.kit.csrf import CrossOriginGuard
from leadpond.kit.http import install_error_handlers
from leadpond.kit.schemas import ERROR_RESPONSES
from leadpond.pipeline.api import router as pipeline_router
from leadpond.pipeline.worker import Worker
from leadpond.playbooks.api import replay_router
from leadpond.playbooks.api import router as playbook_router
from leadpond.profiles.api import groups_router as channel_groups_router
from leadpond.profiles.api import router as people_router
from leadpond.reports.api import router as reports_router
from leadpond.rules.api import router as rules_router
from leadpond.segments.api import router as segments_router
from leadpond.users.api import router as users_router
from leadpond.users.auth import SESSION_COOKIE
from leadpond.users.workspace_api import router as workspace_router


def create_app(*, with_worker: bool = False, with_console: bool = False) -> FastAPI:
    """The whole HTTP surface; ``with_worker`` also runs the pipeline in this process.

    ``with_console`` mounts the NiceGUI console at ``/console`` (once per process: NiceGUI is a
    process-wide singleton); the console's login routes are always there.
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = Worker() if with_worker else None
        thread = worker.start_thread() if worker else None
        try:
            yield
        finally:
            if worker and thread:
                worker.stop()
                thread.join(timeout=30)

    app = FastAPI(title="leadpond", version=__version__, lifespan=lifespan)
    # Browser SDKs (analytics.js ≥ 1.84 sends Authorization) need a CORS preflight answer.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization", "X-Retry-Count", "AnonymousId", "SentAt"],
    )
    # Outermost: a forged cross-origin write is refused before anything else sees it.
    app.add_middleware(
        CrossOriginGuard,
        cookie=SESSION_COOKIE,
        login_paths=("/api/v1/auth/login", "/console/login"),
        upload_paths=("/api/v1/imports",),
        # A message's links act on their signed token, never on a session.
        public_paths=("/t/", "/u/", "/hooks/", "/l/", "/f/", "/c/", "/e/"),
    )
    install_error_handlers(app)
    for router in (
        ingest_router,
        people_router,
        channel_groups_router,
        pipeline_router,
        identity_router,
        import_router,
        accounts_router,
        account_lookup_router,
        rules_router,
        playbook_router,
        replay_router,
        segments_router,
        jobs_router,
        reports_router,
        users_router,
        channels_router,
        bounces_router,
        journeys_router,
        links_router,
        events_router,
        workspace_router,
        forms_router,
        content_router,
    ):
        app.include_router(router, responses=ERROR_RESPONSES)

    # Outside /api/: the links in messages, for their readers (no key, no session).
    app.include_router(public_links_router)
    app.include_router(tracking_links_router)
    app.include_router(public_forms_router)
    app.include_router(content_viewer_router)
    app.include_router(event_pages_router)
    app.include_router(receipts_router)
    app.include_router(wechat_callback_router)
    app.include_router(wecom_callback_router)
    install_console(app, mount_ui=with_console)

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
