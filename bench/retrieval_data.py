"""Synthetic Chinese campaign cases and knowledge-base articles for the retrieval benchmark.

Deterministic for a seed. Records are built from phrase banks so that every one is distinct, bodies
vary in length (some articles exceed one chunk), and case metrics are written the free-form way
agencies write them ("4.1%", "3.2亿", "150元/条").
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

SYLLABLES = list("云星悦禾澜屿青橙岚沐森曜初果麦川朗逸柚茗栀鲸澄然拾光知野岛辰汐沁墨翎")
INDUSTRIES = {
    "快消": ["饮料", "零食", "乳制品", "酒水", "日化", "方便食品"],
    "美妆": ["护肤", "彩妆", "香水", "洗护", "防晒", "男士护肤"],
    "科技": ["手机", "耳机", "家电", "笔记本电脑", "智能手表", "企业服务"],
    "文旅": ["景区", "酒店", "主题乐园", "航空", "博物馆", "滑雪场"],
    "汽车": ["新能源车", "SUV", "二手车平台", "豪华轿车", "轮胎", "经销商"],
    "餐饮": ["茶饮", "咖啡", "火锅", "烘焙", "快餐", "西餐"],
    "教育": ["在线教育", "职业教育", "少儿编程", "语言培训", "考研辅导", "留学服务"],
}
FORMATS = ["短视频挑战赛", "KOL达人矩阵", "KOC种草笔记", "直播带货", "信息流广告", "户外大屏", "地铁灯箱",
           "TVC广告片", "私域社群运营", "品牌快闪店", "新品发布会直播", "UP主测评", "社交话题营销", "本地生活团购",
           "短剧植入", "校园推广", "赛事赞助", "社交裂变活动", "搜索广告", "IP联名"]
CHANNELS = ["抖音", "快手", "小红书", "B站", "微博", "微信朋友圈", "微信视频号", "公众号", "知乎", "天猫", "京东",
            "懂车帝", "汽车之家", "分众电梯屏", "巨量引擎", "腾讯广告"]
SEASONS = ["春节", "情人节", "三八节", "清明", "五一", "520", "618", "暑期", "七夕", "开学季", "中秋", "国庆", "双11",
           "双12", "圣诞", "跨年"]
GOALS = ["提升品牌声量", "拉动新品首发销量", "沉淀私域用户", "获取销售线索", "带动门店客流", "提高复购率",
         "打开年轻人市场", "强化高端形象", "扩大下沉市场覆盖", "提升搜索指数"]
ACTIONS = ["邀请头部和腰部达人同步发布内容", "设计可模仿的手势舞和口播模板", "配合关键词搜索广告拦截流量",
           "在视频中挂载购物车实现边看边买", "用门店二维码承接线下流量", "联合平台发起话题挑战",
           "按人群分层投放不同创意", "安排品牌自播承接直播流量", "以UGC征集扩大二次传播",
           "通过企业微信社群做复购提醒", "结合节点推出限定礼盒", "用裸眼3D视觉制造现场打卡",
           "由数码UP主做深度测评", "在通勤场景做高频曝光", "以会员积分激励老带新"]
RESULTS = ["品牌搜索量提升", "旗舰店销量环比增长", "新客占比明显提高", "门店客流增长", "话题多次登上热搜",
           "线索成本低于行业均值", "复购率显著提升", "社群活跃度提高"]
METRIC_MAKERS = [
    ("CTR", lambda r: f"{r.uniform(0.8, 6.5):.1f}%"), ("点击率", lambda r: f"{r.uniform(0.8, 6.5):.1f}%"),
    ("转化率", lambda r: f"{r.uniform(0.5, 12):.1f}%"), ("CVR", lambda r: f"{r.uniform(0.5, 12):.1f}%"),
    ("ROI", lambda r: f"{r.uniform(1.2, 9):.1f}"), ("投产比", lambda r: f"1:{r.uniform(1.2, 9):.1f}"),
    ("播放量", lambda r: r.choice([f"{r.randint(100, 9000)}万", f"{r.uniform(1, 9):.1f}亿"])),
    ("曝光", lambda r: f"{r.uniform(0.5, 9):.1f}亿次"), ("互动率", lambda r: f"{r.uniform(1, 12):.1f}%"),
    ("线索成本", lambda r: f"{r.randint(40, 400)}元/条"), ("GMV", lambda r: f"{r.randint(100, 9000)}万"),
    ("涨粉", lambda r: f"{r.randint(1, 90)}万"), ("完播率", lambda r: f"{r.randint(15, 70)}%"),
]

KB_TOPICS = {
    "发票": ["专用发票申请", "普通发票与专票", "发票作废与红冲", "电子发票发送", "开票品目", "先票后款"],
    "合同": ["框架合同签署", "电子签章", "补充协议", "合同续约", "保密协议", "合同原件寄送"],
    "付款": ["付款节点", "媒介垫款", "对公账户", "逾期付款", "月度对账", "外币付款"],
    "提案": ["免费修改轮次", "超轮次收费", "比稿规则", "需求简报", "重新提案"],
    "交付": ["制作周期", "加急制作", "交付格式", "项目延期", "节假日排期", "成品验收"],
    "数据报告": ["日报周报", "指标口径", "数据差异", "第三方监测", "结案报告", "异常流量", "数据看板"],
    "账户": ["开户资料", "账户授权", "素材拒审", "协作平台登录", "账户充值", "权限交接"],
    "版权": ["作品著作权", "字体音乐授权", "肖像使用期限", "源文件交付", "物料延期使用"],
    "服务": ["响应时间", "投诉渠道", "合规审核", "数据保密", "进展同步", "服务费模式", "现场探班", "预算调整"],
}
KB_SENTENCES = [
    "{topic}需要由客户方对接人通过项目群或邮件发起，我方客户经理会在{n}个工作日内确认。",
    "如涉及{topic}的特殊情况，请提前与客户经理沟通，我们会根据合同约定给出处理方案。",
    "{topic}的具体时限以双方签署的合同为准，一般为{n}到{m}个工作日。",
    "为避免返工，{topic}相关的资料请一次性提供完整，包括公司全称、联系人和所需文件。",
    "{topic}完成后，系统会自动同步到客户协作平台，方便贵司随时查阅和下载。",
    "针对{season}等节点，{topic}可能需要额外排期，请至少提前{n}周告知。",
    "我们建议在{topic}之前先确认预算范围和考核指标，这样后续执行更顺畅。",
    "若{topic}出现争议，双方应先友好协商；协商不成的，按合同约定的方式处理。",
    "{topic}涉及的费用会在月度对账单中单独列明，确认后财务据此开具发票。",
    "需要加急处理{topic}的，在资源允许的情况下可以安排，加急费用按{pct}%收取。",
]
QUESTIONS = ["怎么申请", "需要多久", "要收费吗", "有什么要求", "流程是怎样的", "出了问题怎么办", "可以加急吗"]


def _brand(r: random.Random) -> str:
    return "".join(r.choice(SYLLABLES) for _ in range(2))


def make_case(i: int, r: random.Random) -> dict[str, Any]:
    industry = r.choice(list(INDUSTRIES))
    sub = r.choice(INDUSTRIES[industry])
    fmt = r.choice(FORMATS)
    chans = r.sample(CHANNELS, r.choice([1, 1, 2, 2, 3]))
    season = r.choice(SEASONS)
    year = r.randint(2019, 2026)
    brand = _brand(r)
    metrics = dict(r.sample(METRIC_MAKERS, r.randint(2, 4)))
    desc = "，".join(r.sample(ACTIONS, r.randint(2, 4)))
    return {
        "ref": f"bench-case-{i:06d}",
        "title": f"{brand}{sub}{season}{chans[0]}{fmt}",
        "industry": f"{industry}-{sub}",
        "format": fmt,
        "channels": chans,
        "year": year,
        "period": f"{year}年{season}",
        "client": f"{brand}{sub}品牌",
        "description": f"为{r.choice(GOALS)}，{desc}；活动期间{r.choice(RESULTS)}。",
        "metrics": {k: maker(r) for k, maker in metrics.items()},
    }


def make_article(i: int, r: random.Random) -> dict[str, Any]:
    category = r.choice(list(KB_TOPICS))
    topic = r.choice(KB_TOPICS[category])
    paragraphs = []
    for _ in range(r.choice([1, 1, 2, 3, 5])):
        sentences = [s.format(topic=topic, n=r.randint(1, 5), m=r.randint(6, 15), season=r.choice(SEASONS),
                              pct=r.choice([20, 30, 50])) for s in r.sample(KB_SENTENCES, r.randint(2, 4))]
        paragraphs.append("".join(sentences))
    return {
        "ref": f"bench-kb-{i:06d}",
        "title": f"{topic}{r.choice(QUESTIONS)}（{_brand(r)}版第{i}号）",
        "body": "\n\n".join(paragraphs),
        "category": category,
        "tags": [topic],
    }


def records(n: int, seed: int = 7, case_share: float = 0.5) -> Iterator[tuple[str, dict[str, Any]]]:
    """``n`` records, ("cases" | "kb", import row), interleaved."""
    r = random.Random(seed)
    for i in range(n):
        if r.random() < case_share:
            yield "cases", make_case(i, r)
        else:
            yield "kb", make_article(i, r)


def queries(n: int, seed: int = 11) -> list[str]:
    """Chat-style queries of both kinds, with filters and without."""
    r = random.Random(seed)
    out = []
    for _ in range(n):
        kind = r.random()
        if kind < 0.35:
            topic = r.choice([t for ts in KB_TOPICS.values() for t in ts])
            out.append(f"{topic}{r.choice(QUESTIONS)}")
        elif kind < 0.7:
            industry = r.choice(list(INDUSTRIES))
            out.append(f"{r.choice(INDUSTRIES[industry])}{r.choice(SEASONS)}{r.choice(CHANNELS)}的{r.choice(FORMATS)}案例")
        else:
            industry = r.choice(list(INDUSTRIES))
            cond = r.choice(["转化率>5%", "ROI 3以上", "CTR超过2%", "播放过亿", "ROI大于4"])
            out.append(f"{industry} {r.choice(['短视频', '直播', '种草', '信息流', '户外'])} {cond}")
    return out
