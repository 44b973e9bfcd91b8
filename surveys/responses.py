"""Error answers of the whole site: pages in the site's look (both languages, a way back, no internal
detail) and JSON errors with the right status for JSON requests.

Django calls the handlers named in ``jinan_assess/urls.py`` (``handler400``/``403``/``404``/``500``) and
``CSRF_FAILURE_VIEW``; views that answer JSON are wrapped in :func:`json_endpoint`, and every check in front
of them (login, membership, method) asks :func:`wants_json` before answering with a page or a redirect.
"""

from __future__ import annotations

from functools import wraps

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.html import escape
from django.utils.translation import gettext_lazy

from . import selectors

JSON_ENDPOINT = "jinan_json_endpoint"

# status -> (title, explanation); no exception text, path or traceback ever reaches the page.
ERRORS = {
    400: (gettext_lazy("请求无效"), gettext_lazy("服务器无法处理这个请求。请返回上一页重试。")),
    401: (gettext_lazy("需要登录"), gettext_lazy("登录已过期或尚未登录，请重新登录。")),
    403: (gettext_lazy("无权访问"), gettext_lazy("您的账号无权查看这个页面。")),
    404: (gettext_lazy("页面不存在"), gettext_lazy("找不到这个页面：链接可能有误，或内容已不存在。")),
    405: (gettext_lazy("请求无效"), gettext_lazy("这个地址不接受这种请求。")),
    500: (gettext_lazy("服务器出错"), gettext_lazy("服务器暂时出现问题，已记录下来。请稍后再试。")),
}
CSRF_MESSAGE = gettext_lazy("页面已过期，无法验证这次提交。请返回上一页，刷新后再提交。")


def wants_json(request) -> bool:
    """The request is answered in JSON: it reached a :func:`json_endpoint`, sent JSON, or asks for JSON only."""
    if getattr(request, JSON_ENDPOINT, False) or request.content_type == "application/json":
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def json_error(status: int, message: str | None = None, **extra) -> JsonResponse:
    """``{"ok": false, "message": …}`` with the status; the message defaults to the status' explanation."""
    text = message if message is not None else ERRORS.get(status, ERRORS[400])[1]
    return JsonResponse({"ok": False, "message": str(text), **extra}, status=status)


def json_endpoint(*methods: str):
    """Marks a view as answering JSON, so that every error on its way (login, membership, method, 404 …) is
    JSON with its status; other methods than ``methods`` answer 405."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            setattr(request, JSON_ENDPOINT, True)
            if request.method not in methods:
                response = json_error(405)
                response["Allow"] = ", ".join(methods)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def error_page(request, status: int, message: str | None = None):
    """The site's error page (or JSON error) for ``status``."""
    if wants_json(request):
        return json_error(status, message)
    title, explanation = ERRORS.get(status, ERRORS[400])
    context = {"status": status, "title": title, "message": message or explanation}
    return render(request, "surveys/errors/error.html", context, status=status)


def bad_request(request, exception=None):
    return error_page(request, 400)


def permission_denied(request, exception=None):
    return error_page(request, 403)


def page_not_found(request, exception=None):
    return error_page(request, 404)


def server_error(request):
    """500: rendered without the request's context (no session, user or database needed), and plain text
    if even that fails."""
    if wants_json(request):
        return json_error(500)
    title, explanation = ERRORS[500]
    context = {"status": 500, "title": title, "message": explanation}
    try:
        body = loader.get_template("surveys/errors/500.html").render(context)
    except Exception:  # noqa: BLE001 - the last resort must not fail in turn
        body = f"<!DOCTYPE html><title>500</title><p>{escape(explanation)}</p>"
    return HttpResponse(body, status=500)


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: a page saying what to do (the reason is for the log, not the user)."""
    return error_page(request, 403, str(CSRF_MESSAGE))


def report_or_404(assessment, *, language: str, scope=None):
    """The read model of a submitted round for a page or a download; a round without a result is a 404."""
    try:
        return selectors.assessment_report(assessment=assessment, language=language, scope=scope)
    except selectors.ReportNotAvailable as exc:
        raise Http404 from exc
