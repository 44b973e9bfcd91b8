"""Forms: input validation and messages in the user's language. They hold no business logic."""

from __future__ import annotations

import re

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from . import scoring, selectors, uscc
from .models import Enterprise
from .services import NOTE_MAX_LENGTH, AnswerChange, InvalidAnswersError

PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")

USCC_ERRORS = {
    uscc.ERR_LENGTH: _("统一社会信用代码应为18位，当前为 %(length)d 位。"),
    uscc.ERR_CHARACTERS: _(
        "统一社会信用代码含有不允许的字符：%(chars)s。代码只使用数字和除 I、O、S、V、Z 以外的大写字母，"
        "请核对（例如字母 O 与数字 0）。"
    ),
    uscc.ERR_AREA_DIGITS: _("统一社会信用代码第3–8位（登记机关行政区划码）必须全部是数字。"),
    uscc.ERR_CHECK: _("统一社会信用代码第18位校验码不正确，请逐位核对营业执照上的代码。"),
}
USCC_WARNINGS = {
    uscc.WARN_PREFIX: _("代码前两位不是“9x”（工商登记的企业），请确认主体类型。"),
    uscc.WARN_AREA: _("代码中的登记机关不在济南市（3701/3712），已按在济经营企业接受。"),
    uscc.WARN_ORG_CHECK: _("代码第17位（组织机构代码校验位）与规则不符，请再核对一次。"),
}


def uscc_check_messages(raw: str) -> tuple[str, list[str], list[str]]:
    """(normalised code, errors, warnings) as messages for the user."""
    result = uscc.validate(raw)
    errors = []
    for code in result.errors:
        errors.append(
            str(USCC_ERRORS[code]) % {"length": len(result.code), "chars": "、".join(result.bad_characters) or "-"}
        )
    return result.code, errors, [str(USCC_WARNINGS[w]) for w in result.warnings]


class CrispyMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class EnterpriseForm(CrispyMixin, forms.ModelForm):
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
            "uscc": _("18位，见营业执照。"),
            "contact_phone": _("手机号或座机（如 0531-88888888）。仅本企业成员和授权管理员可见。"),
            "contact_name": _("仅本企业成员和授权管理员可见。"),
        }

    def __init__(self, *args, check_duplicates: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.uscc_warnings: list[str] = []
        self.check_duplicates = check_duplicates
        if self.instance.pk:
            # The code identifies the firm; changing it is an administrator's job.
            self.fields["uscc"].disabled = True

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if len(name) < 2:
            raise forms.ValidationError(_("请填写企业全称。"))
        return name

    def clean_uscc(self):
        if self.instance.pk:
            return self.instance.uscc
        code, errors, warnings = uscc_check_messages(self.cleaned_data.get("uscc", ""))
        if errors:
            raise forms.ValidationError(errors)
        if self.check_duplicates and selectors.enterprise_by_uscc(uscc=code):
            raise forms.ValidationError(
                _("该统一社会信用代码的企业已注册。如您是该企业员工，请选择“申请加入已注册企业”，由企业负责人审批。")
            )
        self.uscc_warnings = warnings
        return code

    def clean_contact_phone(self):
        phone = "".join(self.cleaned_data["contact_phone"].split())
        if not PHONE_RE.match(phone):
            raise forms.ValidationError(_("请填写有效的手机号（11位）或带区号的座机号。"))
        return phone


class AccountForm(CrispyMixin, forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    email = forms.EmailField(label=_("电子邮箱"), help_text=_("用于找回密码。"))
    password1 = forms.CharField(label=_("密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label=_("确认密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean_username(self):
        # The name as it will be stored: create_user() applies NFKC, so "ｗａｎｇ" is "wang" and must be
        # checked as such (otherwise the unique constraint fails with a 500 instead of this message).
        username = get_user_model().normalize_username(self.cleaned_data["username"]).strip()
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
    join_uscc = forms.CharField(label=_("要加入企业的统一社会信用代码"), max_length=40, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("mode") == self.MODE_JOIN:
            code, errors, _warnings = uscc_check_messages(cleaned.get("join_uscc", ""))
            if errors:
                self.add_error("join_uscc", errors)
            else:
                enterprise = selectors.enterprise_by_uscc(uscc=code)
                if enterprise is None:
                    self.add_error("join_uscc", _("没有以该代码注册的企业。请核对代码，或选择“注册新企业”。"))
                cleaned["join_enterprise"] = enterprise
        return cleaned


class InviteForm(CrispyMixin, forms.Form):
    email = forms.EmailField(label=_("同事的电子邮箱（可选）"), required=False)


class RoundStartForm(CrispyMixin, forms.Form):
    label = forms.CharField(
        label=_("轮次名称"), max_length=32, required=False, help_text=_("例如“2026 T0”；留空自动命名。")
    )


class SubmitForm(forms.Form):
    pledge = forms.BooleanField(
        label=_("我承诺：以上填报内容真实、准确，由本企业据实填写。"),
        error_messages={"required": _("提交前请勾选真实性承诺。")},
    )


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
        note = (data.get(f"note-{code}") or "").strip()
        if len(note) > NOTE_MAX_LENGTH:
            errors[code] = str(
                _("备注最多 %(max)d 字，当前 %(length)d 字。") % {"max": NOTE_MAX_LENGTH, "length": len(note)}
            )
        changes.append(AnswerChange(code, value, note, parse_revision(data.get(f"rev-{code}"))))
    return changes, errors
