"""The FastAPI application served by `crmbot serve`."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import text

from config import Settings, get_settings
from crm_core.db import Database
from crm_core.schema import current_revision, head_revision


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = db or Database.from_settings(settings)
    app = FastAPI(title="客户助手 crmbot", version="0.1.0")
    app.state.db = db
    app.state.settings = settings

    @app.get("/healthz")
    def healthz() -> dict[str, object]:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current, head = current_revision(db), head_revision(db)
        return {"status": "ok" if current == head else "schema_outdated", "database": db.dialect,
                "schema": current, "schema_head": head}

    return app
