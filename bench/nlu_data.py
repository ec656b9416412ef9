"""A synthetic agency at demo scale for the conversation benchmark (deterministic for a seed).

Names are generated from syllables, so none comes from any evaluation set. Rows are in the import
formats (docs/import-formats.md) and loaded through the importer.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "子梓浩宇轩然欣怡佳琪雨桐思远晓雯一鸣凯芳静磊悦晨阳梦瑶婷伟敏雪洋俊杰嘉宁航泽瑞安心语可馨博文昊天书涵诗雅若曦明辉志强海燕丽娟建华秀英"
BRAND_A = "星云海山青蓝金银白晨暮禾木石川野森月风雨鹿鲸橙柚竹松梧桐澜岚霁朗曜锦绣橘栗麦豆"
BRAND_B = "屿途辰禾光汀澜野原溪岚帆舟航悦享物集然序合栖见拾忆初如微芒"
INDUSTRY_SUFFIX = {
    "科技": ["科技", "智能", "网络", "数码"], "快消": ["食品", "乳业", "饮品", "日化", "零食"],
    "美妆": ["美妆", "护肤", "彩妆"], "文旅": ["旅行", "文旅", "酒店", "民宿"], "汽车": ["汽车", "出行", "车业"],
    "餐饮": ["茶饮", "咖啡", "火锅", "餐饮"], "教育": ["教育", "学堂", "学院"],
}
TOPICS = ["新品发布会", "品牌升级", "年货节直播", "夏日联名", "社群运营", "小红书种草", "开发者大会", "门店焕新", "双11大促",
          "周年庆活动", "春节营销", "校园推广", "会员体系搭建", "海外品牌片", "TVC拍摄"]
TASKS = ["主视觉KV", "分镜脚本", "媒介排期", "达人名单筛选", "结案报告", "直播脚本", "海报设计", "H5开发", "视频粗剪", "视频精剪",
         "嘉宾邀约", "物料清单", "预算复核", "竞品分析", "提案PPT", "文案撰写", "包装插画", "数据复盘", "场地确认", "合同盖章"]
OPPS = ["年度框架", "春季上市", "品牌片", "代运营", "直播合作", "会员营销", "新店开业", "周年庆", "出海推广"]
ROLES = (["account_manager"] * 9 + ["sales"] * 3 + ["planner"] * 8 + ["designer"] * 9 + ["media"] * 5
         + ["service"] * 3 + ["manager"] * 2 + ["admin"])
DEPTS = {"account_manager": ["客户一部", "客户二部", "客户三部"], "sales": ["客户一部", "客户二部"], "planner": ["策略部"],
         "designer": ["创意部", "设计部"], "media": ["媒介部"], "service": ["客服部"], "manager": ["管理层", "客户一部"],
         "admin": ["运营支持部"]}
SKILLS = {"planner": ["品牌策略", "短视频脚本", "直播策划", "活动策划", "小红书运营", "国潮", "发布会策划"],
          "designer": ["C4D", "插画", "主视觉KV", "包装设计", "视频剪辑", "三维建模", "动效设计", "调色"],
          "media": ["信息流投放", "巨量引擎", "媒介排期", "小红书聚光", "微博投放"]}


def generate(seed: int = 7, customers: int = 150, staff: int = 40, projects: int = 60, tasks: int = 600,
             opportunities: int = 150, today: date = date(2026, 11, 25)) -> dict[str, list[dict[str, Any]]]:
    rnd = random.Random(seed)
    names: set[str] = set()

    def person() -> str:
        while True:
            name = rnd.choice(SURNAMES) + "".join(rnd.sample(GIVEN, rnd.choice((1, 2))))
            if name not in names:
                names.add(name)
                return name

    staff_rows = []
    for i in range(staff):
        role = ROLES[i % len(ROLES)]
        staff_rows.append({"ref": f"B-S{i + 1:03d}", "name": person(), "role": role,
                           "department": rnd.choice(DEPTS[role]), "region": rnd.choice(["上海", "北京", "杭州", "广州"]),
                           "wecom_userid": f"bench_{i + 1:03d}", "mobile": f"139{i:08d}",
                           "skills": rnd.sample(SKILLS.get(role, []), k=min(3, len(SKILLS.get(role, []))))})
    owners = [s for s in staff_rows if s["role"] in ("account_manager", "sales")]
    brands: set[str] = set()
    customer_rows = []
    for i in range(customers):
        industry = rnd.choice(list(INDUSTRY_SUFFIX))
        while True:
            brand = rnd.choice(BRAND_A) + rnd.choice(BRAND_B) + (rnd.choice(BRAND_B) if rnd.random() < 0.3 else "")
            if brand not in brands:
                brands.add(brand)
                break
        customer_rows.append({"ref": f"B-C{i + 1:03d}", "name": brand + rnd.choice(INDUSTRY_SUFFIX[industry]),
                              "industry": industry, "owner": rnd.choice(owners)["ref"],
                              "tier": rnd.choice(["战略级", "成长级", "常规级"]), "budget_level": rnd.choice("高中低"),
                              "tags": rnd.sample(["直播", "小红书", "续约", "私域", "新能源", "出海", "年轻化"], k=2)})
    project_rows = []
    for i in range(projects):
        c = customer_rows[i * len(customer_rows) // projects]
        start = today - timedelta(days=rnd.randint(10, 90))
        project_rows.append({"ref": f"B-P{i + 1:03d}", "name": c["name"] + rnd.choice(TOPICS), "customer": c["ref"],
                             "manager": c["owner"], "status": "进行中", "start": start.isoformat(),
                             "end": (start + timedelta(days=rnd.randint(40, 120))).isoformat()})
    workers = [s for s in staff_rows if s["role"] in ("planner", "designer", "media", "account_manager")]
    task_rows = []
    for i in range(tasks):
        p = project_rows[i % len(project_rows)]
        task_rows.append({"ref": f"B-T{i + 1:04d}", "project": p["ref"],
                          "title": rnd.choice(TASKS) + ("" if rnd.random() < 0.5 else f"第{rnd.randint(2, 9)}版"),
                          "assignee": rnd.choice(workers)["ref"],
                          "due": (today + timedelta(days=rnd.randint(-10, 30))).isoformat(),
                          "status": rnd.choice(["待办", "进行中", "进行中", "已完成"])})
    opp_rows = []
    for i in range(opportunities):
        c = customer_rows[i % len(customer_rows)]
        opp_rows.append({"ref": f"B-O{i + 1:03d}", "customer": c["ref"], "name": c["name"] + rnd.choice(OPPS),
                         "stage": rnd.choice(["需求确认", "方案报价", "合同谈判", "签约成功", "输单"]),
                         "amount": rnd.randint(5, 300) * 10000, "owner": c["owner"]})
    return {"staff": staff_rows, "customers": customer_rows, "projects": project_rows, "tasks": task_rows,
            "opportunities": opp_rows}


TEMPLATES = [
    "看下{customer}的客户画像", "{customer}最近怎么样", "{brand}是谁在跟", "{customer}有没有什么风险",
    "{project}进度咋样了", "{project}有哪些任务逾期了", "我手上还有哪些任务", "哪些任务逾期了",
    "给{given}建个任务：{task}，周五前", "{project}加个任务 {task} {staff} 下周三",
    "{customer}那单签了 金额{amount}万", "记录一下：今天和{customer}开了会，对方希望下周看到方案",
    "我负责的{industry}客户有哪些", "战略级客户都有哪些", "我的商机有哪些", "合同谈判阶段的商机有哪些",
    "谁比较擅长{skill}", "推荐个会{skill}的设计师 下周二前", "这周有哪些款该收了", "{customer}的尾款什么时候到期",
    "把{customer}升成战略级", "给{customer}打个标签：重点维护", "{task}做完了 帮我关掉", "哈哈收到",
    "谢谢大家 辛苦了", "你都能干啥", "哪些客户有流失风险",
]
