"""Recording audit events (the only writer of AuditEvent)."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from django.conf import settings

from .models import AuditEvent

logger = logging.getLogger("jinan.audit")


def client_ip(request) -> str | None:
    """The client's address, as the audit log and the login throttle record it. Behind the reverse proxy
    (``DJANGO_BEHIND_PROXY``) that is the last X-Forwarded-For entry, the one the proxy appended itself; earlier
    entries come from the client and could be forged at will. Otherwise REMOTE_ADDR. Anything that is not an
    IP address (a misconfigured proxy passing the header through) falls back to REMOTE_ADDR."""
    if request is None:
        return None
    if getattr(settings, "JINAN_BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if _is_ip(forwarded):
            return forwarded
    remote = request.META.get("REMOTE_ADDR") or ""
    return remote if _is_ip(remote) else None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def audit_event_record(
    *,
    request,
    action: str,
    target: str = "",
    enterprise_id: int | None = None,
    success: bool = True,
    detail: dict[str, Any] | None = None,
    username: str | None = None,
    user=None,
) -> AuditEvent:
    """One event. ``user`` defaults to the request's (``request`` may be None outside a request: no address)."""
    if user is None:
        user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    name = username if username is not None else (user.get_username() if authenticated else "")
    event = AuditEvent.objects.create(
        user=user if authenticated else None,
        username=name[:150],
        action=action,
        target=target[:100],
        enterprise_id=enterprise_id,
        ip=client_ip(request),
        success=success,
        detail=detail or {},
    )
    # %r keeps CR/LF in user-supplied names from forging extra log lines.
    logger.info("audit %s user=%r target=%r success=%s", action, name, target, success)
    return event
