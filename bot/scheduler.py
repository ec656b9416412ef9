"""APScheduler (3.x) inside ``crmbot serve`` — or in the foreground with ``crmbot jobs run``.

Every process may run a scheduler: each firing goes through ``JobRunner.run_job``, which takes the
job's lease in the database first (``crm_core.services.job_leases``), so with several server processes
one of them runs the job and the others skip; the push ledger makes a late or repeated run harmless.
Schedules are crontab expressions in ``TIMEZONE`` (setting ``JOBS_SCHEDULE``); day-of-week numbers
follow crontab (0 or 7 = Sunday), names (mon-fri) work too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.jobs import JOB_ORDER, JOB_TITLES, JobRunner
from config import Settings, SettingsError
from crm_core.db import Database

log = logging.getLogger("crmbot.scheduler")
CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekday_names(field: str) -> str:
    """Crontab weekday numbers → names (APScheduler 3 counts 0 as Monday, crontab as Sunday)."""
    if field in ("0-6", "0-7", "1-7"):
        return "*"
    return re.sub(r"(?<![/\d])\d+", lambda m: CRON_DAYS[int(m.group())] if int(m.group()) <= 7 else m.group(), field)


def trigger(expr: str, tz: ZoneInfo) -> CronTrigger:
    fields = expr.split()
    if len(fields) != 5:
        raise SettingsError(f"CRMBOT_JOBS_SCHEDULE: 时间表应为 5 段 crontab（分 时 日 月 周），收到 {expr!r}")
    fields[4] = _weekday_names(fields[4])
    try:
        return CronTrigger.from_crontab(" ".join(fields), timezone=tz)
    except ValueError as exc:
        raise SettingsError(f"CRMBOT_JOBS_SCHEDULE: 无法解析 {expr!r}：{exc}") from None


class JobScheduler:
    def __init__(self, db: Database, settings: Settings, *, kick: Callable[[], None] | None = None,
                 runner: JobRunner | None = None) -> None:
        self.settings = settings
        self.runner = runner or JobRunner(db, settings, kick=kick)
        self._scheduler: BaseScheduler | None = None

    def _configure(self, scheduler: BaseScheduler) -> BaseScheduler:
        for name in JOB_ORDER:
            expr = self.settings.jobs_schedule.get(name, "")
            if not expr:
                continue
            scheduler.add_job(self.runner.run_job, trigger(expr, self.settings.tz), args=[name], id=name,
                              name=JOB_TITLES[name], coalesce=True, max_instances=1, misfire_grace_time=600)
        return scheduler

    def start(self) -> None:
        """In a background thread (``crmbot serve``)."""
        if self._scheduler is not None:
            return
        self._scheduler = self._configure(BackgroundScheduler(timezone=self.settings.tz))
        self._scheduler.start()
        log.info("job scheduler started: %s", ", ".join(f"{n} [{self.settings.jobs_schedule.get(n) or 'off'}]"
                                                        for n in JOB_ORDER))

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    def run_forever(self) -> None:
        """In the foreground until interrupted (``crmbot jobs run`` without ``--once``)."""
        scheduler = self._configure(BlockingScheduler(timezone=self.settings.tz))
        self._scheduler = scheduler
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self._scheduler = None

    def next_runs(self) -> dict[str, datetime | None]:
        now = datetime.now(self.settings.tz)
        out: dict[str, datetime | None] = {}
        for name in JOB_ORDER:
            expr = self.settings.jobs_schedule.get(name, "")
            out[name] = trigger(expr, self.settings.tz).get_next_fire_time(None, now) if expr else None
        return out
