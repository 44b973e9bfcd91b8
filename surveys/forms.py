"""Forms: input validation and messages in the user's language. They hold no business logic."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout
from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.validators import MaxLengthValidator
from django.template.loader import render_to_string
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import scoring, selectors, services, uscc
from .models import ContextQuestion, Enterprise
from .services import NOTE_MAX_LENGTH, AnswerChange, InvalidAnswersError
from .text import clean_user_text

PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")


class CrispyMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


# --- the USCC: one kind of box, one check, warnings confirmed before the code is used ----------------


def uscc_widget() -> forms.TextInput:
    """A USCC box. No maxlength: the browser would cut a pasted code (spaces, separators, a 19th character)
    and register what the user never typed. surveys/static/surveys/uscc.js normalises a paste and on blur
    with the server's rule (``data-uscc-separators``); the server normalises again and checks."""
    return forms.TextInput(
        attrs={
            "data-uscc-separators": uscc.client_pattern(),
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
        }
    )


class UsccField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("widget", uscc_widget())
        super().__init__(**kwargs)


class CodeConfirmInput(forms.CheckboxInput):
    """A checkbox whose value is the code it confirms: ticked for one code, it confirms no other (a code
    changed after the tick is checked, and warned about, afresh)."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.code = ""

    def value_from_datadict(self, data, files, name):
        value = data.get(name, "")
        return value if isinstance(value, str) else ""

    def get_context(self, name, value, attrs):
        context = super(forms.CheckboxInput, self).get_context(name, self.code, attrs)
        if self.code and value == self.code:
            context["widget"]["attrs"]["checked"] = True
        return context


class UsccWarnings:
    """Crispy layout object: the warnings about the entered code, right below its box."""

    def __init__(self, warnings: list[str], html_id: str):
        self.warnings = warnings
        self.html_id = html_id

    def render(self, form, context, **kwargs):
        return render_to_string("surveys/_uscc_warnings.html", {"warnings": self.warnings, "html_id": self.html_id})


class UsccConfirmMixin:
    """A form with a ``uscc`` field and a ``uscc_confirm`` checkbox (left out of the layout until needed).

    A code that breaks a hard rule is an error. A valid code with a warning to confirm (surveys.uscc:
    inner check failed, an individual business, a cooperative, not an enterprise) shows the warnings and the
    checkbox below the box, and the form stays invalid until the box is ticked for that very code."""

    uscc_report: services.UsccReport | None = None

    def _uscc_layout(self, names: list[str]) -> None:
        self.helper.layout = Layout(*[name for name in names if name != "uscc_confirm"])

    def _uscc_check(self, raw: str) -> services.UsccReport:
        report = services.uscc_report(raw)
        if report.errors:
            raise forms.ValidationError(report.errors)
        self.uscc_report = report
        return report

    def _uscc_confirm(self, cleaned: dict) -> None:
        report = self.uscc_report
        confirmed = cleaned.pop("uscc_confirm", "")
        if report is None or not report.needs_confirmation or "uscc" not in cleaned:
            return
        field, bound = self.fields["uscc_confirm"], self["uscc_confirm"]
        field.widget.code = report.code
        bound.label = gettext("我已核对营业执照，代码 %(code)s 无误，仍使用此代码。") % {"code": report.code}
        warnings_id = f"{bound.auto_id}_warnings"
        field.widget.attrs["aria-describedby"] = warnings_id
        position = list(self.helper.layout.fields).index("uscc") + 1
        self.helper.layout.fields[position:position] = [UsccWarnings(report.warnings, warnings_id), "uscc_confirm"]
        if confirmed != report.code:
            self.add_error("uscc_confirm", gettext("请核对上面的提示。如代码与营业执照上的一致，请勾选此项后再提交。"))


def confirm_field() -> forms.Field:
    # A plain Field: no validator of its own (its value is only ever compared with the code), so it never
    # has an error of its own while it is left out of the page.
    return forms.Field(required=False, widget=CodeConfirmInput(), label=_("代码无误"))


class EnterpriseForm(UsccConfirmMixin, CrispyMixin, forms.ModelForm):
    uscc = UsccField(label=_("统一社会信用代码"), help_text=_("18位，见营业执照。"))
    uscc_confirm = confirm_field()

    class Meta:
        model = Enterprise
        fields = [
            "name",
            "uscc",
            "district",
            "zone",
            "industry",
            "size_class",
            "above_designated_size",
            "leading_chain",
            "contact_name",
            "contact_phone",
        ]
        help_texts = {
            "contact_phone": _("手机号或座机（如 0531-88888888）。仅本企业成员和授权管理员可见。"),
            "contact_name": _("仅本企业成员和授权管理员可见。"),
        }

    def __init__(self, *args, check_duplicates: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.check_duplicates = check_duplicates
        if self.instance.pk:
            # The code identifies the firm: it is corrected on its own page, by the owner or a city administrator.
            self.fields["uscc"].disabled = True
            self.fields["uscc"].help_text = _("此代码不能在此修改，更正方法见本页下方。")
            del self.fields["uscc_confirm"]
        else:
            self._uscc_layout(list(self.fields))

    @property
    def uscc_warnings(self) -> list[str]:
        return self.uscc_report.warnings if self.uscc_report else []

    def clean_name(self):
        name = clean_user_text(self.cleaned_data["name"])
        if len(name) < 2:
            raise forms.ValidationError(_("请填写企业全称。"))
        return name

    def clean_contact_name(self):
        name = clean_user_text(self.cleaned_data["contact_name"])
        if not name:  # only invisible characters: as if left empty
            raise forms.ValidationError(self.fields["contact_name"].error_messages["required"], code="required")
        return name

    def clean_uscc(self):
        if self.instance.pk:
            return self.instance.uscc
        report = self._uscc_check(self.cleaned_data.get("uscc", ""))
        if self.check_duplicates and selectors.enterprise_by_uscc(uscc=report.code):
            raise forms.ValidationError(services.USCC_TAKEN)
        return report.code

    def clean_contact_phone(self):
        phone = "".join(self.cleaned_data["contact_phone"].split())
        if not PHONE_RE.match(phone):
            raise forms.ValidationError(_("请填写有效的手机号（11位）或带区号的座机号。"))
        return phone

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk:
            self._uscc_confirm(cleaned)
        return cleaned


class UsccCorrectionForm(UsccConfirmMixin, CrispyMixin, forms.Form):
    """Correcting a firm's mistyped code (the owner's page and the city administrator's)."""

    uscc = UsccField(label=_("正确的统一社会信用代码"), help_text=_("18位，见营业执照。"))
    uscc_confirm = confirm_field()

    def __init__(self, *args, enterprise: Enterprise, **kwargs):
        super().__init__(*args, **kwargs)
        self.enterprise = enterprise
        self._uscc_layout(list(self.fields))

    def clean_uscc(self):
        report = self._uscc_check(self.cleaned_data.get("uscc", ""))
        if report.code == self.enterprise.uscc:
            raise forms.ValidationError(_("新代码与当前代码相同，无需更正。"))
        other = selectors.enterprise_by_uscc(uscc=report.code)
        if other is not None and other.pk != self.enterprise.pk:
            raise forms.ValidationError(_("该统一社会信用代码已被另一家已注册企业使用，不能更正为此代码。"))
        return report.code

    def clean(self):
        cleaned = super().clean()
        self._uscc_confirm(cleaned)
        return cleaned


class AccountForm(CrispyMixin, forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    email = forms.EmailField(label=_("电子邮箱"), help_text=_("用于找回密码。"))
    password1 = forms.CharField(label=_("密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label=_("确认密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The rules beside the box from the start, in the user's language (Django's validators' own texts).
        self.fields["password1"].help_text = password_validation.password_validators_help_text_html()

    def clean_username(self):
        # The name as it will be stored: create_user() applies NFKC, so "ｗａｎｇ" is "wang" and must be
        # checked as such (otherwise the unique constraint fails with a 500 instead of this message).
        username = get_user_model().normalize_username(clean_user_text(self.cleaned_data["username"]))
        if not username:
            raise forms.ValidationError(self.fields["username"].error_messages["required"], code="required")
        MaxLengthValidator(150)(username)  # NFKC can lengthen a name ("ﷺ" is 18 characters)
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("该用户名已被使用。"))
        return username

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("两次输入的密码不一致。"))
        elif p1:
            user = get_user_model()(username=cleaned.get("username", ""), email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(p1, user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class SignupModeForm(forms.Form):
    MODE_NEW = "new"
    MODE_JOIN = "join"
    mode = forms.ChoiceField(
        label=_("企业"),
        choices=[(MODE_NEW, _("注册新企业（我是负责人）")), (MODE_JOIN, _("申请加入已注册企业"))],
        widget=forms.RadioSelect,
        initial=MODE_NEW,
    )
    join_uscc = UsccField(label=_("要加入企业的统一社会信用代码"), required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("mode") == self.MODE_JOIN:
            report = services.uscc_report(cleaned.get("join_uscc", ""))
            if report.errors:
                self.add_error("join_uscc", report.errors)
            else:
                enterprise = selectors.enterprise_by_uscc(uscc=report.code)
                if enterprise is None:
                    self.add_error("join_uscc", _("没有以该代码注册的企业。请核对代码，或选择“注册新企业”。"))
                cleaned["join_enterprise"] = enterprise
        return cleaned


class InviteForm(CrispyMixin, forms.Form):
    email = forms.EmailField(label=_("同事的电子邮箱（可选）"), required=False)


class RoundStartForm(forms.Form):
    """The firm page's one box. Written out by its template (not crispy: one field, on the page every member
    lands on), so the widget carries Bootstrap's class; errors come back as a message after the redirect."""

    label = forms.CharField(
        label=_("轮次名称"),
        max_length=32,
        required=False,
        help_text=_("例如“2026 T0”；留空自动命名。"),
        widget=forms.TextInput(attrs={"class": "textinput form-control"}),
    )

    def clean_label(self):
        return clean_user_text(self.cleaned_data["label"])


class SubmitForm(forms.Form):
    """The pledge, and the answers to the version's context questions (optional, unscored): per question
    ``context-<code>`` (the options ticked) and, when it has an "other" option, ``context-<code>-other``.
    The rules are the service's (services.context_answer_clean); their messages go next to the field."""

    pledge = forms.BooleanField(
        label=_("我承诺：以上填报内容真实、准确，由本企业据实填写。"),
        error_messages={"required": _("提交前请勾选真实性承诺。")},
    )

    def __init__(self, *args, questions: Sequence[ContextQuestion] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        self.context_rows: list[ContextRow] = []
        for question in self.questions:
            options = selectors.context_options(question)
            choices = [(o.code, o.label) for o in options]
            name = f"context-{question.code}"
            if question.multiple:
                self.fields[name] = forms.MultipleChoiceField(
                    label=question.text,
                    required=False,
                    choices=choices,
                    widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
                )
            else:
                self.fields[name] = forms.ChoiceField(
                    label=question.text,
                    required=False,
                    choices=choices,
                    widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                )
            other = next((o for o in options if o.other), None)
            if other is not None:
                self.fields[f"{name}-other"] = forms.CharField(
                    label=gettext("“%(label)s”的说明") % {"label": other.label},
                    required=False,
                    strip=True,
                    widget=forms.TextInput(
                        attrs={"class": "form-control", "maxlength": services.CONTEXT_OTHER_MAX_LENGTH}
                    ),
                )
            limit = (question.max_choices or len(options)) if question.multiple else 1
            self.context_rows.append(
                ContextRow(
                    question=question,
                    choices=self[name],
                    other=self[f"{name}-other"] if other is not None else None,
                    max_choices=limit if question.multiple and limit < len(options) else None,
                )
            )

    def clean(self):
        cleaned = super().clean()
        context = {}
        for row in self.context_rows:
            name = row.choices.name
            if name in self.errors:  # an option the question does not offer: said by the field itself
                continue
            raw = cleaned.get(name) or []
            answer = services.ContextAnswer(
                choices=tuple([raw] if isinstance(raw, str) else raw),
                other=cleaned.get(f"{name}-other", "") if row.other is not None else "",
            )
            answer, problems = services.context_answer_clean(question=row.question, answer=answer)
            for field, message in problems.items():
                self.add_error(name if field == "choices" or row.other is None else row.other.name, message)
            context[row.question.code] = answer
            if row.other is not None and row.other.name in self.errors:
                row.other.field.widget.attrs["class"] += " is-invalid"
        cleaned["context"] = context
        return cleaned


@dataclass(frozen=True)
class ContextRow:
    """One context question of SubmitForm, for the template: its options' field, its "other" text field, and
    the most options it takes (None: no limit worth saying)."""

    question: ContextQuestion
    choices: forms.BoundField
    other: forms.BoundField | None
    max_choices: int | None


# --- questionnaire pages ----------------------------------------------------------------------------


def parse_answer_value(raw: str | None):
    """A posted option: "0".."4", "unknown", "na", or empty for none. Anything else is tampering."""
    if raw is None or raw == "":
        return None
    if raw in scoring.SPECIAL_ANSWERS:
        return raw
    if raw in {"0", "1", "2", "3", "4"}:
        return int(raw)
    raise InvalidAnswersError(_("提交的选项无效。"))


def parse_revision(raw: str | None) -> int:
    try:
        value = int(raw or "0")
    except ValueError as exc:
        raise InvalidAnswersError(_("提交的数据无效，请刷新页面。")) from exc
    if value < 0:
        raise InvalidAnswersError(_("提交的数据无效，请刷新页面。"))
    return value


def page_changes(page: selectors.PageView, data) -> tuple[list[AnswerChange], dict[str, str]]:
    """The answers posted for one questionnaire page, and field errors by item code.

    An item of another page or an option the item does not offer raises InvalidAnswersError (a tampered
    form: 400, nothing saved); an over-long note is a field error shown on the page.
    """
    codes = {view.item.code for view in page.items}
    for key in data:
        if key.startswith(("answer-", "note-", "rev-")) and key.split("-", 1)[1] not in codes:
            raise InvalidAnswersError(_("提交的题目不属于本页。"))
    changes, errors = [], {}
    for view in page.items:
        code = view.item.code
        value = parse_answer_value(data.get(f"answer-{code}"))
        note = clean_user_text(data.get(f"note-{code}") or "", multiline=True)
        if len(note) > NOTE_MAX_LENGTH:
            errors[code] = str(
                _("备注最多 %(max)d 字，当前 %(length)d 字。") % {"max": NOTE_MAX_LENGTH, "length": len(note)}
            )
        changes.append(AnswerChange(code, value, note, parse_revision(data.get(f"rev-{code}"))))
    return changes, errors
