"""青禾互动, the demo advertising agency behind ``crmbot demo``.

``generate(today)`` returns rows for every importer kind, in load order (a later kind refers to the
``ref`` of an earlier one), in the field formats of docs/import-formats.md. The output depends on
``today`` only: each kind draws from its own random generator with a fixed seed and every date is an
offset from ``today``, so the same day always gives the same rows and a second load writes nothing.

Fixed ids (``wecom_userid``; the ``dingtalk_userid`` is the same) for the README and the tests:

- ``demo_admin``    admin, 周宁 (管理层)
- ``demo_manager``  manager, 林海峰, head of 客户一部 (sees the department's customers)
- ``demo_am``       account_manager, 许嘉怡 (客户一部); owns C-001 星屿科技 (contact 王敏, 13812341234),
  C-002 晨光乳业 and several more
- ``demo_am2``      account_manager, 高子轩 (客户一部); owns other customers and never works on demo_am's
- ``demo_planner``  planner, 沈若溪 (策划部); member of the C-001 and C-002 projects (sees contacts masked)
- ``demo_designer`` designer, 唐一帆 (设计部); member of the C-001 and C-002 projects, on leave soon
- ``demo_service``  service, 蒋小雨 (客服部); handles service tickets

``demo_client`` is the WeCom external userid of 王敏 of 星屿科技 (``crmbot chat --external``).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

Row = dict[str, Any]
T = TypeVar("T")

SEED = "crmbot-demo-1"
AGENCY = "青禾互动"
AGENCY_DOMAIN = "qinghe-ad.example"

# --- people ---------------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蒋蔡余杜叶程魏苏吕丁沈钟姜范方陆夏姚廖邹石秦顾孔白温严戴"
GIVEN = "伟芳敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚思远嘉怡子轩若溪一帆小雨宁海峰晓婷欣悦然浩宇晨阳佳琪梦瑶博文凯俊雪慧琳鹏飞亮颖倩昊泽诗涵可馨睿彤璐楠航毅哲薇"
_PINYIN_TABLE = """
王:wang 李:li 张:zhang 刘:liu 陈:chen 杨:yang 黄:huang 赵:zhao 吴:wu 周:zhou 徐:xu 孙:sun 马:ma 朱:zhu
胡:hu 郭:guo 何:he 林:lin 罗:luo 高:gao 郑:zheng 梁:liang 谢:xie 宋:song 唐:tang 许:xu 韩:han 冯:feng
邓:deng 曹:cao 彭:peng 曾:zeng 肖:xiao 田:tian 董:dong 潘:pan 袁:yuan 蒋:jiang 蔡:cai 余:yu 杜:du 叶:ye
程:cheng 魏:wei 苏:su 吕:lv 丁:ding 沈:shen 钟:zhong 姜:jiang 范:fan 方:fang 陆:lu 夏:xia 姚:yao 廖:liao
邹:zou 石:shi 秦:qin 顾:gu 孔:kong 白:bai 温:wen 严:yan 戴:dai
伟:wei 芳:fang 敏:min 静:jing 丽:li 强:qiang 磊:lei 洋:yang 艳:yan 勇:yong 军:jun 杰:jie 娟:juan 涛:tao
明:ming 超:chao 秀:xiu 霞:xia 平:ping 刚:gang 思:si 远:yuan 嘉:jia 怡:yi 子:zi 轩:xuan 若:ruo 溪:xi 一:yi
帆:fan 小:xiao 雨:yu 宁:ning 海:hai 峰:feng 晓:xiao 婷:ting 欣:xin 悦:yue 然:ran 浩:hao 宇:yu 晨:chen
阳:yang 佳:jia 琪:qi 梦:meng 瑶:yao 博:bo 文:wen 凯:kai 俊:jun 雪:xue 慧:hui 琳:lin 鹏:peng 飞:fei 亮:liang
颖:ying 倩:qian 昊:hao 泽:ze 诗:shi 涵:han 可:ke 馨:xin 睿:rui 彤:tong 璐:lu 楠:nan 航:hang 毅:yi 哲:zhe
薇:wei
星:xing 澜:lan 云:yun 知:zhi 鲸:jing 沐:mu 锦:jin 初:chu 朗:lang 拾:shi 栖:qi 蓝:lan 橙:cheng 麦:mai 途:tu
风:feng 鹿:lu 泊:bo 曜:yao 予:yu 佰:bai 优:you 恒:heng 乐:le 瑞:rui 元:yuan 禾:he 屿:yu 光:guang 山:shan
行:xing 木:mu 语:yu 川:chuan 岚:lan 森:sen 晴:qing 汐:xi 象:xiang 果:guo 舟:zhou 原:yuan 辰:chen 泉:quan
谷:gu 桥:qiao 野:ye
"""
_PINYIN = dict(pair.split(":") for pair in _PINYIN_TABLE.split())

# (department, region, [(role, head count)]), in the order staff refs are numbered
DEPARTMENTS: list[tuple[str, str, list[tuple[str, int]]]] = [
    ("管理层", "上海", [("manager", 1), ("admin", 1)]),
    ("客户一部", "上海", [("manager", 1), ("account_manager", 4), ("sales", 3)]),
    ("客户二部", "北京", [("manager", 1), ("account_manager", 4), ("sales", 3)]),
    ("客户三部", "广州", [("manager", 1), ("account_manager", 3), ("sales", 2)]),
    ("策划部", "上海", [("manager", 1), ("planner", 6)]),
    ("设计部", "上海", [("manager", 1), ("designer", 7)]),
    ("媒介部", "上海", [("manager", 1), ("media", 5)]),
    ("客服部", "上海", [("manager", 1), ("service", 4)]),
    ("财务部", "上海", [("viewer", 2)]),
]
# (department, role, n-th of that role there) -> (userid, name)
FIXED_STAFF: dict[tuple[str, str, int], tuple[str, str]] = {
    ("管理层", "admin", 0): ("demo_admin", "周宁"),
    ("客户一部", "manager", 0): ("demo_manager", "林海峰"),
    ("客户一部", "account_manager", 0): ("demo_am", "许嘉怡"),
    ("客户一部", "account_manager", 1): ("demo_am2", "高子轩"),
    ("策划部", "planner", 0): ("demo_planner", "沈若溪"),
    ("设计部", "designer", 0): ("demo_designer", "唐一帆"),
    ("客服部", "service", 0): ("demo_service", "蒋小雨"),
}
ROLE_SKILLS: dict[str, list[str]] = {
    "admin": ["系统配置", "数据治理", "流程管理"],
    "manager": ["团队管理", "大客户管理", "整合营销", "预算管控", "商务谈判"],
    "account_manager": ["大客户管理", "整合营销", "商务谈判", "快消行业", "美妆行业", "科技行业", "年框续约"],
    "sales": ["新客开拓", "招投标", "商务谈判", "行业沙龙", "线索转化"],
    "planner": ["品牌策略", "social文案", "短视频脚本", "直播策划", "活动策划", "整合营销", "小红书种草",
                "KOL策略", "国潮", "TVC创意"],
    "designer": ["三维动画", "平面设计", "国潮插画", "C4D建模", "视频剪辑", "包装设计", "动效设计", "UI设计",
                 "摄影修图", "KV设计"],
    "media": ["KOL投放", "信息流优化", "媒介排期", "千川投放", "小红书聚光", "数据分析", "户外媒体采买",
              "私域运营"],
    "service": ["客户服务", "开票对账", "工单处理", "素材归档"],
    "viewer": ["财务核算", "回款管理", "开票"],
}
TALENT_ROLES = ("planner", "designer", "media")
STYLES = ["国潮", "极简", "科技感", "温暖治愈", "年轻潮酷", "高级质感", "幽默反转", "二次元", "自然清新", "复古港风"]
LEVELS = ["初级", "中级", "中级", "高级", "高级", "资深", "专家"]
TALENT_AREAS = {"planner": "品牌与内容策划", "designer": "视觉与动态设计", "media": "媒介投放与数据优化"}

# --- customers ------------------------------------------------------------------------------

BRAND_HEADS = "星晨澜云远知嘉鲸悦沐若锦初朗拾栖蓝橙麦途风鹿泊曜予佰优恒乐瑞元禾"
BRAND_TAILS = "屿光山行木语川岚森晴汐象果舟原辰溪泉谷桥野帆"
# industry -> [(word in the short name, word in the registered name)]
INDUSTRY_WORDS: dict[str, list[tuple[str, str]]] = {
    "快消": [("乳业", "乳业"), ("食品", "食品"), ("饮品", "饮品"), ("日化", "日化用品"), ("酒业", "酒业")],
    "美妆": [("美妆", "美妆"), ("化妆品", "化妆品"), ("生物", "生物科技"), ("个护", "个人护理用品")],
    "科技": [("科技", "科技"), ("智能", "智能科技"), ("网络", "网络科技"), ("电子", "电子"), ("软件", "软件")],
    "文旅": [("文旅", "文化旅游发展"), ("旅游", "旅游"), ("酒店", "酒店管理"), ("度假", "度假区管理")],
    "汽车": [("汽车", "汽车"), ("新能源", "新能源汽车"), ("出行", "出行科技"), ("车服", "汽车服务")],
    "餐饮": [("茶饮", "茶饮"), ("咖啡", "咖啡"), ("餐饮", "餐饮管理"), ("火锅", "火锅餐饮"), ("烘焙", "烘焙食品")],
    "教育": [("教育", "教育科技"), ("学堂", "教育咨询"), ("培训", "职业技能培训"), ("英语", "语言培训")],
}
INDUSTRIES = list(INDUSTRY_WORDS)
CITIES = ["上海", "北京", "广州", "深圳", "杭州", "成都", "南京", "武汉", "苏州", "厦门"]
TIER_DECK = ["战略级"] * 2 + ["成长级"] * 4 + ["常规级"] * 4
BUDGET_BY_TIER = {"战略级": ["高", "高", "中"], "成长级": ["高", "中", "中", "低"], "常规级": ["中", "低", "低"]}
SCALE_BY_TIER = {"战略级": ["大型", "大型", "中型"], "成长级": ["大型", "中型", "中型"], "常规级": ["中型", "小型", "小型"]}
COMMON_TAGS = ["年度框架", "新品上市", "重视数据", "决策链长", "价格敏感", "创意要求高", "回款慢", "复购客户",
               "转介绍", "大促节点", "品牌升级", "出海业务", "私域需求", "直播需求"]
INDUSTRY_TAGS = {
    "快消": ["大快消", "渠道下沉"], "美妆": ["国货美妆", "成分党"], "科技": ["B2B", "发布会"],
    "文旅": ["目的地营销", "淡旺季明显"], "汽车": ["新车上市", "经销商联动"], "餐饮": ["门店营销", "连锁加盟"],
    "教育": ["招生季", "线索获客"],
}
CUSTOMER_SOURCES = ["老客户转介绍", "展会", "官网表单", "比稿中标", "行业沙龙", "公众号"]
CONTACT_TITLES = ["市场总监", "品牌经理", "新媒体主管", "采购经理", "电商负责人", "CMO", "市场专员", "公关经理",
                  "财务经理"]
PHONE_PREFIXES = ["138", "139", "136", "137", "135", "150", "151", "158", "159", "186", "187", "188", "189",
                  "177", "180", "181", "199"]
SHOWCASE_PHONE = "13812341234"


@dataclass(frozen=True)
class Showcase:
    """A customer the README and the tests talk about; always owned by ``demo_am``."""

    brand: str
    industry: str
    word: tuple[str, str]
    region: str
    tier: str
    budget_level: str
    tags: tuple[str, ...]
    contacts: tuple[tuple[str, str, str, str, str | None], ...]  # name, title, phone, email, external id
    opportunities: tuple[tuple[str, str, int], ...]  # theme, stage, amount (万)
    extra_projects: tuple[str, ...] = ()


SHOWCASES = [
    Showcase("星屿", "科技", ("科技", "科技"), "上海", "战略级", "高", ("年度框架", "发布会", "重视数据"),
             (("王敏", "市场总监", SHOWCASE_PHONE, "wangmin@xingyu.example", "demo_client"),
              ("赵婷", "品牌经理", "13916002288", "zhaoting@xingyu.example", None)),
             (("年度品牌框架", "合同谈判", 150), ("新品发布会直播", "签约成功", 80)),
             extra_projects=("品牌焕新整合传播",)),
    Showcase("晨光", "快消", ("乳业", "乳业"), "南京", "成长级", "中", ("新品上市", "大促节点"),
             (("刘洋", "品牌经理", "13770951234", "liuyang@chenguang.example", None),),
             (("新品发布会", "签约成功", 60), ("夏季新品种草", "方案报价", 35))),
]

# --- sales and delivery ---------------------------------------------------------------------

STAGE_DECK = ["需求确认"] * 5 + ["方案报价"] * 5 + ["合同谈判"] * 3 + ["签约成功"] * 5 + ["输单"] * 2
OPEN_STAGES = ("需求确认", "方案报价", "合同谈判")
AMOUNT_BY_TIER = {"战略级": (80, 500), "成长级": (30, 150), "常规级": (5, 50)}  # 万
FOLLOWUP_DAYS_AGO = [1, 1, 1, 2, 2, 3, 4, 5, 7, 9, 12, 16]
GENERIC_THEMES = ["品牌焕新整合传播", "年度社媒代运营", "618大促整合营销", "双11直播带货", "小红书种草计划",
                  "抖音挑战赛", "春节TVC拍摄", "KOL矩阵投放", "私域会员运营", "周年庆活动", "新品发布会",
                  "信息流效果投放"]
INDUSTRY_THEMES = {
    "快消": ["新品上市推广", "夏季新品种草", "年货节整合营销"],
    "美妆": ["新品精华上市", "七夕限定礼盒", "成分科普内容"],
    "科技": ["新品发布会直播", "开发者大会", "B2B线索获客"],
    "文旅": ["五一目的地营销", "冰雪季推广", "城市漫游季"],
    "汽车": ["新车上市发布", "车展整合传播", "试驾招募活动"],
    "餐饮": ["新店开业活动", "季节限定新品推广", "会员日营销"],
    "教育": ["暑期招生推广", "开学季获客", "品牌公开课"],
}
LEAD_NEEDS = ["做一波抖音新品推广", "找小红书达人种草", "拍一支品牌TVC", "搭建私域会员体系", "投放信息流获客",
              "策划线下快闪活动", "做双11直播带货", "梳理品牌定位与视觉"]
LEAD_SOURCES = ["官网表单", "展会", "老客户转介绍", "公众号", "抖音私信", "招标网站", "行业沙龙"]
LEAD_STATUS_DECK = ["待分配"] * 4 + ["已认领"] * 4 + ["已转化", "已关闭"]

# contract payment scenarios: [(due day relative to today, "paid" / "partial" / "open")];
# the opportunity closed (and the contract was signed) some days before the first due date
PAYMENT_PLANS: dict[str, list[tuple[int, str]]] = {
    "showcase": [(-60, "paid"), (-5, "open"), (4, "open")],
    "paid": [(-150, "paid"), (-90, "paid"), (-30, "paid")],
    "overdue": [(-80, "paid"), (-12, "open"), (35, "open")],
    "partial": [(-40, "partial"), (45, "open")],
    "due_soon": [(-50, "paid"), (3, "open"), (60, "open")],
    "future": [(10, "open"), (70, "open")],
}
PLAN_DECK = ["paid", "overdue", "due_soon", "partial", "future", "due_soon", "paid", "overdue"]
SPLITS = {2: [0.5, 0.5], 3: [0.3, 0.4, 0.3]}

PROJECT_STATUS_DECK = ["进行中"] * 6 + ["筹备中"] * 2 + ["已完成", "已暂停"]
PROJECT_COUNT = 60
TASKS_PER_PROJECT = 10
# (title, kind, who): who is "owner" (the project's manager) or a member role
TASK_TEMPLATES: list[tuple[str, str, str]] = [
    ("客户需求沟通会", "沟通", "owner"),
    ("确认项目brief与KPI", "策划", "owner"),
    ("竞品与社媒声量分析", "策划", "planner"),
    ("创意策略提案初稿", "策划", "planner"),
    ("传播节奏规划", "策划", "planner"),
    ("报价单确认", "商务", "owner"),
    ("短视频脚本撰写", "文案", "planner"),
    ("social文案首轮", "文案", "planner"),
    ("主视觉KV设计", "设计", "designer"),
    ("KOL名单筛选与报价", "媒介", "media"),
    ("合同盖章跟进", "商务", "owner"),
    ("海报延展设计", "设计", "designer"),
    ("短视频分镜", "设计", "designer"),
    ("媒介排期表", "媒介", "media"),
    ("直播脚本与话术", "文案", "planner"),
    ("三维动画渲染", "设计", "designer"),
    ("物料打样确认", "设计", "designer"),
    ("客户提案汇报", "沟通", "owner"),
    ("信息流账户搭建", "媒介", "media"),
    ("达人内容审核", "媒介", "media"),
    ("落地页视觉", "设计", "designer"),
    ("投放数据日报", "媒介", "media"),
    ("素材归档与交付", "交付", "service"),
    ("结案数据报告", "复盘", "media"),
    ("项目复盘会", "复盘", "owner"),
]

VERSION_NOTES = ["初版", "根据客户反馈调整预算分配", "更换主视觉方向", "补充KOL名单与报价", "压缩执行周期",
                 "增加直播环节", "终版：按客户确认意见定稿"]
CLIENT_ANNOTATIONS = ["第3页预算拆分再细一点", "主视觉颜色希望更年轻", "达人名单里美妆垂类再多几个",
                      "排期能否提前一周", "KPI请写成可考核的数字", "直播环节的福利机制再丰富一些",
                      "请补充去年同类项目的数据", "报价里的第三方费用单列"]

# (kind, summary): how a follow-up happened and what was said
INTERACTION_SUMMARIES: list[tuple[str, str]] = [
    ("电话", "电话沟通{theme}的排期，客户希望提前一周上线"),
    ("拜访", "拜访{contact}，介绍了同行业的案例，对方对达人种草很感兴趣"),
    ("微信", "微信跟进报价，客户反馈预算偏紧，希望拆成两期执行"),
    ("会议", "视频会议过了一遍{theme}方案二稿，客户要求KV色调更年轻"),
    ("邮件", "邮件发送结案数据报告，客户对ROI表现满意，约下月复盘"),
    ("微信", "{contact}询问发票开具进度，已转财务跟进"),
    ("电话", "{contact}提到明年有{theme}的计划，约下月详聊"),
    ("会议", "确认合同条款，客户法务对付款节点有修改意见"),
    ("拜访", "陪同客户看直播彩排，现场调整了话术和福利节奏"),
    ("微信", "客户市场部人员调整，新对接人是{contact}，已拉进项目群"),
    ("拜访", "节日问候并送上样品礼盒，顺带了解了下季度预算"),
    ("会议", "对齐{theme}的KPI口径：以平台后台数据为准"),
    ("其他", "在行业沙龙上碰到{contact}，交流了{theme}的想法"),
]

TICKET_TEMPLATES: list[tuple[str, str]] = [
    ("发票", "发票抬头需要改成新的公司名称"), ("发票", "请开具上月服务费的增值税专用发票"),
    ("发票", "数电票收不到邮件"), ("合同", "盖章版合同什么时候寄出"), ("合同", "补充协议需要增加保密条款"),
    ("回款", "对账单金额与合同不一致"), ("回款", "确认第二期款项是否到账"), ("报价", "追加达人的报价明细需要拆分"),
    ("报价", "希望提供媒介费与服务费分开的报价"), ("排期", "直播时间能否调整到周五晚上"),
    ("排期", "春节前能否把TVC成片交付"), ("素材", "TVC成片需要横竖版各一套"), ("素材", "海报用的字体是否有商用授权"),
    ("数据报告", "周报里的曝光数据和平台后台对不上"), ("数据报告", "需要导出达人笔记的原始数据"),
    ("售后", "投放结束后账户余额如何退回"), ("售后", "结案后还能再改一次视频字幕吗"), ("技术", "H5落地页在部分安卓机打不开"),
]
TICKET_NOTES = ["已电话联系客户确认需求", "已转财务/媒介同事处理，预计明天回复", "已在项目群同步处理进度",
                "客户补充了资料，继续跟进", "已按客户要求处理完毕，待客户确认"]
TICKET_STATUS_DECK = ["待处理", "处理中", "处理中", "已解决", "已解决", "已关闭"]
PRIORITY_DECK = ["低", "中", "中", "中", "高", "高", "紧急"]
SLA_HOURS = {"紧急": 4, "高": 8, "中": 24, "低": 48}

# --- cases ----------------------------------------------------------------------------------

CASE_COUNT = 80
CASE_FORMATS: dict[str, dict[str, list[str]]] = {
    "短视频": {"channels": ["抖音", "视频号", "B站"],
             "hooks": ["「{slogan}」抖音挑战赛", "短视频系列剧《{slogan}》", "「{slogan}」短视频内容矩阵"],
             "metrics": ["播放量", "完播率", "互动量", "CTR", "ROI"]},
    "直播": {"channels": ["抖音", "视频号", "小红书"],
           "hooks": ["{festival}品牌自播专场", "达人直播间「{slogan}」带货", "「{slogan}」新品首发直播"],
           "metrics": ["观看人次", "GMV", "转化率", "ROI", "峰值在线"]},
    "KOL/达人": {"channels": ["抖音", "小红书", "B站", "微博"],
               "hooks": ["{n}位达人矩阵传播「{slogan}」", "头部达人联名「{slogan}」", "UP主测评「{slogan}」"],
               "metrics": ["曝光", "互动率", "CPE", "转化率", "ROI"]},
    "种草": {"channels": ["小红书", "抖音", "B站"],
           "hooks": ["小红书KOC种草「{slogan}」", "{n}篇笔记种草「{slogan}」", "{festival}种草季「{slogan}」"],
           "metrics": ["笔记数", "曝光", "互动量", "搜索量提升", "转化率"]},
    "TVC": {"channels": ["视频号", "B站", "朋友圈", "微博"],
            "hooks": ["{festival}TVC《{slogan}》", "品牌片《{slogan}》", "微电影《{slogan}》"],
            "metrics": ["播放量", "覆盖人次", "完播率", "品牌好感度提升"]},
    "户外": {"channels": ["微博", "抖音", "朋友圈"],
           "hooks": ["「{slogan}」地铁包站", "{festival}户外大屏「{slogan}」", "城市快闪「{slogan}」"],
           "metrics": ["覆盖人次", "到店人次", "话题阅读", "线索成本"]},
    "信息流": {"channels": ["抖音", "朋友圈", "微博", "B站"],
            "hooks": ["{festival}信息流获客", "「{slogan}」效果投放", "{festival}信息流拉新"],
            "metrics": ["CTR", "转化率", "线索成本", "ROI", "CPM"]},
    "私域": {"channels": ["朋友圈", "视频号"],
           "hooks": ["私域会员「{slogan}」计划", "企微社群裂变「{slogan}」", "小程序商城「{slogan}」复购计划"],
           "metrics": ["私域新增", "复购率", "转化率", "ROI"]},
}
SLOGANS = ["早安一杯", "轻松一夏", "城市漫游", "国潮新年", "为热爱充电", "一起去野", "好好吃饭", "小小梦想家",
           "向光而行", "慢下来", "夜色正好", "开学第一课", "回家过年", "周末去哪儿", "元气满满", "焕新出发"]
FESTIVALS = ["618", "双11", "春节", "七夕", "中秋", "开学季", "五一", "国庆", "年货节"]
ANONYMOUS_CLIENTS = {
    "快消": ["某新锐饮料品牌", "某国民乳企", "某休闲零食品牌"], "美妆": ["某国货彩妆品牌", "某功效护肤品牌"],
    "科技": ["某智能硬件品牌", "某SaaS企业"], "文旅": ["某5A景区", "某度假酒店集团"],
    "汽车": ["某新能源车企", "某合资车企"], "餐饮": ["某连锁茶饮品牌", "某精品咖啡品牌"],
    "教育": ["某职业教育机构", "某少儿编程品牌"],
}
CASE_BACKGROUNDS = {
    "快消": "品牌推出新品，需要在短时间内建立认知并拉动首批动销。",
    "美妆": "品牌主打成分与功效，希望在年轻女性中建立口碑并带动旗舰店转化。",
    "科技": "新品发布窗口期短，需要让专业用户和大众同时理解产品卖点。",
    "文旅": "目的地淡旺季明显，希望提前锁定假期客流并提升线上预订。",
    "汽车": "新车型上市，需要扩大声量并为经销商门店导入试驾线索。",
    "餐饮": "门店扩张期，需要提升新店知名度并拉动到店与外卖订单。",
    "教育": "招生季获客成本高企，需要降低线索成本并提升到课率。",
}
CASE_STRATEGIES = {
    "短视频": "以「{slogan}」为核心创意设计低门槛的拍同款玩法，头部与腰部达人示范带动用户自发参与，视频挂载购物车实现边看边买。",
    "直播": "搭建品牌自播间与达人专场双线并行，提前三天预热短视频引流，直播中设置限时福利与整点抽奖提升停留。",
    "KOL/达人": "按头部、腰部、KOC金字塔组合达人，统一「{slogan}」内容主线，分阶段释放测评、教程与口碑内容。",
    "种草": "围绕用户真实使用场景产出笔记，配合搜索词布局与信息流加热，把高互动笔记二次投放放大。",
    "TVC": "以真实故事切入，讲述「{slogan}」的品牌主张，成片在社交平台分发并剪出多个短版本做二次传播。",
    "户外": "在核心商圈与地铁站集中投放「{slogan}」主题画面，结合扫码互动把线下曝光导入线上私域。",
    "信息流": "按人群包分层测试多套素材，每日根据点击与转化数据调整出价和定向，优质素材快速放量。",
    "私域": "以企业微信承接公域流量，设计入群福利与会员日机制，通过分层触达提升复购。",
}
CASE_OUTCOMES = ["品牌搜索量显著提升", "客户追加了下一季度预算", "入选平台年度优秀案例", "旗舰店新客占比明显提升",
                 "活动话题登上热榜", "线索质量获得销售团队认可"]


def _pct(lo: float, hi: float) -> Callable[[random.Random], str]:
    return lambda r: f"{r.uniform(lo, hi):.1f}%"


def _count(lo: int, hi: int, unit: str) -> Callable[[random.Random], str]:
    return lambda r: f"{r.randint(lo, hi)}{unit}"


def _roi(r: random.Random) -> str:
    value = r.uniform(1.5, 6.5)
    return f"1:{value:.1f}" if r.random() < 0.3 else f"{value:.1f}"


def _views(r: random.Random) -> str:
    return f"{r.uniform(0.3, 5):.1f}亿" if r.random() < 0.5 else f"{r.randint(800, 9800)}万"


METRICS: dict[str, Callable[[random.Random], str]] = {
    "播放量": _views, "完播率": _pct(18, 45), "互动量": _count(5, 300, "万"), "CTR": _pct(1.2, 6.5), "ROI": _roi,
    "观看人次": _count(50, 2000, "万"), "GMV": _count(80, 5000, "万"), "转化率": _pct(1.5, 12),
    "峰值在线": _count(1, 30, "万"), "曝光": lambda r: f"{r.uniform(0.5, 8):.1f}亿", "互动率": _pct(2, 12),
    "CPE": lambda r: f"{r.uniform(0.8, 4.5):.1f}元", "笔记数": _count(80, 1200, "篇"),
    "搜索量提升": _count(40, 420, "%"), "覆盖人次": _count(500, 9000, "万"), "品牌好感度提升": _pct(5, 25),
    "到店人次": _count(2, 60, "万"), "话题阅读": lambda r: f"{r.uniform(0.5, 12):.1f}亿",
    "线索成本": _count(60, 420, "元/条"), "CPM": _count(18, 80, "元"), "私域新增": _count(1, 50, "万人"),
    "复购率": _pct(15, 48),
}


# --- the world being built --------------------------------------------------------------------


@dataclass
class Person:
    ref: str
    name: str
    role: str
    department: str
    userid: str
    skills: list[str]


@dataclass
class Client:
    ref: str
    short: str
    name: str
    industry: str
    tier: str
    owner: str  # staff ref
    brand_pinyin: str
    showcase: Showcase | None = None
    contacts: list[str] = field(default_factory=list)  # contact refs, primary first
    contact_names: list[str] = field(default_factory=list)
    silent: bool = False  # no contact for two months or more


@dataclass
class Deal:
    ref: str
    client: Client
    name: str
    theme: str
    stage: str
    owner: str
    amount: int  # 万
    closed: date | None = None
    plan: str | None = None  # PAYMENT_PLANS key, for won deals


@dataclass
class Job:
    ref: str
    name: str
    client: Client
    manager: str
    status: str
    start: date
    end: date
    members: dict[str, list[str]]  # role -> staff refs


@dataclass
class World:
    today: date
    staff: list[Person] = field(default_factory=list)
    clients: list[Client] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    contracts: list[tuple[str, Deal]] = field(default_factory=list)
    phones: set[str] = field(default_factory=lambda: {SHOWCASE_PHONE})
    brands: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        reserved = {s.brand for s in SHOWCASES} | {"青禾"}
        combos = [h + t for h in BRAND_HEADS for t in BRAND_TAILS if h != t and h + t not in reserved]
        self.rng("brands").shuffle(combos)
        self.brands = combos

    def rng(self, kind: str) -> random.Random:
        return random.Random(f"{SEED}:{kind}")

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def role(self, role: str) -> list[Person]:
        return [p for p in self.staff if p.role == role]

    def person(self, userid: str) -> Person:
        return next(p for p in self.staff if p.userid == userid)

    def phone(self, rng: random.Random) -> str:
        while True:
            number = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def brand(self) -> str:
        return self.brands.pop()


def generate(today: date) -> dict[str, list[Row]]:
    """Rows per importer kind, in load order; identical for the same ``today``."""
    w = World(today)
    return {
        "staff": _staff_rows(w),
        "customers": _customer_rows(w),
        "contacts": _contact_rows(w),
        "leads": _lead_rows(w),
        "opportunities": _opportunity_rows(w),
        "projects": _project_rows(w),
        "chat_bindings": _chat_binding_rows(w),
        "tasks": _task_rows(w),
        "talents": _talent_rows(w),
        "contracts": _contract_rows(w),
        "payments": _payment_rows(w),
        "proposals": _proposal_rows(w),
        "interactions": _interaction_rows(w),
        "tickets": _ticket_rows(w),
        "cases": _case_rows(w),
        "kb": _kb_rows(w),
    }


# --- small helpers ----------------------------------------------------------------------------


def _deck(rng: random.Random, items: Sequence[T], n: int) -> list[T]:
    """``n`` draws that go through every item (shuffled) before repeating any."""
    out: list[T] = []
    while len(out) < n:
        batch = list(items)
        rng.shuffle(batch)
        out.extend(batch)
    return out[:n]


def _at(day: date, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00+08:00"


def _work_time(rng: random.Random, day: date) -> str:
    return _at(day, rng.randint(9, 19), rng.choice((0, 10, 15, 20, 30, 40, 45, 50)))


def _token(rng: random.Random, n: int, alphabet: str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _pinyin(text: str) -> str:
    return "".join(_PINYIN.get(ch, "") for ch in text)


def _person_name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        if name not in used:
            used.add(name)
            return name


def _unique(base: str, used: set[str]) -> str:
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}{n}"
    used.add(candidate)
    return candidate


# --- people ---------------------------------------------------------------------------------


def _staff_rows(w: World) -> list[Row]:
    rng = w.rng("staff")
    names = {name for _, name in FIXED_STAFF.values()}
    logins = {userid for userid, _ in FIXED_STAFF.values()}
    dingtalk_ids: set[str] = set()
    rows = []
    for department, region, roles in DEPARTMENTS:
        for role, count in roles:
            for i in range(count):
                fixed = FIXED_STAFF.get((department, role, i))
                name = fixed[1] if fixed else _person_name(rng, names)
                login = _unique(_pinyin(name), logins)
                userid = fixed[0] if fixed else login
                dingtalk = userid if fixed else _unique(f"{rng.randrange(10**15, 10**16)}", dingtalk_ids)
                skills = rng.sample(ROLE_SKILLS[role], min(3, len(ROLE_SKILLS[role])))
                person = Person(f"S-{len(rows) + 1:03d}", name, role, department, userid, skills)
                w.staff.append(person)
                rows.append({
                    "ref": person.ref, "name": name, "role": role, "department": department, "region": region,
                    "wecom_userid": userid, "dingtalk_userid": dingtalk, "mobile": w.phone(rng),
                    "email": f"{login}@{AGENCY_DOMAIN}", "skills": skills, "active": True,
                })
    return rows


def _talent_rows(w: World) -> list[Row]:
    rng = w.rng("talents")
    booked: dict[str, str] = {}  # staff ref -> a project they work on, for calendar notes
    for job in w.jobs:
        if job.status == "进行中":
            for refs in job.members.values():
                for ref in refs:
                    booked.setdefault(ref, job.name)
    rows = []
    for person in w.staff:
        if person.role not in TALENT_ROLES:
            continue
        extra = [s for s in ROLE_SKILLS[person.role] if s not in person.skills]
        skills = person.skills + rng.sample(extra, rng.randint(0, 2))
        level = "资深" if person.userid in ("demo_planner", "demo_designer") else rng.choice(LEVELS)
        years = {"初级": 2, "中级": 4, "高级": 6, "资深": 8, "专家": 11}[level] + rng.randint(0, 2)
        industries = rng.sample(INDUSTRIES, 2)
        calendar = []
        if rng.random() < 0.35 or person.userid == "demo_designer":
            start = w.day(rng.randint(3, 25))
            calendar.append({"start": start.isoformat(), "end": (start + timedelta(days=rng.randint(0, 4))).isoformat(),
                             "kind": "leave", "note": rng.choice(["年假", "调休", "病假", "婚假"])})
        if person.ref in booked and rng.random() < 0.6:
            start = w.day(rng.randint(-2, 10))
            calendar.append({"start": start.isoformat(), "end": (start + timedelta(days=rng.randint(2, 9))).isoformat(),
                             "kind": "booked", "note": booked[person.ref]})
        rows.append({
            "ref": person.ref,
            "skills": skills,
            "level": level,
            "satisfaction": round(rng.uniform(3.6, 4.95), 1),
            "styles": rng.sample(STYLES, rng.randint(1, 3)),
            "bio": f"{years}年{TALENT_AREAS[person.role]}经验，擅长{skills[0]}与{skills[1]}，"
                   f"服务过{industries[0]}、{industries[1]}行业的多个品牌项目。",
            "calendar": calendar,
        })
    return rows


# --- customers ------------------------------------------------------------------------------


def _customer_rows(w: World) -> list[Row]:
    rng = w.rng("customers")
    owners = [p for p in w.staff if p.role == "account_manager"] * 3 + [p for p in w.staff if p.role == "sales"] * 2
    demo_am = w.person("demo_am")
    count = 150
    generated = count - len(SHOWCASES)
    industries = _deck(rng, INDUSTRIES, generated)
    tiers = _deck(rng, TIER_DECK, generated)
    owner_deck = _deck(rng, owners, generated)
    specs: list[tuple[str, str, tuple[str, str], str, str, str, Person, Showcase | None]] = [
        (s.brand, s.industry, s.word, s.region, s.tier, s.budget_level, demo_am, s) for s in SHOWCASES
    ]
    for industry, tier, owner in zip(industries, tiers, owner_deck, strict=True):
        specs.append((w.brand(), industry, rng.choice(INDUSTRY_WORDS[industry]), rng.choice(CITIES), tier,
                      rng.choice(BUDGET_BY_TIER[tier]), owner, None))
    rows = []
    for i, (brand, industry, (short_word, legal_word), region, tier, budget, owner, showcase) in enumerate(specs):
        short = brand + short_word
        client = Client(f"C-{i + 1:03d}", short, f"{brand}{legal_word}有限公司", industry, tier, owner.ref,
                        _pinyin(brand), showcase, silent=showcase is None and rng.random() < 0.1)
        w.clients.append(client)
        tags = list(showcase.tags) if showcase else rng.sample(COMMON_TAGS + INDUSTRY_TAGS[industry], rng.randint(1, 3))
        rows.append({
            "ref": client.ref, "name": client.name, "short_name": short,
            "legal_name": f"{region}{brand}{legal_word}有限公司", "industry": industry,
            "scale": rng.choice(SCALE_BY_TIER[tier]), "region": region, "owner": owner.ref, "tier": tier,
            "budget_level": budget, "tags": tags,
            "custom_fields": {"客户来源": rng.choice(CUSTOMER_SOURCES), "合作年限": f"{rng.randint(1, 6)}年",
                              "开票信息": rng.choice(["已提供", "已提供", "待补充"])},
            "consent": rng.random() < 0.75, "status": "合作中",
        })
    return rows


def _contact_rows(w: World) -> list[Row]:
    rng = w.rng("contacts")
    used_names: set[str] = set()
    rows = []
    for client in w.clients:
        if client.showcase:
            people = list(client.showcase.contacts)
        else:
            people = []
            for j in range(rng.choice((1, 2, 2, 3))):
                name = _person_name(rng, used_names)
                external = f"wm{_token(rng, 26)}" if j == 0 else None
                people.append((name, rng.choice(CONTACT_TITLES), w.phone(rng),
                               f"{_pinyin(name)}@{client.brand_pinyin}.example", external))
        for j, (name, title, phone, email, external) in enumerate(people):
            ref = f"CT-{len(rows) + 1:04d}"
            client.contacts.append(ref)
            client.contact_names.append(name)
            row: Row = {"ref": ref, "customer": client.ref, "name": name, "title": title, "phone": phone,
                        "email": email, "is_primary": j == 0}
            if external:
                row["wecom_external_userid"] = external
            rows.append(row)
    return rows


# --- sales ----------------------------------------------------------------------------------


def _lead_rows(w: World) -> list[Row]:
    rng = w.rng("leads")
    sellers = w.role("sales") + w.role("account_manager")
    rows = []
    for i, status in enumerate(_deck(rng, LEAD_STATUS_DECK, 30)):
        industry = rng.choice(INDUSTRIES)
        amount = rng.choice((10, 20, 30, 50, 80, 120))
        row: Row = {
            "ref": f"L-{i + 1:03d}", "name": w.brand() + rng.choice(INDUSTRY_WORDS[industry])[0],
            "industry": industry, "region": rng.choice(CITIES), "source": rng.choice(LEAD_SOURCES),
            "summary": f"{industry}品牌，计划{rng.choice(LEAD_NEEDS)}，预算约{amount}万，希望两周内看到初步方案",
            "amount": f"{amount}万", "status": status,
        }
        if status != "待分配":
            row["owner"] = rng.choice(sellers).ref
            row["claimed_at"] = _work_time(rng, w.day(-rng.randint(1, 40)))
        rows.append(row)
    return rows


def _themes(client: Client) -> list[str]:
    return INDUSTRY_THEMES[client.industry] + GENERIC_THEMES


def _opportunity_rows(w: World) -> list[Row]:
    rng = w.rng("opportunities")
    plans = iter(_deck(rng, PLAN_DECK, len(w.clients) * 2))
    planned: list[tuple[Client, str, str, int]] = []
    generated = [c for c in w.clients if not c.showcase]
    stages = iter(_deck(rng, STAGE_DECK, len(generated) * 2))
    for client in w.clients:
        if client.showcase:
            planned.extend((client, theme, stage, amount) for theme, stage, amount in client.showcase.opportunities)
            continue
        lo, hi = AMOUNT_BY_TIER[client.tier]
        for theme in rng.sample(_themes(client), rng.choice((0, 1, 1, 1, 2))):
            planned.append((client, theme, next(stages), rng.randint(lo, hi)))
    rows = []
    for i, (client, theme, stage, amount) in enumerate(planned):
        deal = Deal(f"O-{i + 1:03d}", client, client.short + theme, theme, stage, client.owner, amount)
        row: Row = {"ref": deal.ref, "customer": client.ref, "name": deal.name, "stage": stage,
                    "amount": f"{amount}万", "owner": deal.owner}
        if stage in OPEN_STAGES:
            followed = 1 if client.showcase and stage == "合同谈判" else rng.choice(FOLLOWUP_DAYS_AGO)
            if client.showcase and stage == "方案报价":
                followed = 5  # a stale one on demo_am's desk
            row["expected_close"] = w.day(rng.randint(10, 90)).isoformat()
            row["last_followup_at"] = _work_time(rng, w.day(-followed))
        else:
            if stage == "签约成功":
                deal.plan = "showcase" if client.showcase and client.ref == "C-001" else next(plans)
                first_due = min(offset for offset, _ in PAYMENT_PLANS[deal.plan])
                deal.closed = w.day(min(first_due - rng.randint(10, 25), -2))
            else:
                deal.closed = w.day(-rng.randint(5, 120))
            row["expected_close"] = deal.closed.isoformat()
            row["closed_at"] = _work_time(rng, deal.closed)
            row["last_followup_at"] = _work_time(rng, deal.closed - timedelta(days=rng.randint(0, 3)))
        w.deals.append(deal)
        rows.append(row)
    return rows


def _contract_rows(w: World) -> list[Row]:
    rng = w.rng("contracts")
    rows = []
    for deal in w.deals:
        if deal.stage != "签约成功" or deal.closed is None or deal.plan is None:
            continue
        ref = f"K-{len(rows) + 1:03d}"
        w.contracts.append((ref, deal))
        plan = PAYMENT_PLANS[deal.plan]
        end = w.day(max(offset for offset, _ in plan) + rng.randint(10, 30))
        finished = all(state == "paid" for _, state in plan) and end < w.today
        rows.append({
            "ref": ref, "customer": deal.client.ref, "opportunity": deal.ref, "title": f"{deal.name}服务合同",
            "amount": deal.amount * 10_000, "owner": deal.owner, "signed_at": deal.closed.isoformat(),
            "start": (deal.closed + timedelta(days=3)).isoformat(), "end": end.isoformat(),
            "status": "已完成" if finished else "履行中",
        })
    return rows + [contract for contract, _ in _history_contracts(w)]


# Past, completed contracts by tier: (days before today it was signed, amount range in 万). They give
# the tier model (crm_core/services/tiering.py) the years, renewals and recent budget behind each
# tier the demo assigns: 战略级 three-plus years with renewals, 成长级 about a year.
HISTORY_BY_TIER: dict[str, list[tuple[int, tuple[int, int]]]] = {
    "战略级": [(1320, (60, 120)), (930, (80, 160)), (560, (100, 200)), (140, (160, 300))],
    "成长级": [(430, (30, 60)), (160, (80, 140))],
    "常规级": [],
}


def _history_contracts(w: World) -> list[tuple[Row, list[Row]]]:
    """Completed contracts of earlier years, each with its (paid) payment plan."""
    rng = w.rng("history")
    out: list[tuple[Row, list[Row]]] = []
    for client in w.clients:
        for n, (days_ago, (lo, hi)) in enumerate(HISTORY_BY_TIER[client.tier], start=1):
            signed = w.day(-days_ago - rng.randint(0, 20))
            amount = rng.randint(lo, hi) * 10_000
            end = signed + timedelta(days=rng.randint(60, 120))
            ref = f"KH-{client.ref[2:]}-{n}"
            contract: Row = {
                "ref": ref, "customer": client.ref, "title": f"{client.short}{signed.year}年度传播服务合同",
                "amount": amount, "owner": client.owner, "signed_at": signed.isoformat(),
                "start": (signed + timedelta(days=3)).isoformat(), "end": end.isoformat(), "status": "已完成",
            }
            halves = [amount // 2, amount - amount // 2]
            payments = [{"ref": f"PM-{ref[1:]}-{seq}", "contract": ref, "seq": seq, "due": due.isoformat(),
                         "amount": part, "paid_amount": part, "paid_at": due.isoformat(), "status": "已收"}
                        for seq, (due, part) in enumerate(((signed + timedelta(days=15), halves[0]),
                                                            (end, halves[1])), start=1)]
            out.append((contract, payments))
    return out


def _payment_rows(w: World) -> list[Row]:
    rng = w.rng("payments")
    rows = []
    for ref, deal in w.contracts:
        plan = PAYMENT_PLANS[deal.plan or "future"]
        total = deal.amount * 10_000
        amounts = [round(total * share) for share in SPLITS[len(plan)][:-1]]
        amounts.append(total - sum(amounts))
        for seq, ((offset, state), amount) in enumerate(zip(plan, amounts, strict=True), start=1):
            jitter = rng.randint(-3, 3) if abs(offset) > 10 else 0  # keep "due within 7 days" exact
            due = w.day(offset + jitter)
            row: Row = {"ref": f"PM-{ref[2:]}-{seq}", "contract": ref, "seq": seq, "due": due.isoformat(),
                        "amount": amount}
            if state == "paid":
                paid_at = min(due + timedelta(days=rng.randint(-3, 2)), w.today)
                row.update(paid_amount=amount, paid_at=paid_at.isoformat(), status="已收")
            elif state == "partial":
                paid_at = min(due + timedelta(days=rng.randint(0, 5)), w.today)
                row.update(paid_amount=amount // 2, paid_at=paid_at.isoformat(), status="部分收款")
            else:
                row["status"] = "待收"
            rows.append(row)
    return rows + [row for _, payments in _history_contracts(w) for row in payments]


def _proposal_rows(w: World) -> list[Row]:
    rng = w.rng("proposals")
    project_of = {job.client.ref: job.ref for job in w.jobs}
    rows = []
    for deal in w.deals:
        if deal.stage not in ("方案报价", "合同谈判", "签约成功") or not deal.client.contacts:
            continue
        n_versions = {"方案报价": rng.randint(1, 2), "合同谈判": rng.randint(2, 3), "签约成功": rng.randint(2, 4)}[deal.stage]
        last = deal.closed - timedelta(days=rng.randint(3, 10)) if deal.closed else w.day(-rng.randint(1, 4))
        created = [last - timedelta(days=6 * (n_versions - 1 - k) + rng.randint(0, 2)) for k in range(n_versions)]
        hot = deal.stage in OPEN_STAGES and (rng.random() < 0.5 or deal.client.showcase is not None)
        versions = []
        for k, day in enumerate(created):
            latest = k == n_versions - 1
            notes = [VERSION_NOTES[0]] if k == 0 else [rng.choice(VERSION_NOTES[1:-1])]
            if latest and deal.stage == "签约成功":
                notes = [VERSION_NOTES[-1]]
            views = []
            for _ in range(rng.randint(0, 2) + (3 if latest and hot else 0)):
                seen = day + timedelta(days=rng.randint(0, 3))
                if latest and hot:
                    seen = max(seen, w.day(-rng.randint(1, 2)))
                views.append({"contact": rng.choice(deal.client.contacts), "viewed_at": _work_time(rng, min(seen, w.day(-1))),
                              "seconds": rng.randint(20, 900)})
            annotations: list[Any] = []
            if not latest or rng.random() < 0.4:
                for text in rng.sample(CLIENT_ANNOTATIONS, rng.randint(0, 2)):
                    annotations.append({"text": text, "contact": deal.client.contacts[0],
                                        "created_at": _at(day, 21, rng.choice((0, 15, 30)))})
            versions.append({"no": k + 1, "change_note": notes[0], "created_at": _work_time(rng, day),
                             "annotations": annotations, "views": views})
        row: Row = {"ref": f"PR-{len(rows) + 1:03d}", "customer": deal.client.ref, "title": f"{deal.name}方案",
                    "opportunity": deal.ref, "owner": deal.owner, "versions": versions}
        if deal.client.ref in project_of and deal.stage == "签约成功":
            row["project"] = project_of[deal.client.ref]
        rows.append(row)
    return rows


# --- delivery -------------------------------------------------------------------------------


def _plan_jobs(w: World, rng: random.Random) -> list[tuple[Client, str, Deal | None]]:
    """Which customers get a project, under which theme: won deals first, then framework work."""
    picked: list[tuple[Client, str, Deal | None]] = [(d.client, d.theme, d) for d in w.deals if d.stage == "签约成功"]
    for client in w.clients:
        if client.showcase:
            picked.extend((client, theme, None) for theme in client.showcase.extra_projects)
    taken = {(c.ref, t) for c, t, _ in picked}
    others = [c for c in w.clients if not c.showcase and c.tier != "常规级"]
    others += [c for c in w.clients if not c.showcase and c.tier == "常规级"]
    pool = others[:]
    rng.shuffle(pool)
    for client in pool:
        if len(picked) >= PROJECT_COUNT:
            break
        theme = rng.choice(_themes(client))
        if (client.ref, theme) not in taken:
            taken.add((client.ref, theme))
            picked.append((client, theme, None))
    return picked[:PROJECT_COUNT]


def _project_rows(w: World) -> list[Row]:
    rng = w.rng("projects")
    creative = {role: w.role(role) for role in ("planner", "designer", "media", "service")}
    demo_members = {"planner": w.person("demo_planner").ref, "designer": w.person("demo_designer").ref}
    plan = _plan_jobs(w, rng)
    statuses = iter(_deck(rng, PROJECT_STATUS_DECK, len(plan)))
    rows = []
    for i, (client, theme, deal) in enumerate(plan):
        if deal is not None and deal.closed is not None:
            start = deal.closed + timedelta(days=rng.randint(5, 12))
            end = start + timedelta(days=rng.randint(40, 110))
            status = "筹备中" if start > w.today else "已完成" if end < w.today else "进行中"
        else:
            status = next(statuses)
            if status == "筹备中":
                start = w.day(rng.randint(3, 20))
            elif status == "已完成":
                start = w.day(-rng.randint(120, 200))
            else:
                start = w.day(-rng.randint(10, 60))
            end = start + timedelta(days=rng.randint(45, 110))
            if status == "已完成":
                end = min(end, w.day(-rng.randint(5, 30)))
        if client.showcase and status == "已完成":  # keep demo_am's projects alive for the README
            status, end = "进行中", w.day(rng.randint(15, 40))
        members = {"planner": [p.ref for p in rng.sample(creative["planner"], rng.randint(1, 2))],
                   "designer": [p.ref for p in rng.sample(creative["designer"], rng.randint(1, 2))],
                   "media": [rng.choice(creative["media"]).ref]}
        if rng.random() < 0.4:
            members["service"] = [rng.choice(creative["service"]).ref]
        if client.showcase:
            for role, ref in demo_members.items():
                if ref not in members[role]:
                    members[role] = [ref, *members[role][:1]]
        job = Job(f"P-{i + 1:03d}", client.short + theme, client, client.owner, status, start, end, members)
        w.jobs.append(job)
        budget = (deal.amount if deal else rng.randint(*AMOUNT_BY_TIER[client.tier])) * 10_000 * 6 // 10
        rows.append({
            "ref": job.ref, "name": job.name, "customer": client.ref, "manager": job.manager, "status": status,
            "start": start.isoformat(), "end": end.isoformat(), "budget": budget,
            "members": [ref for refs in members.values() for ref in refs],
        })
    return rows


def _chat_binding_rows(w: World) -> list[Row]:
    rng = w.rng("chat_bindings")
    rows = []
    for i, job in enumerate(w.jobs):
        row: Row = {"ref": f"G-{job.ref[2:]}", "name": f"{job.name}项目群", "project": job.ref,
                    "kind": "project_group"}
        if i % 5 == 4:  # every fifth project group lives in DingTalk
            row.update(channel="dingtalk", chat_id=f"cid{_token(rng, 22)}==",
                       webhook_url=f"https://oapi.dingtalk.com/robot/send?access_token={_token(rng, 64, '0123456789abcdef')}",
                       webhook_secret=f"SEC{_token(rng, 64, '0123456789abcdef')}")
        else:
            row.update(channel="wecom", chat_id=f"wr{_token(rng, 30)}",
                       webhook_url=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={uuid.UUID(int=rng.getrandbits(128), version=4)}")
        rows.append(row)
    for i, client in enumerate([c for c in w.clients if c.tier == "战略级"][:10]):
        # client service groups are external groups: no group robot can join them
        rows.append({"ref": f"G-S{i + 1:02d}", "channel": "wecom", "chat_id": f"wr{_token(rng, 30)}",
                     "name": f"{client.short}服务群", "customer": client.ref, "kind": "client_service"})
    rows.append({"ref": "G-ALL", "channel": "wecom", "chat_id": "wr_qinghe_all_staff", "name": f"{AGENCY}全员群",
                 "kind": "internal",
                 "webhook_url": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={uuid.UUID(int=rng.getrandbits(128), version=4)}"})
    return rows


def _task_status(rng: random.Random, project_status: str, days_left: int) -> str:
    if project_status == "已完成":
        return "已完成"
    if days_left < 0:
        return "已完成" if rng.random() < 0.75 else rng.choice(("进行中", "待办"))
    if project_status == "已暂停":
        return "待办"
    if rng.random() < 0.03:
        return "已取消"
    if days_left <= 1:
        return "进行中"
    return "进行中" if rng.random() < 0.3 else "待办"


def _task_rows(w: World) -> list[Row]:
    rng = w.rng("tasks")
    rows = []
    for n, job in enumerate(w.jobs):
        picks = sorted(rng.sample(range(len(TASK_TEMPLATES)), TASKS_PER_PROJECT))
        span = max((job.end - job.start).days, TASKS_PER_PROJECT + 1)
        created_day = job.start - timedelta(days=rng.randint(1, 4))
        nudge = job.status == "进行中" and n % 2 == 0  # one task due today or tomorrow
        for k, index in enumerate(picks):
            title, kind, who = TASK_TEMPLATES[index]
            due = job.start + timedelta(days=span * (k + 1) // (TASKS_PER_PROJECT + 1) + rng.randint(-1, 1))
            if nudge and due >= w.today:
                due, nudge = w.day(n // 2 % 2), False
            assignees = [job.manager] if who == "owner" else job.members.get(who) or job.members["planner"]
            status = _task_status(rng, job.status, (due - w.today).days)
            row: Row = {"ref": f"T-{len(rows) + 1:04d}", "project": job.ref, "title": title,
                        "assignee": rng.choice(assignees), "due": due.isoformat(), "status": status, "kind": kind,
                        "created_at": _work_time(rng, created_day)}
            if status == "已完成":
                done = min(max(due + timedelta(days=rng.randint(-3, 2)), created_day + timedelta(days=1)), w.day(-1))
                row["completed_at"] = _at(done, rng.randint(10, 21), rng.choice((0, 15, 30, 45)))
            rows.append(row)
    return rows


# --- service --------------------------------------------------------------------------------


def _interaction_rows(w: World) -> list[Row]:
    rng = w.rng("interactions")
    themes = {job.client.ref: job.name[len(job.client.short):] for job in w.jobs}
    rows = []
    for client in w.clients:
        n = 4 if client.showcase else rng.choice((1, 2, 2, 3, 3, 4))
        ago = rng.randint(61, 150) if client.silent else rng.randint(1, 2) if client.showcase else rng.randint(1, 30)
        for _ in range(n):
            k = rng.randrange(len(client.contacts))
            kind, template = rng.choice(INTERACTION_SUMMARIES)
            summary = template.format(theme=themes.get(client.ref) or rng.choice(_themes(client)),
                                      contact=client.contact_names[k])
            rows.append({"ref": f"I-{len(rows) + 1:04d}", "customer": client.ref, "staff": client.owner,
                         "kind": kind, "occurred_at": _work_time(rng, w.day(-ago)),
                         "contact": client.contacts[k], "summary": summary})
            ago += rng.randint(4, 25)
    return rows


def _ticket_rows(w: World) -> list[Row]:
    rng = w.rng("tickets")
    service = w.role("service")
    demo_service = w.person("demo_service")
    clients = [c for c in w.clients if c.tier != "常规级"]
    rows = []
    for i, (status, priority) in enumerate(zip(_deck(rng, TICKET_STATUS_DECK, 40), _deck(rng, PRIORITY_DECK, 40),
                                               strict=True)):
        client = w.clients[0] if i == 0 else rng.choice(clients)
        category, title = rng.choice(TICKET_TEMPLATES)
        sla = SLA_HOURS[priority]
        created = w.day(-rng.randint(1, 3) if status in ("待处理", "处理中") else -rng.randint(3, 40))
        notes: list[Any] = [rng.choice(TICKET_NOTES)] if status != "待处理" else []
        if status in ("已解决", "已关闭"):
            notes.append({"text": "问题已处理，如还有疑问请在服务群里随时联系我们。", "author": demo_service.name,
                          "internal": False})
        row: Row = {
            "ref": f"TK-{1001 + i}", "customer": client.ref, "contact": rng.choice(client.contacts),
            "title": title, "category": category, "priority": priority, "status": status,
            "assignee": (demo_service if i % 3 == 0 else rng.choice(service)).ref,
            "created_at": _work_time(rng, created), "sla_hours": sla, "notes": notes,
        }
        if status in ("已解决", "已关闭"):
            row["resolved_at"] = _at(created + timedelta(days=rng.randint(0, 2)), 20, rng.choice((0, 30)))
            row["csat"] = rng.choice((5, 5, 4, 4, 3, 5, 4, 2))
        rows.append(row)
    return rows


# --- knowledge ------------------------------------------------------------------------------


def _case_rows(w: World) -> list[Row]:
    rng = w.rng("cases")
    industries = _deck(rng, INDUSTRIES, CASE_COUNT)
    formats = _deck(rng, list(CASE_FORMATS), CASE_COUNT)
    by_industry = {ind: [c for c in w.clients if c.industry == ind] for ind in INDUSTRIES}
    titles: set[str] = set()
    rows = []
    for i, (industry, fmt) in enumerate(zip(industries, formats, strict=True)):
        spec = CASE_FORMATS[fmt]
        client = rng.choice(by_industry[industry]) if rng.random() < 0.6 else None
        client_name = client.short if client else rng.choice(ANONYMOUS_CLIENTS[industry])
        for _ in range(20):  # a fresh slogan rather than a numbered duplicate title
            slogan, festival = rng.choice(SLOGANS), rng.choice(FESTIVALS)
            hook = rng.choice(spec["hooks"]).format(slogan=slogan, festival=festival, n=rng.choice((12, 20, 30, 50)))
            if client_name + hook not in titles:
                break
        title = _unique(client_name + hook, titles)
        year = w.today.year - rng.choice((1, 1, 1, 2, 2, 3, 4))
        keys = [k for k in spec["metrics"] if rng.random() < 0.85] or spec["metrics"][:2]
        metrics = {k: METRICS[k](rng) for k in keys}
        lead, second = keys[0], keys[-1]
        description = (CASE_BACKGROUNDS[industry] + CASE_STRATEGIES[fmt].format(slogan=slogan)
                       + f"活动期间{lead}达到{metrics[lead]}，{second}为{metrics[second]}，{rng.choice(CASE_OUTCOMES)}。")
        month = rng.randint(1, 10)
        period = rng.choice((f"{year}年{month}月-{month + rng.randint(1, 2)}月", f"{year}年{festival}",
                             f"{year}Q{(month - 1) // 3 + 1}"))
        row: Row = {
            "ref": f"CS-{i + 1:03d}", "title": title, "industry": industry, "format": fmt,
            "channels": rng.sample(spec["channels"], rng.randint(1, min(3, len(spec["channels"])))),
            "year": year, "period": period, "budget": f"{rng.randint(4, 120) * 5}万", "client": client_name,
            "description": description, "metrics": metrics,
        }
        if client:
            row["customer"] = client.ref
        rows.append(row)
    return rows


def _kb_rows(w: World) -> list[Row]:
    owners = [p.ref for p in w.role("service")]
    return [{"ref": f"KB-{i + 1:03d}", "title": title, "body": f"{body}\n\n{KB_TIPS[category]}{KB_FOOTER}",
             "category": category, "tags": list(tags), "owner": owners[i % len(owners)]}
            for i, (category, title, tags, body) in enumerate(KB_ARTICLES)]


KB_FOOTER = "如仍有疑问，请在服务群里@客服或发起工单，工作日9:00–18:30内2小时响应。"
KB_TIPS = {
    "发票": "提示：开票申请请在每月25日前提交，月末最后三个工作日财务结账，期间提交的申请顺延到次月初开具。",
    "合同": "提示：合同编号会同步到项目群公告，开票、付款和对账时请引用合同编号，便于财务快速定位。",
    "回款": "提示：每个付款节点到期前7天，客户经理会在项目群里提醒，并附上应付金额和收款账户。",
    "报价": "提示：报价单会注明有效期和是否含税；方案范围变化时请让客户经理重新出具报价，不要沿用旧报价。",
    "排期": "提示：项目排期表在项目群公告里持续更新，任务临近截止或逾期时，机器人会在群里提醒负责人。",
    "素材规范": "提示：各平台规格会不定期调整，最终以平台后台的最新要求为准；上线前我们会做一次规格与合规自查。",
    "数据报告": "提示：数据报告默认以平台后台数据为准，报告中会注明统计时间、归因口径和数据来源。",
    "售后": "提示：售后问题请尽量附上项目名称、文件名或截图，客服可以更快找到对应的项目和负责人。",
    "项目流程": "提示：项目启动后，客户经理、项目经理和执行同事都会在项目群里，群公告里有分工表和排期表。",
}


# (category, title, tags, body): what the service desk is asked every week
KB_ARTICLES: list[tuple[str, str, tuple[str, ...], str]] = [
    # 发票
    ("发票", "如何申请开具增值税专用发票", ("发票", "专票", "财务"),
     "需要开具增值税专用发票时，请在项目服务群里@客服，或发起「发票」类工单，并提供：1. 公司全称；2. 纳税人识别号；"
     "3. 注册地址及电话；4. 开户行及账号；5. 对应的合同编号、开票金额和开票内容。财务核对合同与回款节点无误后，"
     "3个工作日内开出。默认开具数电专票，发送至您指定的邮箱；如需纸质专票，我们用顺丰到付寄出。广告、设计、策划类服务税率为6%。"),
    ("发票", "发票抬头或税号开错了怎么办", ("发票", "红冲", "重开"),
     "发现发票信息有误请尽快告诉我们，处理方式取决于发票状态：1. 数电票未被您方用途确认（未勾选抵扣）的，我方可直接发起红冲后重开；"
     "2. 已勾选抵扣或已入账的，需要您方财务在电子税务局确认红字信息确认单，我方再冲红重开；3. 纸质票跨月的需退回原票。"
     "请在工单里提供原发票号码和正确的开票信息，一般2–5个工作日完成。公司更名的，请同时提供工商变更通知书。"),
    ("发票", "可以先开票后付款吗", ("发票", "付款", "先票后款"),
     "我们的默认规则是「先款后票」，即按合同约定的付款节点到账后开票。年度框架客户或付款流程要求见票付款的客户，"
     "可以申请「先票后款」：由客户经理发起申请，财务负责人审批，并在合同或补充协议中写明见票后的付款期限（通常为30天）。"
     "先票后款的发票逾期未回款的，后续开票会暂停，直至款项结清。"),
    ("发票", "发票内容可以开成哪些品目", ("发票", "开票内容", "合规"),
     "我方可开具的品目包括：广告服务费、广告设计费、策划服务费、会展服务费和技术服务费（如数据监测、投放技术服务）。"
     "发票品目必须与合同约定的服务内容一致，例如投放类合同开「广告服务费」，纯设计项目开「设计服务费」。"
     "我们无法把服务费开成办公用品、会议费、礼品等与实际业务不符的品目，这属于虚开发票，是税务合规红线，敬请理解。"),
    ("发票", "数电票（全电发票）怎么接收和查验", ("发票", "数电票", "电子发票"),
     "我方目前默认开具数电发票，与纸质发票具有同等法律效力。开票后系统会把PDF和OFD文件发送到您登记的邮箱，"
     "同时会同步到您公司的电子发票服务平台（税务数字账户），财务可在平台直接查收和勾选。"
     "如未收到邮件，请先检查垃圾邮件箱，再在工单中告诉我们发票号码，客服会重新推送。"
     "查验真伪可登录国家税务总局全国增值税发票查验平台，输入发票号码和开票日期即可。"),
    ("发票", "多个项目能否合并开一张发票", ("发票", "合并开票", "年框"),
     "同一份合同下的多期款项可以合并开票；不同合同的款项需要分别开票，便于双方对账和审计。"
     "年度框架合同下的子项目，可按月或按季度汇总开票，我们会随发票附上项目明细清单（项目名称、金额、执行周期）。"
     "如需合并，请在申请开票时说明要合并的合同编号或项目，财务确认回款后统一开出。"),
    ("发票", "纸质发票丢失或快递寄丢怎么办", ("发票", "丢失", "纸质发票"),
     "纸质专票丢失时：1. 发票联和抵扣联都丢失的，可凭我方提供的记账联复印件（加盖发票专用章）作为记账和抵扣凭证；"
     "2. 仅丢失其中一联的，可用另一联复印件代替。快递寄丢的，我们会先向快递公司查询并索赔，同时按上述方式补寄复印件。"
     "建议尽量选择数电票，可随时重复下载，不存在丢失问题。"),
    ("发票", "境外主体或外币结算如何开票", ("发票", "境外", "外币"),
     "境外公司无法取得中国增值税发票。与境外主体合作时，我们会签订外币合同，并开具英文形式发票（Commercial Invoice）用于付款。"
     "向境外提供的部分广告服务可能适用增值税免税，需要我方在税务机关备案，请在签约前告诉客户经理，以便提前准备材料。"
     "汇率一般以合同约定日期的中国人民银行中间价为准，银行手续费由双方各自承担。"),
    # 合同
    ("合同", "合同签订流程和所需时间", ("合同", "签约", "流程"),
     "标准流程：1. 客户确认报价单与方案范围；2. 客户经理发起合同申请，使用我方模板或您方模板；3. 我方法务审核，"
     "使用您方模板的审核时间稍长；4. 双方确认终稿后盖章，可选电子签或纸质盖章；5. 合同扫描件归档并同步到项目群。"
     "使用我方模板一般3个工作日完成，您方模板一般5–7个工作日。项目紧急时，可先签订项目确认函启动工作，再补正式合同。"),
    ("合同", "年度框架合同和单项目合同有什么区别", ("合同", "年框", "SOW"),
     "年度框架合同约定全年的服务范围、费率标准、结算方式和双方权责，具体项目通过订单或工作说明书（SOW）下达，"
     "无需每次重签合同，适合全年有多个项目的品牌。单项目合同针对一个项目单独约定内容、金额和交付物，适合首次合作或临时需求。"
     "框架合同本身不承诺采购金额，实际费用以各订单为准；年末我们会与您一起复盘全年执行情况，作为续约参考。"),
    ("合同", "合同可以用电子签吗", ("合同", "电子签", "盖章"),
     "可以。我们支持主流电子签约平台，电子签章符合《电子签名法》要求，与纸质盖章具有同等法律效力。"
     "流程是：客户经理发起签署，您方经办人收到短信或邮件后完成实名认证并加盖企业电子章，签署完成后双方都可下载带签章的PDF。"
     "如您方制度要求纸质合同，我们先盖章后用顺丰寄出一式两份，请您方盖章后寄回一份。"),
    ("合同", "合同变更或增加预算怎么处理", ("合同", "补充协议", "变更"),
     "项目范围、预算、周期发生变化时，需要签订补充协议，写明变更内容、新增金额和调整后的付款节点。"
     "小范围调整（如物料尺寸、交付日期微调）可以通过邮件或项目群书面确认，作为合同附件留存。"
     "请不要只做口头确认：涉及费用的变更没有书面依据，后续对账和开票都会遇到困难。"),
    ("合同", "作品的知识产权归谁", ("合同", "知识产权", "版权"),
     "按照我方标准合同，客户付清全部款项后，定稿作品（如KV、视频成片、文案）的著作权归客户所有。"
     "未采用的提案创意、我方自有的方法论和模板仍归我方。需要注意：作品中使用的字体、图库图片、音乐和演员肖像，"
     "其授权范围以采购时的授权协议为准（通常限定媒体、地域和期限），超出范围使用需要另行购买，我们会在交付时附上授权清单。"),
    ("合同", "盖章版合同多久能寄回", ("合同", "盖章", "快递"),
     "我方收到您方盖章的合同后，2个工作日内完成盖章并顺丰寄回，快递单号会在项目群里同步。"
     "如需加急，请告诉客户经理，当天下午3点前收到的可当天寄出。电子签合同签署完成即生效，无需邮寄。"
     "合同原件寄出后，我们会在系统里归档扫描件，您随时可以在服务群里找客服要电子版。"),
    ("合同", "项目取消或暂停时费用怎么结算", ("合同", "取消", "结算"),
     "项目因客户原因取消或长期暂停时，按已完成的工作量结算：1. 已交付或已进入制作阶段的工作按报价单对应项目计费；"
     "2. 已支付给第三方且无法退回的费用（如达人定金、场地定金、媒体预付款）据实结算，我们会提供凭证；"
     "3. 尚未开始的部分不收费。暂停超过90天的项目，排期和达人报价需要重新确认。具体以合同的解除条款为准。"),
    ("合同", "可以先签保密协议再沟通需求吗", ("合同", "保密协议", "NDA"),
     "可以。涉及新品、未公开财务数据或营销策略时，建议在沟通brief前先签订保密协议（NDA）。"
     "我们可以使用您方模板，也可以提供我方的双向保密协议模板，一般1–2个工作日完成签署。"
     "项目成员都签有公司保密承诺，资料仅在项目组内流转，项目结束后按您的要求删除或归还。"),
    # 回款
    ("回款", "付款方式和我方收款账户", ("回款", "付款", "账户安全"),
     "所有款项请通过对公转账支付到合同上载明的我方收款账户，转账时在备注中写明合同编号或项目名称，方便财务核销。"
     "特别提醒：我们不会通过个人微信、支付宝或个人银行账户收款，收款账户如有变更，会以盖公章的书面函件正式通知。"
     "如有人以我方名义要求您向其他账户付款，请先联系客户经理或客服核实，谨防诈骗。"),
    ("回款", "付款节点一般怎么约定", ("回款", "付款节点", "预付款"),
     "常见的付款节点有：1. 创意策划类：签约后预付30%–50%，方案定稿后付30%，结案验收后付尾款；"
     "2. 媒介投放类：媒体费需在投放前预付，服务费按月结算；3. 达人合作类：达人费用在下单锁档期时预付，"
     "内容发布并验收后付尾款。年度框架客户可按月或按季度结算。具体节点以合同为准，我们会在每个节点到期前7天提醒。"),
    ("回款", "如何查询付款和到账情况", ("回款", "对账", "查询"),
     "您可以在服务群里直接问客服「第二期款到账了吗」，客服会查询财务系统后回复到账日期和金额。"
     "每月5日前，财务会把上月的对账单发给您方财务对接人，列明各合同的应收、已收、未收金额及发票开具情况。"
     "如对账单与您方记录不一致，请在10日前回复，我们会逐笔核对。"),
    ("回款", "对账单金额与合同不一致怎么办", ("回款", "对账", "差异"),
     "出现差异时，通常有以下几种原因：1. 项目有补充协议或追加费用，尚未计入您方台账；2. 媒介投放按实际消耗结算，"
     "与合同预估金额不同；3. 部分款项已付款但银行尚未到账，或付款时未备注合同编号导致未核销。"
     "请在工单里附上您方的付款记录（银行回单），财务会在3个工作日内逐笔核对并给出调整后的对账单。"),
    ("回款", "逾期付款会有什么影响", ("回款", "逾期", "提醒"),
     "付款节点到期后，客户经理和财务会先友好提醒。逾期超过15天的，新的排期和达人下单可能暂缓，"
     "因为媒体和达人需要我们先行垫付；逾期超过30天的，按合同约定可能产生违约金，后续开票也会暂停。"
     "如果您方付款流程较长（如集团审批、月度付款日），请提前告诉我们，我们可以在合同里约定更合适的节点。"),
    ("回款", "媒体充值款和服务费需要分开付吗", ("回款", "媒介费", "服务费"),
     "建议分开支付。媒体充值款是代为支付给媒体平台的费用，金额按投放计划确定，需在投放前到账，"
     "以免账户余额不足导致投放中断；服务费是我方的策划、优化和管理费用，通常按媒体消耗的一定比例或固定月费结算。"
     "分开付款后对账更清晰：媒体费对应平台后台消耗，服务费对应我方服务发票。"),
    ("回款", "付款后多久能确认到账", ("回款", "到账", "核销"),
     "同行转账一般当天到账，跨行转账在工作日通常2小时内到账，节假日会顺延。"
     "财务每个工作日下午核销一次到账款项，核销后系统会更新回款状态，客户经理也会在项目群里确认。"
     "如付款3个工作日后仍显示未收，请把银行回单发给客服，我们会联系银行查询。"),
    # 报价
    ("报价", "报价单里包含哪些费用", ("报价", "费用构成", "预算"),
     "我们的报价一般分为五类：1. 策划创意费：策略、创意、文案；2. 设计制作费：KV、物料、视频拍摄与后期；"
     "3. 执行费：活动现场、直播执行、项目管理；4. 媒介及达人费：媒体投放净价、达人合作费，加上相应的服务费；"
     "5. 第三方费用：场地、演员、版权素材等，据实列支。报价默认含6%增值税，如需不含税报价请提前说明。"),
    ("报价", "为什么不同达人的报价差异很大", ("报价", "达人", "KOL投放"),
     "达人报价由多方面决定：粉丝量级与粉丝质量（真实互动率）、内容形式（图文、短视频、直播，视频和直播更贵）、"
     "是否需要授权二次投放或品牌挂车、是否独家或限定竞品、档期紧张程度（大促前普遍上涨20%–50%）。"
     "同样粉丝量的达人，垂类影响力强的报价更高。我们会附上每位达人近30天的互动数据和历史合作案例，帮助您判断性价比。"),
    ("报价", "媒介服务费率怎么计算", ("报价", "媒介", "服务费率"),
     "媒介服务费通常按媒体实际消耗的一定比例收取，常见区间为5%–15%，具体取决于投放规模、平台数量和优化要求。"
     "例如当月抖音信息流消耗100万元、服务费率8%，则当月服务费为8万元。年消耗金额较大的客户可以约定阶梯费率，"
     "消耗越高费率越低。平台返点政策以媒体当年规定为准，我们会在合同里写明返点的处理方式。"),
    ("报价", "报价单的有效期是多久", ("报价", "有效期", "达人档期"),
     "常规报价单有效期为30天。达人和媒体资源价格波动较大，其中达人报价一般只保留7–14天，大促节点（618、双11、春节）前更短。"
     "超过有效期后我们会重新询价，如价格变化会在项目群里说明。需要锁定价格的，建议尽早确认方案并支付达人定金。"),
    ("报价", "预算有限时方案可以怎么拆", ("报价", "预算", "方案拆分"),
     "预算有限时，我们通常建议：1. 聚焦一个核心渠道，而不是平均分配到多个平台；2. 用腰部达人和KOC组合替代单个头部达人，"
     "内容量更多、性价比更高；3. 复用一套主视觉和视频素材做多尺寸延展；4. 分两期执行，先小规模测试，用数据验证后再追加预算。"
     "把预算范围告诉客户经理，我们会给出两到三个不同档位的方案供您选择。"),
    ("报价", "加急项目会加收费用吗", ("报价", "加急", "排期"),
     "交付周期短于标准周期一半的项目属于加急项目。加急会占用团队的加班时间和外部供应商的加急产能，"
     "一般加收相应环节费用的20%–30%，拍摄、打样等第三方环节的加急费据实收取。"
     "如果时间确实紧张，我们也会先给出一个不加急的简化方案，让您在时间、效果和费用之间权衡。"),
    ("报价", "比稿和提案收费吗", ("报价", "比稿", "提案"),
     "常规的需求沟通和初步思路不收费。正式比稿通常需要投入策略和创意团队一到两周的工作，"
     "我们会与您约定比稿费（一般在中标后抵扣服务费），或约定比稿作品在未中标时不得使用。"
     "创意方案的版权在付费前归我方所有，未中标的方案请不要交给其他供应商执行，这是行业的基本规则。"),
    # 排期
    ("排期", "标准项目排期参考", ("排期", "周期", "项目流程"),
     "以一个中等规模的整合传播项目为例：需求沟通与brief确认1周，策略与创意提案1–2周，方案修改定稿1周，"
     "设计制作与达人沟通2–3周，上线执行2–4周，结案报告在活动结束后10个工作日内提供。"
     "总体需要6–10周。大促项目建议提前8周启动，新品上市项目建议与产品上市时间倒排，预留至少两轮修改时间。"),
    ("排期", "短视频从脚本到上线需要多久", ("排期", "短视频", "拍摄"),
     "一支15–60秒的短视频：脚本撰写与确认3–5个工作日，拍摄准备（选角、场地、道具）3–5个工作日，拍摄1–2天，"
     "剪辑与包装3–5个工作日，客户审片修改2轮约3个工作日，合计约3周。"
     "达人自行拍摄的内容周期较短，从下单到发布一般7–14天，其中包括品牌方的审稿时间，请安排专人及时审核。"),
    ("排期", "直播活动需要提前多久准备", ("排期", "直播", "准备"),
     "品牌自播专场建议提前3–4周启动：第1周确定主题、货品和福利机制；第2周完成直播间搭建方案和脚本；"
     "第3周进行预热短视频投放和主播排练；直播前2天完成全流程彩排。达人专场需要提前锁定达人档期，"
     "头部达人大促档期一般需要提前4–6周预约，并预付定金。"),
    ("排期", "大促节点的排期建议", ("排期", "618", "双11", "大促"),
     "618和双11是全年竞争最激烈的节点，媒体价格和达人报价都会上涨，优质档期也更难抢。建议：双11项目在8月底前启动，"
     "9月完成方案和达人锁定，10月中旬开始预热；618项目在4月初启动。春节项目需考虑快递停运和团队假期，"
     "物料和视频需在腊月二十前全部交付。节点前两周只做微调，不做大改。"),
    ("排期", "排期调整或延期怎么申请", ("排期", "延期", "变更"),
     "需要调整排期时，请在项目群里@项目经理，说明调整原因和希望的新时间。项目经理会在1个工作日内评估影响："
     "是否影响已锁定的达人、媒体和场地档期，是否产生改期费用。评估结果确认后，我们会更新项目排期表并同步到群里。"
     "已锁定的达人改期可能需要重新协调，头部达人改期通常会损失部分定金。"),
    ("排期", "如何锁定达人的档期", ("排期", "达人", "KOL投放"),
     "锁定达人档期的步骤：1. 您确认达人名单和报价；2. 我们向达人或其经纪公司发出合作邀约并确认发布日期；"
     "3. 支付定金（通常为达人费用的30%–50%），档期正式锁定；4. 达人提交脚本或初稿，品牌审核通过后发布。"
     "未付定金的档期只是意向，达人有权接其他合作。大促前热门达人的档期往往在一个月前就排满了。"),
    ("排期", "TVC拍摄的周期和关键节点", ("排期", "TVC", "拍摄"),
     "一支品牌TVC一般需要6–8周：创意脚本2周（含两轮修改）；导演阐述与制作前会议（PPM）1周，确认演员、场景、服装；"
     "拍摄2–3天；后期剪辑、调色、配乐、特效2–3周；审片修改1周。PPM是最重要的节点，"
     "请确保品牌方的决策人参加，PPM确认后的大改会产生额外费用并延长周期。"),
    # 素材规范
    ("素材规范", "抖音信息流广告素材规格", ("素材规范", "抖音", "信息流"),
     "抖音信息流视频推荐竖版9:16，分辨率1080×1920及以上，时长5–60秒（建议15–30秒），MP4格式，H.264编码，大小不超过500MB。"
     "前3秒要出现核心卖点或强钩子，字幕放在画面中间安全区域，避开底部的标题和按钮区域；不要使用未授权的背景音乐。"
     "建议每次投放准备3–5套不同开头的素材做A/B测试。"),
    ("素材规范", "小红书笔记图片和视频规范", ("素材规范", "小红书", "种草"),
     "小红书图文笔记推荐3:4竖图，尺寸1242×1660，单篇最多18张，首图决定点击率，建议真实场景加清晰卖点文字。"
     "视频笔记推荐3:4或9:16，时长1–5分钟内。正文避免使用「最好」「第一」等极限词和功效承诺；"
     "品牌合作笔记需通过蒲公英平台下单并标注合作，私下合作存在限流和违规风险。"),
    ("素材规范", "微信朋友圈广告素材规范", ("素材规范", "朋友圈", "微信"),
     "朋友圈广告常用形式：常规图文（1、3、4、6张图，单图推荐800×800或800×640）、常规视频（竖版9:16或横版16:9，6–30秒）、"
     "卡片广告（横版图加标题）。外层文案不超过40个字，避免诱导分享、虚假承诺和过度营销用语。"
     "落地页建议使用原生推广页，加载更快，转化链路更短。素材需通过平台审核，一般1个工作日内完成。"),
    ("素材规范", "B站和视频号视频规范", ("素材规范", "B站", "视频号"),
     "B站视频推荐横版16:9，1080P及以上，时长2–10分钟的内容更受欢迎，封面要清晰有信息量，标题不要过度夸张。"
     "UP主合作需通过花火平台下单。视频号支持横版和竖版，推荐竖版9:16或6:7，时长1分钟以内的完播率更高，"
     "可以关联公众号文章和小程序实现转化。两个平台都对硬广内容较敏感，建议以内容为主、品牌自然露出。"),
    ("素材规范", "户外大屏和电梯广告素材要求", ("素材规范", "户外", "电梯"),
     "户外大屏的尺寸、分辨率和播放时长因点位而异，下单后媒介会提供每个点位的规格表，请以规格表为准。"
     "通用建议：画面信息精简，一屏只讲一个卖点，文字要在远距离可读；电梯框架海报一般为60×90厘米，输出精度150dpi以上；"
     "电梯视频屏多为15秒，无声播放的点位要保证不看声音也能看懂。户外广告需提前完成当地广告审批，通常需要5–7个工作日。"),
    ("素材规范", "广告法禁用词和极限词", ("素材规范", "广告法", "合规"),
     "根据《广告法》，广告中不得使用「最」「第一」「顶级」「国家级」「100%」等绝对化用语，"
     "不得使用「国家机关推荐」等借用国家机关名义的表述。化妆品不得宣传医疗功效，普通食品不得宣传治疗作用，"
     "教育培训不得承诺考试通过或就业。数据类表述（如「销量领先」）需要有可查证的来源并标注。"
     "我们在提交给您审核前会做一轮合规检查，但最终发布内容请以贵司法务意见为准。"),
    ("素材规范", "字体、图片和音乐的版权注意事项", ("素材规范", "版权", "字体"),
     "商用字体需要购买授权，系统自带字体也未必可以商用，我们的设计稿默认使用已授权字体或免费商用字体，并在交付时附字体清单。"
     "图库图片按授权范围使用，一般限定用途和期限，不能用于商标和转售。背景音乐需使用正版曲库或平台商用音乐库，"
     "直接使用流行歌曲会导致视频被下架甚至被索赔。如您方自行修改设计稿，请不要替换成未授权字体。"),
    ("素材规范", "客户需要提供哪些品牌素材", ("素材规范", "品牌资料", "项目启动"),
     "项目启动时请提供：1. 品牌VI手册，包括标准色、字体和Logo使用规范；2. Logo矢量文件（AI、EPS或SVG格式）；"
     "3. 产品高清图（300dpi以上，白底图加场景图）；4. 产品卖点、成分或参数资料；5. 过往的优秀物料和需要避免的禁忌；"
     "6. 必须遵守的法务和合规要求。资料请统一上传到项目群的共享文件夹，避免版本混乱。"),
    # 数据报告
    ("数据报告", "数据报告多久提供一次", ("数据报告", "周报", "结案报告"),
     "投放类项目默认提供：日报（投放期间每个工作日上午10点前，包含消耗、曝光、点击、转化等核心数据）、"
     "周报（每周一提供，包含趋势分析和优化动作）和结案报告（项目结束后10个工作日内）。"
     "内容类项目提供阶段报告和结案报告。需要固定格式或对接您方BI系统的，请在项目启动时告诉我们。"),
    ("数据报告", "常见投放指标是什么意思", ("数据报告", "指标", "CTR", "ROI"),
     "CPM：每千次曝光成本；CTR（点击率）：点击数除以曝光数；CPC：每次点击成本；CVR（转化率）：转化数除以点击数；"
     "CPA：每次转化成本，获客类项目也叫线索成本；ROI：投放带来的成交金额除以投放花费；互动率：点赞、评论、收藏、分享之和除以曝光或阅读数；"
     "完播率：完整看完视频的播放次数占比。不同平台口径略有差异，报告中会注明数据来源。"),
    ("数据报告", "报告数据和平台后台对不上怎么办", ("数据报告", "数据差异", "口径"),
     "常见原因：1. 统计时间不同，报告按北京时间自然日统计，部分平台后台默认其他时区或有数据延迟；"
     "2. 归因窗口不同，例如转化按点击后1天还是7天归因；3. 去重口径不同，曝光人数和曝光次数不是一回事；"
     "4. 平台后续会剔除无效流量，数据会回调。请把对不上的指标和截图发给我们，媒介同事会在1个工作日内说明差异原因。"),
    ("数据报告", "结案报告包含哪些内容", ("数据报告", "结案报告", "复盘"),
     "结案报告一般包括：1. 项目目标与KPI完成情况；2. 执行回顾：时间线、内容和渠道；3. 核心数据：曝光、互动、点击、转化、成本与ROI，"
     "并与行业均值对比；4. 优秀内容和达人表现排名；5. 用户反馈与舆情摘要；6. 经验总结与下一阶段建议。"
     "我们会安排一次复盘会讲解报告，报告的PDF和原始数据表会同步到项目群。"),
    ("数据报告", "如何获取原始数据或后台账户权限", ("数据报告", "原始数据", "账户权限"),
     "投放账户开在品牌主体名下的，您方本身就拥有后台的全部权限；开在我方代理账户下的，我们可以为您添加只读协作者权限。"
     "达人笔记和视频的原始数据可以从平台后台导出Excel，我们会在结案时一并提供。"
     "涉及用户个人信息的数据（如留资线索）按个人信息保护要求加密传输，仅交付给合同约定的对接人。"),
    ("数据报告", "小红书种草效果怎么评估", ("数据报告", "小红书", "种草"),
     "种草效果建议看三层：1. 内容层：笔记曝光、阅读、互动量和互动率，以及爆文（互动量超过1000）比例；"
     "2. 搜索层：品牌词和品类词的搜索量变化、搜索结果中正向笔记的占比；3. 转化层：通过站内店铺或电商平台的进店和成交数据，"
     "结合投放周期看趋势。种草有滞后效应，建议投放结束后继续观察2–4周再下结论。"),
    ("数据报告", "直播数据复盘看哪些指标", ("数据报告", "直播", "复盘"),
     "直播复盘重点看：观看人次和峰值在线（流量规模）、平均停留时长（内容吸引力）、互动率和新增粉丝（用户参与）、"
     "商品点击率和成交转化率（货品与话术）、GMV、客单价和退款率（成交质量），以及投放ROI。"
     "我们会按时间轴把流量曲线和讲解的商品对应起来，找出流量高峰和流失点，给出下一场的改进建议。"),
    # 售后
    ("售后", "项目结束后素材怎么交付和归档", ("售后", "交付", "归档"),
     "项目结案后5个工作日内，我们会把定稿文件打包交付：设计类提供源文件（PSD、AI）和常用尺寸导出图，视频类提供成片和无字幕版本，"
     "并附上字体、图片、音乐的授权清单。文件通过网盘链接发送到项目群，有效期30天，请及时下载保存。"
     "我方会在内部归档保留两年，之后如需调取，请联系客服。"),
    ("售后", "成品修改次数是怎么规定的", ("售后", "修改", "设计"),
     "报价默认包含2轮修改：每轮修改意见请汇总后一次性提出，由品牌方对接人统一反馈，避免多人意见互相矛盾。"
     "方向性的大改（如更换创意概念、重拍视频）不属于常规修改，需重新评估工作量和费用。"
     "交付后发现的错别字、尺寸错误等我方失误，无论第几轮都会免费修改。"),
    ("售后", "投放结束后账户余额如何退款", ("售后", "退款", "媒介"),
     "投放结束后，媒介会提供账户消耗明细和余额确认单。退款有两种方式：1. 余额保留在账户中，用于下一次投放；"
     "2. 申请退回，需您方出具退款申请函（盖章），我们向平台提交退款申请，平台审核通常需要10–20个工作日，到账后原路退回。"
     "平台赠送的额度和返点部分不能退现，以平台规则为准。"),
    ("售后", "对服务不满意如何反馈", ("售后", "投诉", "服务质量"),
     "如果您对服务有任何不满意，可以直接在服务群里@客服，或通过工单反馈问题，我们承诺：工作时间内2小时内响应，"
     "24小时内给出处理方案。涉及项目质量的问题，会由部门负责人牵头处理。每个工单结束后我们会邀请您评分，"
     "评分和意见会纳入团队的服务考核。您也可以直接联系客户经理的主管。"),
    ("售后", "H5和小程序上线后出问题怎么处理", ("售后", "H5", "技术"),
     "我们开发的H5和小程序活动页在上线后享有30天免费质保，期间出现的功能性问题免费修复。"
     "紧急问题（页面打不开、无法提交）请直接在服务群里@客服并标注「紧急」，技术同事会在1小时内响应；"
     "反馈时请提供手机型号、系统版本、微信版本和问题截图或录屏，方便快速定位。质保期后的维护可签订运维协议。"),
    # 项目流程
    ("项目流程", "新项目启动时客户需要准备什么", ("项目流程", "启动", "brief"),
     "启动会前请准备：1. 项目brief：背景、目标、目标人群、预算范围、关键时间点和考核指标；2. 品牌资料与产品资料；"
     "3. 对接人与审批流程：谁提需求、谁审稿、谁最终拍板；4. 过往类似项目的经验和数据。"
     "我们会在启动会后2个工作日内输出项目排期表和分工表，并建立项目群，客户经理、项目经理和执行同事都会在群里。"),
    ("项目流程", "方案审核和确认的流程", ("项目流程", "审核", "确认"),
     "为避免反复修改，建议按以下流程确认：1. 先确认策略方向和核心创意，再进入执行细节；2. 每个阶段由品牌方指定的对接人统一反馈意见；"
     "3. 确认意见请以书面形式（项目群或邮件）给出，如「方案第二版已确认」；4. 关键节点（创意定稿、达人名单、上线时间）"
     "确认后如需调整，按变更流程处理。方案的每个版本都会在系统中留存，方便追溯修改记录。"),
    ("项目流程", "项目群里的机器人能帮我做什么", ("项目流程", "机器人", "项目群"),
     "项目群里的客户助手机器人会在任务临近截止或逾期时提醒负责人，定期推送项目进度摘要，并在回款节点前提醒相关同事。"
     "您也可以@它查询项目进度、服务相关问题（如开票、合同、排期规范），它会从知识库中找到答案；"
     "遇到需要人工处理的问题，机器人会转给客服并创建工单，客服会在工作时间内尽快回复。"),
]
