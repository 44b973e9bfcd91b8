"""Login with a neutral failure message, shared with django-axes' lockout response."""

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from .views import landing_url

LOGIN_TEMPLATE = "surveys/auth/login.html"

# One message for a wrong password, an unknown user and a locked account: it must not tell them apart.
LOGIN_FAILED = _("用户名或密码不正确。为保护账号，连续失败5次后需等待15分钟才能再次登录。")


class LoginForm(AuthenticationForm):
    error_messages = {**AuthenticationForm.error_messages, "invalid_login": LOGIN_FAILED}


class LoginView(auth_views.LoginView):
    template_name = LOGIN_TEMPLATE
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        """Without a ``next``: administrators to /manage/, members to their firm, both to the choice."""
        return landing_url(self.request.user)


def locked_out(request, original_response=None, credentials=None, *args, **kwargs):
    """django-axes' lockout response: exactly the page of an ordinary failed login."""
    form = LoginForm(request, data={"username": request.POST.get("username", "")})
    form.cleaned_data = {}
    form._errors = forms.utils.ErrorDict()
    form.add_error(None, forms.ValidationError(LOGIN_FAILED, code="invalid_login"))
    return render(request, LOGIN_TEMPLATE, {"form": form, "next": request.POST.get("next", "")}, status=200)


def axes_username(request, credentials=None) -> str:
    """The attempted username as django-axes records it: bounded to a user name's length, since its column
    is 255 characters and an over-long guess must be a failed login, not a database error."""
    if credentials:
        username = credentials.get("username", "")
    else:
        username = request.POST.get("username", "") if request is not None else ""
    return str(username or "")[:150]
