"""Rendering: PDFs (``pdf`` the firm's report, ``city`` the city report, on the page of ``base``), charts,
exports (``exports``: CSV and XLSX writing) and the download response (``http``). Never the ORM.

Views read a round's report (its read model, surveys/selectors/results.py), render it and, for an HTTP
response, hand it to ``http.attachment()``:

    report = selectors.assessment_report(assessment=assessment, language=get_language())
    filename, mimetype, data = render_assessment_pdf(report)
    return attachment(data, filename=filename, content_type=mimetype)
"""

from __future__ import annotations

from reportlab import rl_config

from .http import ascii_filename, attachment, content_disposition
from .pdf import render_assessment_pdf, report_filename

# ReportLab checks every attribute set on a shape or widget against its declared type. Our charts set a few
# thousand per page view (a third of their drawing time); their output is covered by the chart tests instead.
rl_config.shapeChecking = 0

__all__ = [
    "ascii_filename",
    "attachment",
    "content_disposition",
    "render_assessment_pdf",
    "report_filename",
]
