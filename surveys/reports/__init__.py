"""Per-firm reports. ``context`` reads the database into a plain tree, ``pdf`` renders it.

Views and commands call ``assessment_pdf()`` and, for an HTTP response, ``content_disposition()``:

    filename, mimetype, data = assessment_pdf(assessment=assessment, language=get_language())
    response = HttpResponse(data, content_type=mimetype)
    response["Content-Disposition"] = content_disposition(filename, ascii_fallback=ascii_filename(filename))
"""

from __future__ import annotations

import re
from urllib.parse import quote

from .context import AssessmentReport, ReportNotAvailable, build_assessment_report
from .pdf import ascii_filename, render_assessment_pdf, report_filename

__all__ = [
    "AssessmentReport",
    "ReportNotAvailable",
    "ascii_filename",
    "assessment_pdf",
    "build_assessment_report",
    "content_disposition",
    "render_assessment_pdf",
    "report_filename",
]


def assessment_pdf(*, assessment, language: str) -> tuple[str, str, bytes]:
    """``(filename, mimetype, bytes)`` of the round's PDF; ReportNotAvailable for a draft."""
    report = build_assessment_report(assessment=assessment, language=language)
    return render_assessment_pdf(report)


# RFC 5987 attr-char: what may stay unencoded in filename*=.
_ATTR_CHAR_SAFE = "!#$&+-.^_`|~"
_TOKEN_UNSAFE_RE = re.compile(r'[^\x20-\x7e]|["\\]')


def content_disposition(filename: str, *, ascii_fallback: str) -> str:
    """``attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded>`` (RFC 6266, RFC 5987)."""
    fallback = _TOKEN_UNSAFE_RE.sub("_", ascii_fallback) or "download"
    encoded = quote(filename, safe=_ATTR_CHAR_SAFE, encoding="utf-8")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
