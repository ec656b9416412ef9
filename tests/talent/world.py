"""A small agency for the talent, tier, tag and merge tests, built with the ORM, and a way to chat with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from crm_core.db import Database
from crm_core.models import (
    CalendarBlock,
    Contact,
    Contract,
    Customer,
    Project,
    ProjectMember,
    Staff,
    TalentProfile,
    TalentWork,
    Task,
)
from handlers.messages import IncomingMessage
from handlers.pipeline import handle
from handlers.reply import Reply

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 12, 9)  # a Wednesday
NOW = datetime(2026, 12, 9, 10, 0, tzinfo=TZ)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ).astimezone(UTC)


@dataclass
class Agency:
    staff: dict[str, Staff]
    customers: dict[str, Customer]


def person(session: Session, key: str, name: str, role: str, dept: str, skills: list[str] | None = None) -> Staff:
    s = Staff(ref=f"S-{key}", name=name, role=role, department=dept, wecom_userid=key, dingtalk_userid=f"dt_{key}",
              skills=skills or [])
    session.add(s)
    session.flush()
    return s


def talent(session: Session, staff: Staff, *, skills: list[str], styles: list[str] | None = None,
           level: str = "高级", satisfaction: float | None = None,
           blocks: list[tuple[date, date, str]] | None = None) -> TalentProfile:
    profile = TalentProfile(staff_id=staff.id, skills=skills, styles=styles or [], level=level,
                            satisfaction=satisfaction)
    profile.calendar = [CalendarBlock(start=s, end=e, kind=k) for s, e, k in blocks or []]
    session.add(profile)
    session.flush()
    return profile


def build(session: Session) -> Agency:
    """Two account managers with a customer each; planners, a designer and a media buyer with profiles."""
    st = {
        "am": person(session, "am", "许经理", "account_manager", "客户一部"),
        "am2": person(session, "am2", "高经理", "account_manager", "客户二部"),
        "mgr": person(session, "mgr", "林主管", "manager", "客户一部"),
        "admin": person(session, "admin", "周管理", "admin", "管理层"),
        "p1": person(session, "p1", "叶策划", "planner", "策划部"),
        "p2": person(session, "p2", "唐策划", "planner", "策划部"),
        "p3": person(session, "p3", "钟文案", "planner", "策划部"),
        "d1": person(session, "d1", "孔设计", "designer", "设计部"),
        "m1": person(session, "m1", "孙投手", "media", "媒介部"),
    }
    cs = {
        "mine": Customer(ref="C-M", name="星屿科技", industry="科技", owner_id=st["am"].id, tier="成长级"),
        "theirs": Customer(ref="C-T", name="澜山茶饮", industry="餐饮", owner_id=st["am2"].id, tier="常规级"),
    }
    session.add_all(cs.values())
    session.flush()
    hidden = Project(ref="P-T", name="澜山茶饮国潮新年短视频", customer_id=cs["theirs"].id, status="已完成",
                     start=ago(120), end=ago(90))
    session.add(hidden)
    session.flush()
    talent(session, st["p1"], skills=["短视频脚本", "social文案"], styles=["国潮"])
    talent(session, st["p2"], skills=["短视频脚本", "直播策划"], styles=["二次元"], satisfaction=4.5)
    talent(session, st["p3"], skills=["social文案", "品牌策略"], styles=["极简"], satisfaction=4.2)
    talent(session, st["d1"], skills=["三维动画", "KV设计"], styles=["科技感"], satisfaction=4.4)
    talent(session, st["m1"], skills=["信息流优化", "KOL投放"], satisfaction=4.8)
    p1 = st["p1"].talent
    assert p1 is not None
    p1.works = [TalentWork(title="澜山茶饮国潮新年短视频", project_id=hidden.id, industry="餐饮", rating=4.9,
                           finished_on=ago(90), skills=["短视频脚本", "国潮"]),
                TalentWork(title="某美妆品牌国风礼盒开箱脚本", industry="美妆", rating=4.7, finished_on=ago(200))]
    session.add(ProjectMember(project_id=hidden.id, staff_id=st["p1"].id))
    session.add(Task(ref="T-1", title="整理素材", assignee_id=st["p2"].id, due=TODAY + timedelta(days=2), status="待办"))
    session.flush()
    return Agency(st, cs)


def contract(session: Session, customer: Customer, amount: int, signed: date, ref: str | None = None) -> Contract:
    c = Contract(ref=ref, customer_id=customer.id, title=f"{customer.name}合同{signed}", amount=Decimal(amount),
                 signed_at=signed, start=signed, end=signed + timedelta(days=365))
    session.add(c)
    session.flush()
    return c


def contact(session: Session, customer: Customer, name: str, phone: str | None = None, email: str | None = None,
            wecom: str | None = None, kf: str | None = None) -> Contact:
    c = Contact(customer_id=customer.id, name=name, phone=phone, email=email, wecom_external_userid=wecom,
                kf_external_userid=kf)
    session.add(c)
    session.flush()
    return c


def send(db: Database, who: str, text: str, now: datetime = NOW) -> Reply:
    msg = IncomingMessage(channel="console", text=text, sender_id=who, chat_id=f"dm:{who}", sent_at=now)
    return handle(db, msg, now=now)
