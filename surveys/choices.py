"""Reference lists for the firm profile: Jinan's districts and zones, GB/T 4754 divisions, sizes, chains.

Values are stable codes (the GB/T 2260 county code, the GB/T 4754 division code); labels are translatable.
"""

from collections.abc import Sequence

from django.utils.translation import gettext_lazy as _

# Jinan: 10 districts and 2 counties (GB/T 2260 codes).
DISTRICTS = [
    ("370102", _("历下区")),
    ("370103", _("市中区")),
    ("370104", _("槐荫区")),
    ("370105", _("天桥区")),
    ("370112", _("历城区")),
    ("370113", _("长清区")),
    ("370114", _("章丘区")),
    ("370115", _("济阳区")),
    ("370116", _("莱芜区")),
    ("370117", _("钢城区")),
    ("370124", _("平阴县")),
    ("370126", _("商河县")),
]

ZONES = [
    ("HTZ", _("济南高新技术产业开发区")),
    ("QBQ", _("济南新旧动能转换起步区")),
    ("NSQ", _("南部山区")),
    ("LGKF", _("济南临港经济开发区")),
    ("GCKF", _("济南钢城经济开发区")),
    ("HYKF", _("济南槐荫经济开发区")),
    ("LWGX", _("莱芜高新区")),
    ("OTHER", _("其他园区")),
]

# GB/T 4754-2017 manufacturing divisions (门类 C), plus "other" for firms outside manufacturing.
INDUSTRIES = [
    ("C13", _("农副食品加工业")),
    ("C14", _("食品制造业")),
    ("C15", _("酒、饮料和精制茶制造业")),
    ("C16", _("烟草制品业")),
    ("C17", _("纺织业")),
    ("C18", _("纺织服装、服饰业")),
    ("C19", _("皮革、毛皮、羽毛及其制品和制鞋业")),
    ("C20", _("木材加工和木、竹、藤、棕、草制品业")),
    ("C21", _("家具制造业")),
    ("C22", _("造纸和纸制品业")),
    ("C23", _("印刷和记录媒介复制业")),
    ("C24", _("文教、工美、体育和娱乐用品制造业")),
    ("C25", _("石油、煤炭及其他燃料加工业")),
    ("C26", _("化学原料和化学制品制造业")),
    ("C27", _("医药制造业")),
    ("C28", _("化学纤维制造业")),
    ("C29", _("橡胶和塑料制品业")),
    ("C30", _("非金属矿物制品业")),
    ("C31", _("黑色金属冶炼和压延加工业")),
    ("C32", _("有色金属冶炼和压延加工业")),
    ("C33", _("金属制品业")),
    ("C34", _("通用设备制造业")),
    ("C35", _("专用设备制造业")),
    ("C36", _("汽车制造业")),
    ("C37", _("铁路、船舶、航空航天和其他运输设备制造业")),
    ("C38", _("电气机械和器材制造业")),
    ("C39", _("计算机、通信和其他电子设备制造业")),
    ("C40", _("仪器仪表制造业")),
    ("C41", _("其他制造业")),
    ("C42", _("废弃资源综合利用业")),
    ("C43", _("金属制品、机械和设备修理业")),
    ("OTHER", _("其他（非制造业）")),
]

SIZE_CLASSES = [
    ("large", _("大型")),
    ("medium", _("中型")),
    ("small", _("小型")),
    ("micro", _("微型")),
]

# Jinan's four leading industries (四大主导支柱产业).
LEADING_CHAINS = [
    ("IT", _("大数据与新一代信息技术")),
    ("EQUIP", _("智能制造与高端装备")),
    ("STEEL", _("精品钢与先进材料")),
    ("BIO", _("生物医药与大健康")),
    ("OTHER", _("其他")),
]


# The city's key sectors (重点产业领域) a register row can be tagged with, several per firm: the flagship
# strengths and pilot sectors Jinan names (domain-cn.md 5.2 and the 起步区's target sectors). Unlike the four
# leading chains (one per firm) they cut across GB/T 4754 divisions, so the city can ask "how digital is
# our CNC machine-tool sector" of firms in C34, C35 and C38 alike.
SECTORS = [
    ("steel", _("精品钢")),
    ("materials", _("先进材料")),
    ("cnc_robot", _("数控机床与机器人")),
    ("truck", _("重型汽车及零部件")),
    ("power_equip", _("电力装备")),
    ("computing", _("服务器与算力设备")),
    ("ic", _("集成电路")),
    ("nev", _("新能源汽车")),
    ("biomed", _("生物医药")),
    ("health", _("大健康（含透明质酸）")),
]

# The departments of a firm (codes: scoring.ITEM_OWNERS): the one that usually knows an item's answer (its
# owner) and the one that leads an action (its lead).
DEPARTMENTS = [
    ("finance", _("财务部门")),
    ("it", _("信息化（IT）部门")),
    ("hr", _("人力资源部门")),
    ("production", _("生产（设备）部门")),
    ("management", _("企业管理层")),
    ("quality", _("质量部门")),
]


def label_of(choices: Sequence[tuple[str, object]], code: str) -> str:
    return str(dict(choices).get(code, code))


# The languages of the interface, and so of a firm's report; each one's PDF /Lang entry (BCP 47).
LANGUAGE_ZH = "zh-hans"
LANGUAGE_EN = "en"
PDF_LANGUAGE = {LANGUAGE_ZH: "zh-CN", LANGUAGE_EN: "en"}


def normalize_language(language: str | None) -> str:
    """``"en"`` for any English code ("en", "en-us"), else ``"zh-hans"`` (the default language)."""
    return LANGUAGE_EN if (language or "").lower().startswith("en") else LANGUAGE_ZH
