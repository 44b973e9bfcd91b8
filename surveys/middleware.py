"""Session lifetime and the Content-Security-Policy header."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout

SESSION_STARTED = "jinan_started"
SESSION_SEEN = "jinan_seen"
# The "last seen" stamp is rewritten at most this often, so that reading pages does not write the
# session row on every request; the idle limit is therefore exact to within this many seconds.
SEEN_RESOLUTION = 30


class SessionTimeoutMiddleware:
    """Log out after JINAN_SESSION_IDLE_SECONDS without a request, or JINAN_SESSION_ABSOLUTE_SECONDS
    after login, whichever comes first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            started = session.get(SESSION_STARTED)
            seen = session.get(SESSION_SEEN)
            if started is None:
                session[SESSION_STARTED] = session[SESSION_SEEN] = now
            elif now - started > settings.JINAN_SESSION_ABSOLUTE_SECONDS or (
                seen is not None and now - seen > settings.JINAN_SESSION_IDLE_SECONDS
            ):
                logout(request)
            elif seen is None or now - seen >= SEEN_RESOLUTION:
                session[SESSION_SEEN] = now
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Our pages load only our own static files. A view may set its own policy (the SVG charts do); the
    Django admin keeps inline styles."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            policy = settings.JINAN_CONTENT_SECURITY_POLICY
            if request.path.startswith("/admin/"):
                policy = policy.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
            response["Content-Security-Policy"] = policy
        return response
