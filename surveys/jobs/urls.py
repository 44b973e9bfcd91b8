"""Background jobs, mounted under /manage/jobs/ (jinan_assess/urls.py)."""

from django.urls import path

from . import views

app_name = "jobs"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("start/<slug:kind>/", views.job_start, name="start"),
    path("register/", views.register_start, name="register"),
    path("rescore/", views.rescore_start, name="rescore"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/progress.json", views.job_progress, name="progress"),
    path("<int:pk>/download/", views.job_download, name="download"),
    path("<int:pk>/cancel/", views.job_cancel, name="cancel"),
    path("<int:pk>/retry/", views.job_retry, name="retry"),
]
