"""A tiny agency built directly with the ORM, for permission and service tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from crm_core.actor import Actor
from crm_core.models import (
    Contact,
    Contract,
    Customer,
    Opportunity,
    Payment,
    Project,
    ProjectMember,
    Staff,
    Task,
)
from crm_core.services.identity import resolve_actor

TODAY = date(2026, 11, 25)


@dataclass
class World:
    staff: dict[str, Staff]
    customers: dict[str, Customer]
    projects: dict[str, Project]

    def actor(self, session: Session, key: str, channel: str = "console") -> Actor:
        return resolve_actor(session, channel, self.staff[key].wecom_userid)


def build_world(session: Session) -> World:
    """Two account departments, a manager each way, creative staff, two customers with a project each."""
    def person(key: str, name: str, role: str, dept: str) -> Staff:
        s = Staff(ref=f"S-{key}", name=name, role=role, department=dept, wecom_userid=key,
                  dingtalk_userid=f"dt_{key}", mobile="13900000000")
        session.add(s)
        return s

    staff = {
        "am1": person("am1", "甲经理", "account_manager", "客户一部"),
        "am2": person("am2", "乙经理", "account_manager", "客户二部"),
        "sales1": person("sales1", "丙销售", "sales", "客户一部"),
        "mgr1": person("mgr1", "丁主管", "manager", "客户一部"),
        "mgr2": person("mgr2", "戊主管", "manager", "客户二部"),
        "boss": person("boss", "总经理", "manager", "管理层"),
        "admin": person("admin", "管理员", "admin", "运营支持部"),
        "planner": person("planner", "策划甲", "planner", "策略部"),
        "designer": person("designer", "设计乙", "designer", "创意部"),
        "service": person("service", "客服丙", "service", "客服部"),
        "viewer": person("viewer", "财务丁", "viewer", "财务部"),
    }
    session.flush()
    customers = {
        "c1": Customer(ref="C-1", name="星屿科技", legal_name="上海星屿科技有限公司", industry="科技", tier="战略级",
                       budget_level="高", owner_id=staff["am1"].id),
        "c2": Customer(ref="C-2", name="澜山茶饮", legal_name="杭州澜山茶饮有限公司", industry="餐饮", tier="成长级",
                       budget_level="中", owner_id=staff["am2"].id),
    }
    session.add_all(customers.values())
    session.flush()
    session.add_all([
        Contact(ref="CT-1", customer_id=customers["c1"].id, name="王敏", title="市场总监", phone="13812341234",
                email="wangmin@xingyu.example", wecom_external_userid="wm_client_1"),
        Contact(ref="CT-2", customer_id=customers["c2"].id, name="李雷", title="品牌经理", phone="13698765432",
                email="lilei@lanshan.example", wecom_external_userid="wm_client_2"),
    ])
    projects = {
        "p1": Project(ref="P-1", name="星屿科技品牌升级", customer_id=customers["c1"].id, manager_id=staff["am1"].id,
                      status="进行中", start=TODAY - timedelta(days=30), end=TODAY + timedelta(days=30)),
        "p2": Project(ref="P-2", name="澜山茶饮门店焕新", customer_id=customers["c2"].id, manager_id=staff["am2"].id,
                      status="进行中", start=TODAY - timedelta(days=10), end=TODAY + timedelta(days=40)),
    }
    session.add_all(projects.values())
    session.flush()
    session.add(ProjectMember(project_id=projects["p1"].id, staff_id=staff["planner"].id))
    session.add_all([
        Task(ref="T-1", project_id=projects["p1"].id, title="品牌策略提案", assignee_id=staff["planner"].id,
             due=TODAY - timedelta(days=2), status="进行中"),
        Task(ref="T-2", project_id=projects["p2"].id, title="门店海报设计", assignee_id=staff["designer"].id,
             due=TODAY + timedelta(days=3), status="待办"),
    ])
    session.add(Opportunity(ref="O-1", customer_id=customers["c1"].id, name="星屿科技年度框架", stage="合同谈判",
                            amount=Decimal(1200000), owner_id=staff["am1"].id))
    contract = Contract(ref="K-1", customer_id=customers["c1"].id, title="星屿科技品牌升级合同",
                        amount=Decimal(800000), owner_id=staff["am1"].id)
    session.add(contract)
    session.flush()
    session.add_all([
        Payment(ref="PM-1", contract_id=contract.id, seq=1, due=TODAY - timedelta(days=5), amount=Decimal(300000)),
        Payment(ref="PM-2", contract_id=contract.id, seq=2, due=TODAY + timedelta(days=4), amount=Decimal(500000)),
    ])
    session.flush()
    return World(staff=staff, customers=customers, projects=projects)
