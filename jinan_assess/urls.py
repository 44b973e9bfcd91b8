from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_GET

from surveys.auth_views import LoginView


@require_GET
def healthz(request):
    """Liveness probe for load balancers (and the trivial baseline of make bench)."""
    return HttpResponse("ok", content_type="text/plain")


# Errors in the site's look and language (JSON for JSON requests): surveys/responses.py.
handler400 = "surveys.responses.bad_request"
handler403 = "surveys.responses.permission_denied"
handler404 = "surveys.responses.page_not_found"
handler500 = "surveys.responses.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="surveys/auth/password_reset_form.html",
            email_template_name="surveys/auth/password_reset_email.txt",
            subject_template_name="surveys/auth/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="surveys/auth/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(template_name="surveys/auth/password_reset_confirm.html"),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="surveys/auth/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("manage/jobs/", include("surveys.jobs.urls")),
    path("manage/", include("surveys.manage.urls")),
    path("", include("surveys.urls")),
]
