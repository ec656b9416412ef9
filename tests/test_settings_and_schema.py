"""Settings fail loudly with the setting's name; the schema comes only from migrations and matches the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from config.settings import SettingsError, load_settings
from crm_core.db import Database
from crm_core.models import Base
from crm_core.schema import current_revision, head_revision, upgrade


def test_defaults():
    s = load_settings()
    assert s.timezone == "Asia/Shanghai"
    assert s.effective_database_url.startswith("sqlite:///") and s.effective_database_url.endswith("crmbot.db")
    assert s.quiet_hours[0].hour == 22 and s.quiet_hours[1].hour == 8


@pytest.mark.parametrize(("var", "value"), [
    ("CRMBOT_TIMEZONE", "Mars/Olympus"),
    ("CRMBOT_PORT", "eighty"),
    ("CRMBOT_QUIET_HOURS_START", "25:00"),
    ("CRMBOT_DATABASE_URL", "not a url"),
    ("CRMBOT_EMBED_BACKEND", "word2vec"),
])
def test_malformed_setting_is_named(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as exc:
        load_settings()
    assert var in str(exc.value)


def test_toml_file_and_env_precedence(monkeypatch, tmp_path):
    cfg = tmp_path / "crmbot.toml"
    cfg.write_text('[crmbot]\ntimezone = "Asia/Tokyo"\nport = 9000\n', encoding="utf-8")
    monkeypatch.setenv("CRMBOT_CONFIG", str(cfg))
    monkeypatch.setenv("CRMBOT_PORT", "9100")
    s = load_settings()
    assert (s.timezone, s.port) == ("Asia/Tokyo", 9100)


def test_missing_config_file_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("CRMBOT_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(SettingsError, match="CRMBOT_CONFIG"):
        load_settings()


def test_migrations_match_models(db: Database):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_upgrade_is_a_noop_at_head(db: Database):
    head = head_revision(db)
    assert current_revision(db) == head
    assert upgrade(db) == (head, head)


def test_sqlite_runs_with_wal_and_foreign_keys(sqlite_db: Database):
    with sqlite_db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_every_setting_is_documented_in_readme():
    from pathlib import Path

    from config.settings import Settings

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`{name.upper()}`" not in readme]
    assert missing == []
