from django.shortcuts import render

from . import selectors


def home(request):
    return render(request, "surveys/home.html", {"questionnaire": selectors.questionnaire_current()})
