"""Reading the audit log (the /manage/audit/ page and its CSV export). Only city-wide administrators call
these (surveys.scopes.AdminScope.can_read_audit_log): the log is not filtered by district."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import Enterprise
from .models import AuditEvent

# Keys the application writes into AuditEvent.detail (surveys/manage/views.py, services/enterprises.py), as
# shown to readers.
DETAIL_LABELS = {
    "contacts": gettext_lazy("含联系方式"),
    "filters": gettext_lazy("筛选条件"),
    "scope": gettext_lazy("范围"),
    "uscc_old": gettext_lazy("原统一社会信用代码"),
    "uscc_new": gettext_lazy("新统一社会信用代码"),
    "file": gettext_lazy("文件"),
    "result": gettext_lazy("结果"),
}
# Firms matched by a name search; more than this and the administrator should narrow the search.
FIRM_MATCH_LIMIT = 500


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    username: str = ""  # part of the user name
    firm: str = ""  # part of the firm's name, or its USCC
    enterprise_id: int | None = None  # one firm, from the firm page's link
    date_from: dt.date | None = None  # local dates, both inclusive
    date_to: dt.date | None = None
    outcome: str = ""  # "", "ok" or "failed"

    def query_items(self) -> list[tuple[str, str]]:
        pairs = [
            ("action", self.action),
            ("user", self.username),
            ("firm", self.firm),
            ("enterprise", "" if self.enterprise_id is None else str(self.enterprise_id)),
            ("from", self.date_from.isoformat() if self.date_from else ""),
            ("to", self.date_to.isoformat() if self.date_to else ""),
            ("outcome", self.outcome),
        ]
        return [(key, value) for key, value in pairs if value]

    @property
    def active(self) -> bool:
        return bool(self.query_items())


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


def audit_events(*, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """The events matching the filters, newest first. Bounds on ``at`` are half-open local-day ranges, so
    the index on ``at`` serves them (no per-row date conversion)."""
    events = AuditEvent.objects.all()
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.username:
        events = events.filter(username__icontains=filters.username)
    if filters.enterprise_id is not None:
        events = events.filter(enterprise_id=filters.enterprise_id)
    if filters.firm:
        matching = Enterprise.objects.filter(Q(name__icontains=filters.firm) | Q(uscc=filters.firm.upper()))
        events = events.filter(enterprise_id__in=list(matching.values_list("pk", flat=True)[:FIRM_MATCH_LIMIT]))
    if filters.date_from:
        events = events.filter(at__gte=_day_start(filters.date_from))
    if filters.date_to:
        events = events.filter(at__lt=_day_start(filters.date_to + dt.timedelta(days=1)))
    if filters.outcome == "ok":
        events = events.filter(success=True)
    elif filters.outcome == "failed":
        events = events.filter(success=False)
    return events.order_by("-at", "-id")


def audit_firm_name(*, enterprise_id: int) -> str:
    """The name of the firm a filtered log is about; "" when it no longer exists (its events remain)."""
    return Enterprise.objects.filter(pk=enterprise_id).values_list("name", flat=True).first() or ""


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    firm_name: str  # "" when the event concerns no firm, or the firm no longer exists
    firm_exists: bool
    side: str  # "manage" for administrators, "firm" for the firm's own users, "" for account events
    details: list[tuple[str, str]]


def _side(event: AuditEvent) -> str:
    if event.detail.get("side") == "manage" or event.action == AuditEvent.EXPORT:
        return "manage"
    if event.enterprise_id is not None:
        return "firm"
    return ""


def audit_rows(events: Iterable[AuditEvent]) -> list[AuditRow]:
    """The events with the names of their firms, fetched in one query for the page."""
    events = list(events)
    ids = {event.enterprise_id for event in events if event.enterprise_id is not None}
    names = dict(Enterprise.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    return [
        AuditRow(
            event=event,
            firm_name=names.get(event.enterprise_id, ""),
            firm_exists=event.enterprise_id in names,
            side=_side(event),
            details=[
                (str(DETAIL_LABELS.get(key, key)), _detail_text(value))
                for key, value in sorted(event.detail.items())
                if key != "side"
            ],
        )
        for event in events
    ]


def _detail_text(value) -> str:
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return str(value)


def audit_rows_iter(events: QuerySet[AuditEvent], *, chunk_size: int = 2000) -> Iterator[AuditRow]:
    """All matching events as rows, chunk by chunk (the CSV export): memory stays flat however long the log."""
    chunk: list[AuditEvent] = []
    for event in events.iterator(chunk_size=chunk_size):
        chunk.append(event)
        if len(chunk) >= chunk_size:
            yield from audit_rows(chunk)
            chunk = []
    if chunk:
        yield from audit_rows(chunk)
