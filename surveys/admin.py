from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import selectors, services
from .models import (
    Answer,
    Assessment,
    ContextQuestion,
    Countermeasure,
    Dimension,
    Enterprise,
    Gate,
    Item,
    Level,
    Membership,
    Option,
    Problem,
    Programme,
    Questionnaire,
    RecognitionPath,
    RecommendationRule,
)
from .reports.formatting import format_score


def _questionnaire_of(obj):
    if obj is None:
        return None
    if isinstance(obj, Questionnaire):
        return obj
    if isinstance(obj, Option):
        return obj.item.questionnaire
    return obj.questionnaire


def _touch(obj) -> None:
    questionnaire = obj if isinstance(obj, Questionnaire) or obj is None else _questionnaire_of(obj)
    if questionnaire is not None and questionnaire.pk is not None:
        services.questionnaire_touch(questionnaire_id=questionnaire.pk)


class LockedWhenInUse:
    """A version with submitted assessments is read-only here too; change content by a new version."""

    def _locked(self, obj) -> bool:
        questionnaire = _questionnaire_of(obj)
        return questionnaire is not None and selectors.questionnaire_is_in_use(questionnaire=questionnaire)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._locked(obj)

    # A change to an unused version's content stamps the version, so that every process reads its structure
    # afresh (selectors/structure.py).
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _touch(obj)

    def delete_model(self, request, obj):
        questionnaire = _questionnaire_of(obj)
        super().delete_model(request, obj)
        _touch(questionnaire)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        _touch(form.instance)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._locked(obj)

    def has_add_permission(self, request, obj=None):
        if self._locked(obj):
            return False
        if isinstance(self, admin.options.InlineModelAdmin):
            return super().has_add_permission(request, obj)
        return super().has_add_permission(request)


class DimensionInline(LockedWhenInUse, admin.TabularInline):
    model = Dimension
    fields = ["position", "code", "name_zh", "name_en", "weight"]
    extra = 0


class LevelInline(LockedWhenInUse, admin.TabularInline):
    model = Level
    fields = ["position", "code", "name_zh", "name_en", "min_index"]
    extra = 0


class GateInline(LockedWhenInUse, admin.TabularInline):
    model = Gate
    fields = ["position", "code", "kind", "guards_level", "params", "reason_zh"]
    extra = 0


class ProgrammeInline(LockedWhenInUse, admin.TabularInline):
    model = Programme
    fields = ["position", "code", "level", "name_zh", "name_en", "url"]
    extra = 0


class RecognitionPathInline(LockedWhenInUse, admin.StackedInline):
    model = RecognitionPath
    fields = [
        "position",
        "code",
        "min_level",
        "countermeasure",
        "lead",
        "horizon",
        "priority",
        "text_zh",
        "text_en",
        "done_zh",
        "done_en",
        "programmes",
    ]
    extra = 0


class ContextQuestionInline(LockedWhenInUse, admin.StackedInline):
    model = ContextQuestion
    fields = ["position", "code", "text_zh", "text_en", "multiple", "max_choices", "used_by", "options"]
    extra = 0


@admin.register(Questionnaire)
class QuestionnaireAdmin(LockedWhenInUse, admin.ModelAdmin):
    list_display = ["version", "title_zh", "is_published", "created_at", "in_use"]
    inlines = [DimensionInline, LevelInline, GateInline, ProgrammeInline, RecognitionPathInline, ContextQuestionInline]

    @admin.display(boolean=True, description=_("已有提交"))
    def in_use(self, obj):
        return selectors.questionnaire_is_in_use(questionnaire=obj)


class OptionInline(LockedWhenInUse, admin.TabularInline):
    model = Option
    fields = ["score", "label_zh", "label_en"]
    extra = 0


@admin.register(Item)
class ItemAdmin(LockedWhenInUse, admin.ModelAdmin):
    list_display = ["code", "questionnaire", "dimension", "text_zh", "allows_unknown", "allows_na"]
    list_filter = ["questionnaire", "dimension__code"]
    search_fields = ["code", "text_zh", "text_en"]
    inlines = [OptionInline]
    filter_horizontal = ["covers"]


@admin.register(Problem)
class ProblemAdmin(LockedWhenInUse, admin.ModelAdmin):
    list_display = ["code", "questionnaire", "dimension", "scope", "text_zh"]
    list_filter = ["questionnaire", "scope"]


class RuleInline(LockedWhenInUse, admin.StackedInline):
    model = RecommendationRule
    fields = ["position", "code", "trigger", "priority", "horizon", "lead", "programmes", "text_zh", "text_en"]
    extra = 0


@admin.register(Countermeasure)
class CountermeasureAdmin(LockedWhenInUse, admin.ModelAdmin):
    list_display = ["code", "questionnaire", "title_zh", "heading_zh"]
    list_filter = ["questionnaire"]
    inlines = [RuleInline]


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role", "status", "created_at"]
    readonly_fields = ["created_at"]
    extra = 0


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ["name", "uscc", "district", "industry", "size_class", "created_at"]
    list_filter = ["district", "industry", "size_class"]
    search_fields = ["name", "uscc"]
    inlines = [MembershipInline]


class AnswerInline(admin.TabularInline):
    model = Answer
    fields = ["item", "score", "special", "note", "updated_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["enterprise", "label", "questionnaire", "status", "index_display", "level", "submitted_at"]
    list_filter = ["status", "level", "questionnaire"]
    search_fields = ["enterprise__name", "enterprise__uscc", "label"]
    inlines = [AnswerInline]
    # Answers and results are evidence: nobody edits them, not even in the admin.
    readonly_fields = [
        "enterprise",
        "questionnaire",
        "label",
        "status",
        "last_page",
        "created_by",
        "submitted_at",
        "submitted_by",
        "index_display",
        "provisional_level",
        "level",
        "result",
        "context",
    ]

    def has_add_permission(self, request):
        return False

    # The index as every page shows it (one decimal, a half up); the stored value stays in ``result``.
    @admin.display(description=_("综合指数"), ordering="index")
    def index_display(self, obj):
        return format_score(obj.index)
