"""Data model: the versioned questionnaire definition, firms and their assessment rounds.

No business logic here beyond field-level validation and display helpers: writes live in services/,
reads in selectors/, scoring in scoring.py.
"""

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import choices


class Bilingual:
    """Pick the ``<field>_zh`` or ``<field>_en`` value for the active language (Chinese by default)."""

    def localized(self, field: str) -> str:
        language = (get_language() or "zh-hans").lower()
        if language.startswith("en"):
            value = getattr(self, f"{field}_en", "")
            if value:
                return value
        return getattr(self, f"{field}_zh", "")


class Localized:
    """A read-only attribute that gives ``<name>_zh`` or ``<name>_en`` for the active language:
    ``name = Localized()`` on a Bilingual model reads ``name_zh``/``name_en``."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.field = name

    def __get__(self, instance: Bilingual | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return instance.localized(self.field)


# --- questionnaire definition ------------------------------------------------------------------------


class Questionnaire(Bilingual, models.Model):
    version = models.CharField(_("版本"), max_length=32, unique=True)
    title_zh = models.CharField(_("标题（中文）"), max_length=200)
    title_en = models.CharField(_("标题（英文）"), max_length=200)
    description_zh = models.TextField(_("说明（中文）"), blank=True)
    description_en = models.TextField(_("说明（英文）"), blank=True)
    is_published = models.BooleanField(_("已发布"), default=True, help_text=_("新的评估轮次使用最新发布的版本。"))
    # The scoring rules this version is scored by (seeds/README.md); 1 for every version loaded before it existed.
    rules_version = models.PositiveSmallIntegerField(_("评分规则版本"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("问卷版本")
        verbose_name_plural = _("问卷版本")

    def __str__(self) -> str:
        return f"{self.version} {self.title_zh}"

    title = Localized()

    description = Localized()


class Dimension(Bilingual, models.Model):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="dimensions")
    code = models.CharField(_("编码"), max_length=16)
    position = models.PositiveSmallIntegerField(_("顺序"))
    name_zh = models.CharField(_("名称（中文）"), max_length=100)
    name_en = models.CharField(_("名称（英文）"), max_length=150)
    problem_zh = models.CharField(_("对应问题（中文）"), max_length=200)
    problem_en = models.CharField(_("对应问题（英文）"), max_length=250)
    description_zh = models.TextField(_("说明（中文）"))
    description_en = models.TextField(_("说明（英文）"))
    weight = models.DecimalField(_("权重"), max_digits=5, decimal_places=4)

    class Meta:
        ordering = ["questionnaire", "position"]
        constraints = [models.UniqueConstraint(fields=["questionnaire", "code"], name="dimension_code_unique")]
        verbose_name = _("维度")
        verbose_name_plural = _("维度")

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"

    name = Localized()

    problem = Localized()

    description = Localized()


class Problem(Bilingual, models.Model):
    """A specific problem the source paper names; items say which of these they measure."""

    SCOPE_FIRM = "firm"
    SCOPE_CITY = "city"
    SCOPE_CHOICES = [(SCOPE_FIRM, _("企业层面")), (SCOPE_CITY, _("城市层面"))]

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="problems")
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="problems")
    code = models.CharField(_("编码"), max_length=32)
    position = models.PositiveSmallIntegerField(_("顺序"))
    text_zh = models.CharField(_("问题（中文）"), max_length=300)
    text_en = models.CharField(_("问题（英文）"), max_length=400)
    # "firm": the firm's own problem, covered by items; "city": context for the city report, covered by none.
    scope = models.CharField(_("问题层面"), max_length=8, choices=SCOPE_CHOICES, default=SCOPE_FIRM)
    # City problems: the codes of the items whose answers bear on the problem (seeds: related_items).
    related_items = models.JSONField(_("相关题目"), default=list, blank=True)

    class Meta:
        ordering = ["questionnaire", "position"]
        constraints = [models.UniqueConstraint(fields=["questionnaire", "code"], name="problem_code_unique")]
        verbose_name = _("论文所列问题")
        verbose_name_plural = _("论文所列问题")

    def __str__(self) -> str:
        return f"{self.code} {self.text_zh}"

    text = Localized()


class Item(Bilingual, models.Model):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="items")
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("编码"), max_length=16)
    position = models.PositiveSmallIntegerField(_("顺序"))
    text_zh = models.TextField(_("题目（中文）"))
    text_en = models.TextField(_("题目（英文）"))
    help_zh = models.TextField(_("提示（中文）"), blank=True)
    help_en = models.TextField(_("提示（英文）"), blank=True)
    weight = models.DecimalField(_("题内权重"), max_digits=6, decimal_places=3, default=1)
    allows_unknown = models.BooleanField(_("允许“不清楚”"), default=True)
    allows_na = models.BooleanField(_("允许“不适用”"), default=False)
    # The department that usually knows the answer (scoring.ITEM_OWNERS), or "" when the seed names none.
    owner = models.CharField(_("通常知情的部门"), max_length=16, blank=True, default="")
    covers = models.ManyToManyField(Problem, blank=True, related_name="items", verbose_name=_("覆盖的问题"))
    # The next-rung step (seeds/README.md, "Additions used by 2026.2"): what moves the answer one option up,
    # who leads it (scoring.ITEM_OWNERS; "" means the owner), the horizon of the step to option 1…4, and
    # the codes of the programmes that support it. Empty on versions that do not give them.
    action_zh = models.TextField(_("提升行动（中文）"), blank=True, default="")
    action_en = models.TextField(_("提升行动（英文）"), blank=True, default="")
    lead = models.CharField(_("牵头部门"), max_length=16, blank=True, default="")
    horizons = models.JSONField(_("各级提升期限"), default=list, blank=True)
    programmes = models.JSONField(_("支持项目"), default=list, blank=True)

    class Meta:
        ordering = ["questionnaire", "position"]
        constraints = [models.UniqueConstraint(fields=["questionnaire", "code"], name="item_code_unique")]
        verbose_name = _("题目")
        verbose_name_plural = _("题目")

    def __str__(self) -> str:
        return f"{self.code} {self.text_zh[:40]}"

    text = Localized()

    help = Localized()

    action = Localized()


class Option(Bilingual, models.Model):
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="options")
    score = models.PositiveSmallIntegerField(_("分值"), validators=[MaxValueValidator(4)])
    label_zh = models.TextField(_("选项（中文）"))
    label_en = models.TextField(_("选项（英文）"))

    class Meta:
        ordering = ["item", "score"]
        constraints = [models.UniqueConstraint(fields=["item", "score"], name="option_score_unique")]
        verbose_name = _("选项")
        verbose_name_plural = _("选项")

    def __str__(self) -> str:
        return f"{self.score}: {self.label_zh[:40]}"

    label = Localized()


class Level(Bilingual, models.Model):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="levels")
    code = models.CharField(_("编码"), max_length=8)
    position = models.PositiveSmallIntegerField(_("顺序"))
    name_zh = models.CharField(_("名称（中文）"), max_length=50)
    name_en = models.CharField(_("名称（英文）"), max_length=80)
    description_zh = models.TextField(_("说明（中文）"))
    description_en = models.TextField(_("说明（英文）"))
    min_index = models.DecimalField(_("最低指数"), max_digits=5, decimal_places=2)

    class Meta:
        ordering = ["questionnaire", "position"]
        constraints = [models.UniqueConstraint(fields=["questionnaire", "code"], name="level_code_unique")]
        verbose_name = _("等级")
        verbose_name_plural = _("等级")

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"

    name = Localized()

    description = Localized()


class Gate(Bilingual, models.Model):
    KIND_CHOICES = [
        ("area_floor", _("维度短板")),
        ("key_items", _("关键题")),
        ("unknown_share", _("“不清楚”比例")),
    ]
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="gates")
    code = models.CharField(_("编码"), max_length=32)
    position = models.PositiveSmallIntegerField(_("顺序"))
    kind = models.CharField(_("类型"), max_length=20, choices=KIND_CHOICES)
    guards_level = models.CharField(_("守护等级"), max_length=8)
    # Kind-specific parameters (min_score, min_share, requirements, max_share) as in seeds/README.md.
    params = models.JSONField(_("参数"), default=dict)
    reason_zh = models.TextField(_("原因（中文）"))
    reason_en = models.TextField(_("原因（英文）"))

    class Meta:
        ordering = ["questionnaire", "position"]
        constraints = [models.UniqueConstraint(fields=["questionnaire", "code"], name="gate_code_unique")]
        verbose_name = _("等级门槛")
        verbose_name_plural = _("等级门槛")

    def __str__(self) -> str:
        return self.code

    reason = Localized()


class Countermeasure(Bilingual, models.Model):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="countermeasures")
    code = models.CharField(_("编码"), max_length=16)
    position = models.PositiveSmallIntegerField(_("顺序"))
    title_zh = models.CharField(_("标题（中文）"), max_length=200)
    title_en = models.CharField(_("标题（英文）"), max_length=250)
    heading_zh = models.CharField(_("论文标题"), max_length=200)
    description_zh = models.TextField(_("说明（中文）"))
    description_en = models.TextField(_("说明（英文）"))

    class Meta:
        ordering = ["questionnaire", "position"]
        constraints = [models.UniqueConstraint(fields=["questionnaire", "code"], name="countermeasure_code_unique")]
        verbose_name = _("对策")
        verbose_name_plural = _("对策")

    def __str__(self) -> str:
        return f"{self.code} {self.title_zh}"

    title = Localized()

    description = Localized()


class RecommendationRule(Bilingual, models.Model):
    HORIZON_CHOICES = [("short", _("短期（90天内）")), ("medium", _("中期（1年内）")), ("long", _("长期"))]
    PRIORITY_CHOICES = [(1, _("高")), (2, _("中")), (3, _("低"))]

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="rules")
    countermeasure = models.ForeignKey(Countermeasure, on_delete=models.CASCADE, related_name="rules")
    code = models.CharField(_("编码"), max_length=32)
    position = models.PositiveSmallIntegerField(_("顺序"))
    # {"item": code, "at_most": n} | {"dimension": code, "below": x} | {"gate": code}
    trigger = models.JSONField(_("触发条件"))
    priority = models.PositiveSmallIntegerField(_("优先级"), choices=PRIORITY_CHOICES)
    horizon = models.CharField(_("期限"), max_length=8, choices=HORIZON_CHOICES)
    text_zh = models.TextField(_("建议（中文）"))
    text_en = models.TextField(_("建议（英文）"))
    lead = models.CharField(_("牵头部门"), max_length=16, blank=True, default="")
    programmes = models.JSONField(_("支持项目"), default=list, blank=True)

    class Meta:
        ordering = ["questionnaire", "position"]
        constraints = [models.UniqueConstraint(fields=["questionnaire", "code"], name="rule_code_unique")]
        verbose_name = _("建议规则")
        verbose_name_plural = _("建议规则")

    def __str__(self) -> str:
        return self.code

    text = Localized()


class Programme(Bilingual, models.Model):
    """A public support scheme (national, Shandong or Jinan) that items, rules and paths may name."""

    LEVEL_CHOICES = [("national", _("国家级")), ("shandong", _("山东省")), ("jinan", _("济南市"))]

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="programmes")
    code = models.CharField(_("编码"), max_length=32)
    position = models.PositiveSmallIntegerField(_("顺序"))
    level = models.CharField(_("层级"), max_length=16, choices=LEVEL_CHOICES)
    name_zh = models.CharField(_("名称（中文）"), max_length=200)
    name_en = models.CharField(_("名称（英文）"), max_length=300)
    # Only an official address already quoted in the seed's texts; "" when none.
    url = models.CharField(_("网址"), max_length=500, blank=True, default="")

    class Meta:
        ordering = ["questionnaire", "position"]
        constraints = [models.UniqueConstraint(fields=["questionnaire", "code"], name="programme_code_unique")]
        verbose_name = _("支持项目")
        verbose_name_plural = _("支持项目")

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"

    name = Localized()


class RecognitionPath(Bilingual, models.Model):
    """A recognition or leadership path offered to mature firms (from ``min_level`` up), ranked with the
    next-rung actions by its priority (index points)."""

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="paths")
    code = models.CharField(_("编码"), max_length=32)
    position = models.PositiveSmallIntegerField(_("顺序"))
    min_level = models.CharField(_("最低等级"), max_length=8)
    countermeasure = models.ForeignKey(Countermeasure, on_delete=models.CASCADE, related_name="paths")
    lead = models.CharField(_("牵头部门"), max_length=16)
    horizon = models.CharField(_("期限"), max_length=8, choices=RecommendationRule.HORIZON_CHOICES)
    priority = models.DecimalField(
        _("优先分"), max_digits=5, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(50)]
    )
    text_zh = models.TextField(_("路径（中文）"))
    text_en = models.TextField(_("路径（英文）"))
    done_zh = models.TextField(_("完成标志（中文）"))
    done_en = models.TextField(_("完成标志（英文）"))
    programmes = models.JSONField(_("支持项目"), default=list, blank=True)

    class Meta:
        ordering = ["questionnaire", "position"]
        constraints = [models.UniqueConstraint(fields=["questionnaire", "code"], name="path_code_unique")]
        verbose_name = _("认定与引领路径")
        verbose_name_plural = _("认定与引领路径")

    def __str__(self) -> str:
        return self.code

    text = Localized()

    done = Localized()


class ContextQuestion(Bilingual, models.Model):
    """An unscored question about the firm's situation; its answers go with the round (Assessment.context)."""

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="context_questions")
    code = models.CharField(_("编码"), max_length=32)
    position = models.PositiveSmallIntegerField(_("顺序"))
    text_zh = models.TextField(_("题目（中文）"))
    text_en = models.TextField(_("题目（英文）"))
    help_zh = models.TextField(_("提示（中文）"), blank=True)
    help_en = models.TextField(_("提示（英文）"), blank=True)
    multiple = models.BooleanField(_("可多选"), default=False)
    max_choices = models.PositiveSmallIntegerField(_("最多可选"), null=True, blank=True)
    used_by = models.CharField(_("用于"), max_length=64)
    # [{"code", "label_zh", "label_en", "other"?: true}] in the seed's order (seeds/README.md).
    options = models.JSONField(_("选项"), default=list)

    class Meta:
        ordering = ["questionnaire", "position"]
        constraints = [models.UniqueConstraint(fields=["questionnaire", "code"], name="context_question_code_unique")]
        verbose_name = _("背景问题")
        verbose_name_plural = _("背景问题")

    def __str__(self) -> str:
        return f"{self.code} {self.text_zh[:40]}"

    text = Localized()

    help = Localized()


# --- firms ------------------------------------------------------------------------------------------


class Enterprise(models.Model):
    name = models.CharField(_("企业名称"), max_length=100)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    district = models.CharField(_("所在区县"), max_length=16, choices=choices.DISTRICTS)
    zone = models.CharField(_("所在功能区/园区"), max_length=16, choices=choices.ZONES, blank=True)
    industry = models.CharField(_("所属行业"), max_length=8, choices=choices.INDUSTRIES)
    size_class = models.CharField(_("企业规模"), max_length=8, choices=choices.SIZE_CLASSES)
    above_designated_size = models.BooleanField(_("规模以上工业企业"), default=False)
    leading_chain = models.CharField(_("所属主导产业链"), max_length=16, choices=choices.LEADING_CHAINS)
    contact_name = models.CharField(_("联系人"), max_length=50)
    contact_phone = models.CharField(_("联系电话"), max_length=20)
    created_at = models.DateTimeField(_("注册时间"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        indexes = [models.Index(fields=["district", "industry"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.uscc})"


class RegisterEntry(models.Model):
    """One manufacturing firm of the business register, imported by the city (coverage's denominator).

    It exists whether or not the firm has signed up; it links to the ``Enterprise`` with the same USCC (a
    join on the code, so a firm that corrects its USCC follows). Sector tags are stored as ",steel,biomed,"
    so that one sector is a ``contains`` lookup on every database (``sectors_encode``/``sectors_decode``).
    """

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("企业名称"), max_length=100)
    district = models.CharField(_("所在区县"), max_length=16, choices=choices.DISTRICTS)
    industry = models.CharField(_("所属行业"), max_length=8, choices=choices.INDUSTRIES)
    size_class = models.CharField(_("企业规模"), max_length=8, choices=choices.SIZE_CLASSES)
    leading_chain = models.CharField(
        _("所属主导产业链"), max_length=16, choices=choices.LEADING_CHAINS, blank=True, default=""
    )
    sectors = models.CharField(_("重点产业领域"), max_length=200, blank=True, default="")
    imported_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["uscc"]
        verbose_name = _("工商登记企业")
        verbose_name_plural = _("工商登记企业")
        indexes = [models.Index(fields=["district", "industry"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.uscc})"

    @property
    def sector_codes(self) -> list[str]:
        return sectors_decode(self.sectors)


def sectors_encode(codes: "list[str] | tuple[str, ...]") -> str:
    """Stored form of sector codes: ",steel,biomed," for ["biomed", "steel"] (sorted, unique, delimited on both
    sides; "" for none)."""
    unique = sorted({code for code in codes if code})
    return f",{','.join(unique)}," if unique else ""


def sectors_decode(stored: str) -> list[str]:
    return [code for code in stored.split(",") if code]


def sector_lookup(code: str) -> Q:
    """The filter for register rows tagged with one sector."""
    return Q(sectors__contains=f",{code},")


# The summaries' sector column holds a key sector, or a pair of them (the firms tagged with both): "steel|nev",
# in the order of choices.SECTORS. With a sector filter, the figures by sector count the chosen sector's firms
# in each of their other sectors; the pairs' cells hold exactly those.
SECTOR_PAIR_SEPARATOR = "|"


def sector_pair(first: str, second: str) -> str:
    """The summaries' code of the firms tagged with both sectors (in either order of the arguments)."""
    order = [code for code, _label in choices.SECTORS]
    a, b = sorted((first, second), key=order.index)
    return f"{a}{SECTOR_PAIR_SEPARATOR}{b}"


def sector_pairs_with(code: str) -> list[str]:
    """The summaries' codes of the pairs of ``code`` with each other sector (none for a code not in the list)."""
    codes = [other for other, _label in choices.SECTORS]
    return [sector_pair(code, other) for other in codes if other != code] if code in codes else []


def sector_is_pair(stored: str) -> bool:
    return SECTOR_PAIR_SEPARATOR in stored


def sector_partner(stored: str, chosen: str) -> str:
    """The sector a summaries' code stands for in a table by sector filtered by ``chosen``: the other sector of a
    pair with it, or the code itself."""
    if not sector_is_pair(stored):
        return stored
    first, second = stored.split(SECTOR_PAIR_SEPARATOR)
    return second if first == chosen else first


class Membership(models.Model):
    ROLE_OWNER = "owner"
    ROLE_MEMBER = "member"
    ROLE_CHOICES = [(ROLE_OWNER, _("负责人")), (ROLE_MEMBER, _("成员"))]
    STATUS_ACTIVE = "active"
    STATUS_PENDING = "pending"
    STATUS_CHOICES = [(STATUS_ACTIVE, _("有效")), (STATUS_PENDING, _("待审批"))]

    # One firm per account keeps "whose data is this" unambiguous on every page.
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("角色"), max_length=8, choices=ROLE_CHOICES, default=ROLE_MEMBER)
    status = models.CharField(_("状态"), max_length=8, choices=STATUS_CHOICES, default=STATUS_ACTIVE)
    created_at = models.DateTimeField(_("加入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("企业成员")
        verbose_name_plural = _("企业成员")

    def __str__(self) -> str:
        return f"{self.user} @ {self.enterprise_id} ({self.role}, {self.status})"

    @property
    def is_active_member(self) -> bool:
        return self.status == self.STATUS_ACTIVE

    @property
    def is_owner(self) -> bool:
        return self.is_active_member and self.role == self.ROLE_OWNER


class Invitation(models.Model):
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="invitations")
    # Only a hash of the token is stored: a database dump does not hand out working links.
    token_hash = models.CharField(max_length=64, unique=True)
    email = models.EmailField(_("受邀人邮箱"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("邀请")
        verbose_name_plural = _("邀请")

    def __str__(self) -> str:
        return f"invitation to {self.enterprise_id} ({'used' if self.used_at else 'open'})"


# --- assessment rounds ------------------------------------------------------------------------------


class Assessment(models.Model):
    STATUS_DRAFT = "draft"
    STATUS_SUBMITTED = "submitted"
    STATUS_CHOICES = [(STATUS_DRAFT, _("草稿")), (STATUS_SUBMITTED, _("已提交"))]

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="assessments")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="assessments")
    label = models.CharField(_("轮次"), max_length=32)
    status = models.CharField(_("状态"), max_length=10, choices=STATUS_CHOICES, default=STATUS_DRAFT)
    last_page = models.PositiveSmallIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The stored result of scoring.score() at submission; nothing recomputes it when reading.
    index = models.DecimalField(_("综合指数"), max_digits=6, decimal_places=2, null=True, blank=True)
    provisional_level = models.CharField(_("初判等级"), max_length=8, blank=True)
    level = models.CharField(_("等级"), max_length=8, blank=True)
    result = models.JSONField(_("评估结果"), null=True, blank=True)
    # The firm's most recent submitted round: what peer comparisons and the dashboard count.
    is_latest = models.BooleanField(default=False)
    # The number of the ResultRevision the figures above are (1 until a re-scoring changes them): the results
    # page reads the revisions only when there is more than one. A database default too: bulk seeds insert rows
    # in raw SQL without naming it (demo.py, the scale bench).
    result_revision = models.PositiveIntegerField(default=1, db_default=1)
    # The firm's answers to the version's context questions, never scored:
    # {"C1": {"choices": ["cost", …], "other": "text"}}.
    context = models.JSONField(_("背景信息"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("评估轮次")
        verbose_name_plural = _("评估轮次")
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise"], condition=Q(status="draft"), name="one_open_draft_per_enterprise"
            ),
            models.UniqueConstraint(fields=["enterprise", "label"], name="round_label_unique"),
        ]
        indexes = [models.Index(fields=["status", "level"]), models.Index(fields=["is_latest", "questionnaire"])]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.label} ({self.status})"

    @property
    def is_draft(self) -> bool:
        return self.status == self.STATUS_DRAFT


class Answer(models.Model):
    SPECIAL_CHOICES = [("", _("已选择选项")), ("unknown", _("不清楚")), ("na", _("不适用"))]

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="answers")
    score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(4)]
    )
    special = models.CharField(max_length=8, choices=SPECIAL_CHOICES, blank=True)
    note = models.TextField(_("备注"), max_length=1000, blank=True)
    # Bumped on every change; a save carrying an older revision is a conflict, never an overwrite.
    revision = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        verbose_name = _("答案")
        verbose_name_plural = _("答案")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "item"], name="answer_unique_per_item"),
            models.CheckConstraint(
                condition=(Q(special="") & Q(score__isnull=False) & Q(score__lte=4))
                | (Q(special__in=["unknown", "na"]) & Q(score__isnull=True))
                | (Q(special="") & Q(score__isnull=True)),
                name="answer_score_or_special",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment_id}/{self.item_id}={self.value!r}"

    @property
    def value(self):
        """The answer in scoring.py's terms: 0–4, "unknown", "na", or None (only a note so far)."""
        if self.special:
            return self.special
        return self.score


class DimensionResult(models.Model):
    """Per-dimension scores of a submitted round, as columns, so aggregates run in the database."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="dimension_results")
    dimension = models.ForeignKey(Dimension, on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    unknown_share = models.DecimalField(max_digits=5, decimal_places=4)
    insufficient_data = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["assessment", "dimension"], name="dimension_result_unique")]

    def __str__(self) -> str:
        return f"{self.assessment_id}/{self.dimension_id}={self.score}"


# --- result revisions -----------------------------------------------------------------------------


class ResultRevision(models.Model):
    """One scoring of a submitted round: revision 1 at submission, one more each time a re-scoring after a
    correction of the version's rules changes the result (services.assessment_rescore). The round's row holds
    the current revision's figures; earlier revisions are kept, marked superseded, and the pages say so.

    Rounds submitted before revisions were kept have no row until their first re-scoring, which records their
    revision 1 from the round's stored result (cheaper than copying every stored result in a migration)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("修订号"))
    result = models.JSONField(_("评估结果"))
    index = models.DecimalField(_("综合指数"), max_digits=6, decimal_places=2, null=True, blank=True)
    provisional_level = models.CharField(_("初判等级"), max_length=8, blank=True)
    level = models.CharField(_("等级"), max_length=8, blank=True)
    # Which rules scored it: the version, its rules version and the version's change stamp at that moment.
    questionnaire_version = models.CharField(_("问卷版本"), max_length=32)
    rules_version = models.PositiveSmallIntegerField(_("评分规则版本"))
    rules_stamp = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The re-scoring job (surveys.jobs Job id) that made it; a plain number: jobs are an app of their own.
    job_id = models.BigIntegerField(null=True, blank=True)
    superseded_at = models.DateTimeField(_("作废时间"), null=True, blank=True)

    class Meta:
        ordering = ["assessment", "number"]
        verbose_name = _("结果修订")
        verbose_name_plural = _("结果修订")
        constraints = [models.UniqueConstraint(fields=["assessment", "number"], name="result_revision_unique")]

    def __str__(self) -> str:
        return f"{self.assessment_id} r{self.number} {self.level}"


# --- administrators ---------------------------------------------------------------------------------


class AdministratorScope(models.Model):
    """The districts a district administrator answers for. City administrators need no row.

    Who is an administrator at all comes from Django permissions (normally through the groups that
    ``setup_roles`` creates): ``view_all_firms`` for the whole city, ``view_district_firms`` for the
    districts listed here. surveys/scopes.py turns both into the one scope every administrator query uses.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="administrator_scope")
    # GB/T 2260 codes from choices.DISTRICTS; unknown codes are refused by clean() and ignored when read.
    districts = models.JSONField(_("负责区县"), default=list, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("管理员负责范围")
        verbose_name_plural = _("管理员负责范围")
        permissions = [
            ("view_all_firms", _("查看全市企业的评估结果")),
            ("view_district_firms", _("查看所辖区县企业的评估结果")),
            ("view_contact_details", _("查看企业联系人及电话")),
            ("export_results", _("导出评估结果和汇总报告")),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {', '.join(self.districts) or '-'}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        known = {code for code, _label in choices.DISTRICTS}
        if not isinstance(self.districts, list) or any(code not in known for code in self.districts):
            raise ValidationError({"districts": _("区县代码无效。")})


# --- summary tables ---------------------------------------------------------------------------------
#
# The administrators' figures are read from these, not from the per-firm rows, so that they cost the same
# at 60,000 and at a million firms (README "Summary tables"). surveys/services/summaries.py maintains them in
# the transaction of every write that changes what they count and rebuilds them from the stored results;
# surveys/selectors/summaries.py and surveys/analytics/summaries.py read them.
#
# A cell is one selection of rounds (every submitted round with one label, or each firm's latest submitted
# round) of one questionnaire version at one level, at one *grain*: which of the firm's attributes it keeps
# apart. The grain "fine" keeps every attribute (and the year of submission), so that any combination of
# filters is a sum over its cells; the coarser grains are the same rounds summed beforehand, so that the
# pages without filters (and a district's, an industry's) read a handful of rows whatever the number of
# firms. A firm can carry several key sectors (the business register's tags): it counts once in each of its
# sectors' cells, which only the sector grains have, so a sector's figures are exact and never double count;
# and once in each pair of its sectors' cells (sector_pair; only the rounds and the dimensions' counts), which
# a table by sector under a sector filter reads.

SUMMARY_LATEST = ""  # the label of the cells of each firm's latest submitted round (a round label is never "")
SUMMARY_ANY = "*"  # an attribute a coarser grain sums over
SUMMARY_ANY_YEAR = 0

# grain → the attributes its cells keep apart (every grain keeps the selection, the version and the level).
SUMMARY_GRAINS: dict[str, frozenset[str]] = {
    "all": frozenset(),
    "district": frozenset({"district"}),
    "industry": frozenset({"industry"}),
    "size": frozenset({"size_class"}),
    "chain": frozenset({"leading_chain"}),
    "year": frozenset({"year"}),
    "fine": frozenset({"year", "district", "industry", "size_class", "leading_chain"}),
    "sector": frozenset({"sector"}),
    "sector_fine": frozenset({"year", "district", "industry", "size_class", "leading_chain", "sector"}),
    # Coverage (surveys/analytics/coverage.py): the rounds of the firms whose USCC is a business register row,
    # kept apart by the register row's attributes and sectors, not the firm's profile ("cov_out": the rounds of
    # the firms with no register row, by their profile). The level is not kept (SUMMARY_ANY): coverage ignores
    # it; nor is the index (no SummaryCount rows): coverage only counts.
    "cov_district": frozenset({"district"}),
    "cov_fine": frozenset({"year", "district", "industry", "size_class", "leading_chain"}),
    "cov_sector": frozenset({"district", "sector"}),
    "cov_sec_fine": frozenset({"year", "district", "industry", "size_class", "leading_chain", "sector"}),
    "cov_out": frozenset({"year", "district", "industry", "size_class", "leading_chain"}),
}
SUMMARY_SECTOR_GRAINS = ("sector", "sector_fine")
# The grains whose attributes come from the register row (and "cov_out", which counts the firms without one).
SUMMARY_COVERAGE_GRAINS = ("cov_district", "cov_fine", "cov_sector", "cov_sec_fine", "cov_out")
# What a change of the register (or of a firm's USCC, which picks its register row) moves.
SUMMARY_REGISTER_GRAINS = SUMMARY_SECTOR_GRAINS + SUMMARY_COVERAGE_GRAINS
# A dimension score below this is weak (the line of the questionnaire's {dimension: Dx, below: 40} rules); the
# cells count the weak scores, so a change of the line needs `rebuild_summaries`.
SUMMARY_WEAK_SCORE = 40
# A context option's code is counted by its first characters (the seeds set no length; theirs are short).
SUMMARY_OPTION_LENGTH = 64
# The sector column's width: a sector_pair of the two longest codes fits (tests/test_models.py).
SUMMARY_SECTOR_LENGTH = 32
SUMMARY_FINE_GRAINS = ("fine", "sector_fine", "cov_fine", "cov_sec_fine", "cov_out")


class SummaryCell(models.Model):
    """The rounds of one cell: how many, and the sum of their indexes (in hundredths, exact everywhere).

    The cell's other figures are its SummaryCount rows."""

    grain = models.CharField(max_length=12)
    label = models.CharField(max_length=32)  # SUMMARY_LATEST: each firm's latest submitted round
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()  # of submission (local time); SUMMARY_ANY_YEAR where not kept
    district = models.CharField(max_length=16)  # SUMMARY_ANY where the grain sums over it
    industry = models.CharField(max_length=8)
    size_class = models.CharField(max_length=8)
    leading_chain = models.CharField(max_length=16)
    sector = models.CharField(max_length=SUMMARY_SECTOR_LENGTH)  # "" outside the sector grains; or a sector_pair
    rounds = models.IntegerField(default=0)
    indexed = models.IntegerField(default=0)  # rounds with an index
    index_total = models.BigIntegerField(default=0)  # sum of the indexes × 100

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "grain",
                    "label",
                    "questionnaire",
                    "level",
                    "year",
                    "district",
                    "industry",
                    "size_class",
                    "leading_chain",
                    "sector",
                ],
                name="summary_cell_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.label or 'latest'} {self.questionnaire_id} {self.level}: {self.rounds}"


class SummaryCount(models.Model):
    """One figure of a cell, by kind:

    - ``index``: how many rounds have the index ``value`` (× 100): the histogram the quartiles and the
      percentile come from;
    - ``score``: the same for the usable scores of dimension ``code``;
    - ``dim``: dimension ``code``'s ``option`` = "results" (results stored), "usable" (neither insufficient
      data nor no score; ``total``: their sum × 100), "weak" (usable and below the weak line),
      "insufficient";
    - ``item``: the answers to item id ``value`` at ``option`` = "0"…"4", "unknown" or "na";
    - ``context``: the rounds that chose ``option`` of context question ``code``, or that answered it at all
      (``option`` "");
    - ``prev``: the rounds whose previous round (the firm's round submitted before, of any version) has the
      label ``code`` and the level ``option``; ``total``: that round's index sum × 100;
    - ``prevnow``: the rounds whose previous round has the label ``code``; ``total``: their own index sum × 100
      (their own level is the cell's).
    """

    # No index of its own: the key's unique index starts with the cell.
    cell = models.ForeignKey(SummaryCell, on_delete=models.CASCADE, related_name="counts", db_index=False)
    kind = models.CharField(max_length=8)
    code = models.CharField(max_length=32, blank=True)
    option = models.CharField(max_length=SUMMARY_OPTION_LENGTH, blank=True)
    value = models.IntegerField(default=0)
    rounds = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cell", "kind", "code", "option", "value"], name="summary_count_key")
        ]

    def __str__(self) -> str:
        return f"{self.cell_id} {self.kind} {self.code}/{self.option}/{self.value}: {self.rounds}"


class SummaryFirm(models.Model):
    """Registered firms by district, industry, size and chain, and by key sector (a row per sector of the
    register, no pairs; ``sector`` "" for the firms themselves): the dashboard's denominator."""

    district = models.CharField(max_length=16)
    industry = models.CharField(max_length=8)
    size_class = models.CharField(max_length=8)
    leading_chain = models.CharField(max_length=16)
    sector = models.CharField(max_length=SUMMARY_SECTOR_LENGTH)
    firms = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "industry", "size_class", "leading_chain", "sector"], name="summary_firm_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.district} {self.industry} {self.size_class} {self.leading_chain} {self.sector}: {self.firms}"


class SummaryRegister(models.Model):
    """Business register rows (RegisterEntry) by the row's district, industry, size and chain, and by its sector
    tags (a row per tag and per pair of tags, sector_pair; ``sector`` "" for the register rows themselves):
    coverage's registered counts.

    ``grain`` "fine" keeps every attribute; "district" sums over industry, size and chain (SUMMARY_ANY), so that
    the dashboard reads a handful of rows. Recomputed in the transaction of every register change
    (surveys/services/register.py) and by ``rebuild_summaries``."""

    grain = models.CharField(max_length=12)
    district = models.CharField(max_length=16)
    industry = models.CharField(max_length=8)
    size_class = models.CharField(max_length=8)
    leading_chain = models.CharField(max_length=16)
    sector = models.CharField(max_length=SUMMARY_SECTOR_LENGTH)
    firms = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "district", "industry", "size_class", "leading_chain", "sector"],
                name="summary_register_key",
            )
        ]

    def __str__(self) -> str:
        attributes = (self.district, self.industry, self.size_class, self.leading_chain, self.sector)
        return f"{self.grain} {' '.join(attributes)}: {self.firms}"
