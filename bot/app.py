"""The FastAPI application served by `crmbot serve`: messenger callbacks, the web console, /healthz.

The outbox worker runs in a background thread of the same process (``OUTBOX_WORKER``); with
``DINGTALK_TRANSPORT=stream`` the DingTalk Stream client runs beside it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import text

from bot.channels.dingtalk import callback as dingtalk_callback
from bot.channels.http import Refusal, refusal_response
from bot.channels.wecom import app_callback, robot_callback
from bot.runtime import Runtime
from bot.web import console
from config import Settings, get_settings
from crm_core.db import Database
from crm_core.schema import current_revision, head_revision

log = logging.getLogger("crmbot")


def create_app(settings: Settings | None = None, db: Database | None = None, *, worker: bool | None = None,
               http: httpx.Client | None = None) -> FastAPI:
    """``worker``: run the outbox worker in this process (default: setting ``OUTBOX_WORKER``)."""
    settings = settings or get_settings()
    db = db or Database.from_settings(settings)
    runtime = Runtime.build(settings, db, http=http)
    run_worker = settings.outbox_worker if worker is None else worker

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtime.start(worker=run_worker)
        scheduler = None
        if settings.jobs_scheduler:  # scheduled pushes (bot/scheduler.py); a database lease keeps processes apart
            from bot.scheduler import JobScheduler

            scheduler = JobScheduler(db, settings, kick=runtime.worker.kick)
            scheduler.start()
        stream = None
        if settings.dingtalk_transport == "stream" and settings.dingtalk_app_key and settings.dingtalk_app_secret:
            from bot.channels.dingtalk.stream import StreamTransport

            stream = StreamTransport(runtime)
            stream.start()
            runtime.extras["dingtalk_stream"] = stream
            log.info("DingTalk stream transport started")
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            if stream is not None:
                stream.stop()
            runtime.stop()

    app = FastAPI(title="客户助手 crmbot", version="0.1.0", lifespan=lifespan)
    app.state.db = db
    app.state.settings = settings
    app.state.runtime = runtime

    @app.exception_handler(Refusal)
    async def _refused(request: Request, exc: Refusal) -> Response:
        return refusal_response(request, exc)

    @app.get("/healthz")
    def healthz() -> dict[str, object]:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current, head = current_revision(db), head_revision(db)
        return {"status": "ok" if current == head else "schema_outdated", "database": db.dialect,
                "schema": current, "schema_head": head}

    app.include_router(app_callback.router(runtime))
    app.include_router(robot_callback.router(runtime))
    app.include_router(dingtalk_callback.router(runtime))
    app.include_router(console.router(runtime))
    return app


def app_from_settings() -> FastAPI:
    """The app of one server process when ``crmbot serve --workers N`` starts several (settings from the environment)."""
    return create_app()
