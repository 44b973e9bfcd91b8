from django.urls import path

from . import views

app_name = "surveys"

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("invite/<str:token>/", views.invitation, name="invitation"),
    path("firm/", views.firm, name="firm"),
    path("firm/profile/", views.firm_profile, name="profile"),
    path("firm/profile/uscc/", views.firm_profile_uscc, name="profile_uscc"),
    path("firm/members/", views.firm_members, name="members"),
    path("rounds/start/", views.round_start, name="round_start"),
    path("assessments/<int:pk>/", views.assessment_resume, name="assessment"),
    path("assessments/<int:pk>/page/<int:number>/", views.assessment_page, name="page"),
    path("assessments/<int:pk>/autosave/", views.assessment_autosave, name="autosave"),
    path("assessments/<int:pk>/review/", views.assessment_review, name="review"),
    path("assessments/<int:pk>/results/", views.assessment_results, name="results"),
    path("assessments/<int:pk>/report.pdf", views.assessment_report, name="report"),
]
