"""World H (tests/fixtures/nlu_world_h) loaded through the importer, and a way to talk to the bot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from config import get_settings
from crm_core.db import Database
from handlers.messages import IncomingMessage
from handlers.nlu import embed
from handlers.pipeline import handle
from handlers.reply import Reply
from tests.nlu_eval import load_world

WORLD_H = Path(__file__).resolve().parents[1] / "fixtures" / "nlu_world_h"
NOW = datetime.fromisoformat("2026-12-10T15:30:00+08:00")  # a Thursday
IDS = {"王子健": "wangzijian", "李梦瑶": "limengyao", "高远": "gaoyuan", "张浩然": "zhanghaoran",
       "陈可欣": "chenkexin", "许晨阳": "xuchenyang", "刘洋": "liuyang", "黄婷婷": "huangtingting", "周伟": "zhouwei",
       "吴敏": "wumin", "钱思琪": "qiansiqi", "欧阳雪": "ouyangxue"}

Say = Callable[..., Reply]


@pytest.fixture
def world(db: Database) -> Database:
    load_world(db, WORLD_H)
    return db


@pytest.fixture
def say(world: Database) -> Say:
    def send(who: str, text: str, *, now: datetime = NOW, chat: str | None = None, external: bool = False,
             settings=None) -> Reply:  # type: ignore[no-untyped-def]
        sender = IDS.get(who, who)
        msg = IncomingMessage(channel="console", text=text, sender_id=sender, chat_id=chat or f"dm:{sender}",
                              is_group=bool(chat), external=external, sent_at=now)
        return handle(world, msg, settings=settings, now=now)

    return send


@pytest.fixture
def lexical_only() -> None:
    """Force the router onto lexical cues (tests that must not depend on the embedder)."""
    embed.set_router_embedder(get_settings(), None)
