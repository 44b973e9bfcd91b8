"""The one response every download of the application goes through: PDFs, CSV and XLSX exports.

``attachment(content, filename=..., content_type=...)`` takes the bytes of a document, an iterator of text
pieces (streamed: the CSV exports) or an open binary file (the XLSX exports, closed by Django when sent),
and answers with:

- ``Content-Disposition: attachment`` with the full name in UTF-8 in ``filename*=UTF-8''…`` (RFC 6266,
  RFC 5987; percent-encoded, after ``text.clean_user_text``: no bidi, format or control characters, so a
  label cannot reorder the name around it, and no line break can reach the header), and an ASCII-safe
  ``filename=`` for old clients: letters, digits, "-", "_" and "." only (``ascii_filename(filename)``, e.g.
  the USCC and the ASCII part of the round label, unless the caller names one);
- ``Cache-Control: private, no-store``: a download holds a firm's data, which no shared cache or browser
  history keeps;
- ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import IO
from urllib.parse import quote

from django.http import FileResponse, HttpResponse, StreamingHttpResponse

from surveys.text import clean_user_text

CACHE_CONTROL = "private, no-store"

# RFC 5987 attr-char: what may stay unencoded in filename*=.
_ATTR_CHAR_SAFE = "!#$&+-.^_`|~"
_NON_ASCII_FILENAME_RE = re.compile(r"[^A-Za-z0-9._-]+")


def attachment(
    content: bytes | Iterable[str] | IO[bytes],
    *,
    filename: str,
    content_type: str,
    ascii_fallback: str | None = None,
) -> HttpResponse | StreamingHttpResponse | FileResponse:
    """A download of ``content`` (bytes, an iterator of text pieces, or an open binary file) as ``filename``."""
    if isinstance(content, bytes):
        response: HttpResponse | StreamingHttpResponse | FileResponse = HttpResponse(content, content_type=content_type)
    elif hasattr(content, "read"):
        response = FileResponse(content, content_type=content_type)
    else:
        response = StreamingHttpResponse(content, content_type=content_type)
    fallback = ascii_filename(filename) if ascii_fallback is None else ascii_fallback
    response["Content-Disposition"] = content_disposition(filename, ascii_fallback=fallback)
    response["Cache-Control"] = CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    return response


def content_disposition(filename: str, *, ascii_fallback: str) -> str:
    """``attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded>`` (RFC 6266, RFC 5987).

    The ASCII name keeps letters, digits, "-", "_" and "." (anything else becomes "_"); the UTF-8 name is
    ``filename`` as ``clean_user_text`` leaves it (NFC, without bidi, format or control characters)."""
    fallback = re.sub(r"_{2,}", "_", _NON_ASCII_FILENAME_RE.sub("_", ascii_fallback)).lstrip(".") or "download"
    encoded = quote(clean_user_text(filename) or fallback, safe=_ATTR_CHAR_SAFE, encoding="utf-8")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def ascii_filename(filename: str) -> str:
    """An ASCII-only stand-in for ``filename`` (the ``filename=`` fallback of Content-Disposition)."""
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    folded = unicodedata.normalize("NFKD", clean_user_text(stem)).encode("ascii", "ignore").decode("ascii")
    folded = re.sub(r"_{2,}", "_", _NON_ASCII_FILENAME_RE.sub("_", folded)).strip("._-") or "report"
    extension = _NON_ASCII_FILENAME_RE.sub("", extension)
    return f"{folded}.{extension}" if extension else folded
