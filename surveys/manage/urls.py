"""The administrators' side, mounted under /manage/ (jinan_assess/urls.py). Every view checks the role."""

from django.urls import path

from . import register_views, views

app_name = "manage"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("breakdowns/", views.breakdowns, name="breakdowns"),
    path("weaknesses/", views.weaknesses, name="weaknesses"),
    path("trend/", views.trend, name="trend"),
    path("charts/<slug:name>.svg", views.chart, name="chart"),
    path("firms/", views.firm_list, name="firms"),
    path("firms/<int:pk>/", views.firm_detail, name="firm"),
    path("firms/<int:pk>/uscc/", views.firm_uscc, name="firm_uscc"),
    path("firms/<int:pk>/rounds/<int:round_pk>/", views.round_detail, name="round"),
    path("firms/<int:pk>/rounds/<int:round_pk>/report.pdf", views.round_report, name="round_report"),
    path("export/<slug:dataset>.<slug:fmt>", views.export, name="export"),
    path("report.pdf", views.city_report, name="city_report"),
    path("audit/", views.audit_log, name="audit"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    path("coverage/", register_views.coverage, name="coverage"),
    path("coverage/unassessed/", register_views.unassessed, name="unassessed"),
    path("coverage/export/unassessed.<slug:fmt>", register_views.unassessed_export, name="unassessed_export"),
    path("register/", register_views.register, name="register"),
    path("register/errors/<slug:token>.csv", register_views.register_errors, name="register_errors"),
]
