"""Forms of the administrators' side: the dashboard's filters and the audit log's, both read from the query
string; an invalid value is reported and left out, never used."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import analytics, scopes
from ..audit.models import AuditEvent
from ..audit.selectors import AuditFilters
from ..choices import INDUSTRIES, LEADING_CHAINS, SECTORS, SIZE_CLASSES
from ..text import clean_user_text

SEARCH_MAX_LENGTH = 100
# The earliest year the year filter offers.
FIRST_YEAR = 2024

# --- the dashboard ----------------------------------------------------------------------------------------


def _choices(blank, pairs):
    return [("", blank), *pairs]


class FilterForm(forms.Form):
    """The dashboard's filters from the query string. Invalid values are dropped (and reported)."""

    district = forms.ChoiceField(label=gettext_lazy("区县"), required=False)
    industry = forms.ChoiceField(
        label=gettext_lazy("行业"), required=False, choices=_choices(gettext_lazy("全部行业"), INDUSTRIES)
    )
    size = forms.ChoiceField(
        label=gettext_lazy("企业规模"), required=False, choices=_choices(gettext_lazy("全部规模"), SIZE_CLASSES)
    )
    chain = forms.ChoiceField(
        label=gettext_lazy("主导产业链"), required=False, choices=_choices(gettext_lazy("全部产业链"), LEADING_CHAINS)
    )
    sector = forms.ChoiceField(
        label=gettext_lazy("重点产业领域"), required=False, choices=_choices(gettext_lazy("全部领域"), SECTORS)
    )
    round = forms.ChoiceField(label=gettext_lazy("轮次"), required=False)
    year = forms.TypedChoiceField(label=gettext_lazy("提交年份"), required=False, coerce=int, empty_value=None)
    level = forms.ChoiceField(label=gettext_lazy("等级"), required=False)
    version = forms.ChoiceField(label=gettext_lazy("问卷版本"), required=False)

    def __init__(
        self,
        data,
        *,
        scope: scopes.AdminScope,
        levels: list[analytics.LevelInfo],
        labels: list[str],
        versions: Sequence[str] = (),
    ):
        """``versions``: the questionnaire versions of the submitted rounds in scope; the version filter is
        offered only when there are several."""
        super().__init__(data)
        self.fields["district"].choices = _choices(
            _("全部区县") if scope.all_districts else _("所辖全部区县"), scope.district_choices
        )
        self.fields["round"].choices = _choices(_("各企业最近一次提交"), [(label, label) for label in labels])
        this_year = timezone.localdate().year
        self.fields["year"].choices = _choices(_("全部年份"), [(y, y) for y in range(this_year, FIRST_YEAR - 1, -1)])
        self.fields["level"].choices = _choices(_("全部等级"), [(lv.code, f"{lv.code} {lv.name}") for lv in levels])
        if len(versions) > 1:
            self.fields["version"].choices = _choices(_("全部版本"), [(v, v) for v in reversed(versions)])
        else:
            del self.fields["version"]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"
            field.widget.template_name = "surveys/manage/widgets/select.html"

    def ignored_labels(self) -> list:
        """The labels of the fields whose value was invalid and is ignored (the pages say so under each field;
        a PDF, which has no form, says so in its scope line), in the form's order."""
        self.is_valid()
        return [field.label for name, field in self.fields.items() if name in self.errors]

    def filters(self) -> analytics.Filters:
        """The filters from the valid fields only: a value outside the scope or the lists is ignored."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return analytics.Filters(
            district=data.get("district") or "",
            industry=data.get("industry") or "",
            size_class=data.get("size") or "",
            leading_chain=data.get("chain") or "",
            round_label=data.get("round") or "",
            year=data.get("year"),
            level=data.get("level") or "",
            version=data.get("version") or "",
            sector=data.get("sector") or "",
        )


class DateInput(forms.DateInput):
    """``<input type="date">``, whose value HTML allows only as a real date (yyyy-mm-dd) or empty: a mistyped
    date from the query string is reported by the field and not written back into the box."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")

    def format_value(self, value):
        if isinstance(value, str):
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                return None
            try:
                datetime.date.fromisoformat(value)
            except ValueError:
                return None
            return value
        return super().format_value(value)


class AuditFilterForm(forms.Form):
    """The audit log's filters from the query string; an invalid field is reported and left out."""

    action = forms.ChoiceField(
        label=gettext_lazy("操作"),
        required=False,
        choices=_choices(gettext_lazy("全部操作"), AuditEvent.ACTION_CHOICES),
    )
    user = forms.CharField(label=gettext_lazy("用户名"), required=False, max_length=150)
    firm = forms.CharField(
        label=gettext_lazy("企业"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        help_text=gettext_lazy("企业名称的一部分，或统一社会信用代码"),
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("名称或信用代码")}),
    )
    enterprise = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label=gettext_lazy("是否成功"),
        required=False,
        choices=[("", gettext_lazy("全部")), ("ok", gettext_lazy("成功")), ("failed", gettext_lazy("失败"))],
    )

    def __init__(self, data):
        super().__init__(data)
        # The query string says "from" and "to", which cannot be declared as class attributes.
        dates = {
            name: forms.DateField(label=label, required=False, widget=DateInput())
            for name, label in (("from", gettext_lazy("起始日期")), ("to", gettext_lazy("截止日期")))
        }
        outcome = self.fields.pop("outcome")
        self.fields.update(dates)
        self.fields["outcome"] = outcome
        for field in self.fields.values():
            is_select = isinstance(field, forms.ChoiceField)
            field.widget.attrs["class"] = "form-select form-select-sm" if is_select else "form-control form-control-sm"

    def clean_user(self):
        return clean_user_text(self.cleaned_data["user"])

    def clean_firm(self):
        return clean_user_text(self.cleaned_data["firm"])

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and start > end:
            self.add_error("to", _("截止日期不能早于起始日期。"))
        return cleaned

    def filters(self) -> AuditFilters:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return AuditFilters(
            action=data.get("action") or "",
            username=data.get("user") or "",
            firm=data.get("firm") or "",
            enterprise_id=data.get("enterprise"),
            date_from=data.get("from"),
            date_to=data.get("to"),
            outcome=data.get("outcome") or "",
        )


# --- the business register --------------------------------------------------------------------------

REGISTER_MAX_UPLOAD_MB = 20  # about 200,000 rows of CSV
REGISTER_EXTENSIONS = (".csv", ".xlsx")


class RegisterUploadForm(forms.Form):
    """The business register file (its rows are validated by surveys/services/register.py)."""

    file = forms.FileField(
        label=gettext_lazy("工商登记名单文件"),
        widget=forms.FileInput(attrs={"accept": ".csv,.xlsx,text/csv", "class": "form-control"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("CSV（UTF-8 或 GB18030 编码）或 Excel（.xlsx）文件，不超过 %(mb)d MB。") % {
            "mb": REGISTER_MAX_UPLOAD_MB
        }

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > REGISTER_MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                _("文件超过 %(mb)d MB 的上限，请拆分后分批导入（或在服务器上用 import_register 命令导入）。")
                % {"mb": REGISTER_MAX_UPLOAD_MB}
            )
        if not upload.name.lower().endswith(REGISTER_EXTENSIONS):
            raise forms.ValidationError(_("只能导入 .csv 或 .xlsx 文件。"))
        return upload
