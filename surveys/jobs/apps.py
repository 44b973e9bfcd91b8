from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "surveys.jobs"
    label = "jobs"
    verbose_name = _("后台任务")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the tasks with the Celery app in every process (the web's eager mode looks them up by name).
        from . import tasks  # noqa: F401
