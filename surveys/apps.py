from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "surveys"
    verbose_name = _("数字化融合自评估")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .scopes import remember_administrator

        def _remember_administrator(sender, request, user, **kwargs):
            if request is not None and hasattr(request, "session"):
                remember_administrator(request, user)

        user_logged_in.connect(_remember_administrator, dispatch_uid="surveys.remember_administrator", weak=False)
