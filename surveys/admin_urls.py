"""The administrators' side, mounted under /manage/ (jinan_assess/urls.py). Every view checks the role."""

from django.urls import path

from . import admin_views

app_name = "manage"

urlpatterns = [
    path("", admin_views.dashboard, name="dashboard"),
    path("breakdowns/", admin_views.breakdowns, name="breakdowns"),
    path("weaknesses/", admin_views.weaknesses, name="weaknesses"),
    path("trend/", admin_views.trend, name="trend"),
    path("charts/<slug:name>.svg", admin_views.chart, name="chart"),
    path("firms/", admin_views.firm_list, name="firms"),
    path("firms/<int:pk>/", admin_views.firm_detail, name="firm"),
    path("firms/<int:pk>/rounds/<int:round_pk>/", admin_views.round_detail, name="round"),
    path("firms/<int:pk>/rounds/<int:round_pk>/report.pdf", admin_views.round_report, name="round_report"),
    path("export/<slug:dataset>.<slug:fmt>", admin_views.export, name="export"),
    path("report.pdf", admin_views.city_report, name="city_report"),
    path("audit/", admin_views.audit_log, name="audit"),
    path("audit/export.csv", admin_views.audit_export, name="audit_export"),
]
