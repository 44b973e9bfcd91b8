"""The Celery application: background jobs (surveys/jobs). Its configuration is Django's settings under the
``CELERY_`` prefix (jinan_assess/settings.py, README "Background jobs"); workers start with

    celery -A jinan_assess worker --pool=solo -Q jinan

and find the tasks in every installed app's ``tasks`` module.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jinan_assess.settings")

app = Celery("jinan_assess")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
