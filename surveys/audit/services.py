"""Recording audit events (the only writer of AuditEvent)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from .models import AuditEvent

logger = logging.getLogger("jinan.audit")


def client_ip(request) -> str | None:
    if request is None:
        return None
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def audit_event_record(
    *,
    request,
    action: str,
    target: str = "",
    enterprise_id: int | None = None,
    success: bool = True,
    detail: dict[str, Any] | None = None,
    username: str | None = None,
) -> AuditEvent:
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
