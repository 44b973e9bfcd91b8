"""A firm's PDF report as an administrator downloads it.

The same document the firm gets (surveys.reports.assessment_pdf), with two differences that follow from
the administrator's scope (surveys/scopes.py): the contact person and phone appear only with the
``view_contact_details`` permission, and comparison groups reaching outside the scope (the industry across
the city, the whole city, for a district administrator) are left out.
"""

from __future__ import annotations

from dataclasses import replace

from surveys.scopes import AdminScope

from . import build_assessment_report, render_assessment_pdf

# PeerSummary.key of the comparison group that stays inside a district administrator's scope.
IN_DISTRICT_PEERS = {"district"}


def administrator_assessment_pdf(*, assessment, scope: AdminScope, language: str) -> tuple[str, str, bytes]:
    """``(filename, mimetype, bytes)``; the caller has checked that the round is in ``scope``."""
    report = build_assessment_report(assessment=assessment, language=language)
    changes = {}
    if not scope.can_view_contacts:
        changes.update(contact_name="", contact_phone="")
    if not scope.all_districts:
        kept = [p for p in report.peers if p.key in IN_DISTRICT_PEERS]
        names = {p.series_name for p in kept if p.shown}
        changes["peers"] = kept
        changes["dimensions"] = [replace(d, peers=[v for v in d.peers if v.label in names]) for d in report.dimensions]
    if changes:
        report = replace(report, **changes)
    return render_assessment_pdf(report)
