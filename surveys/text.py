"""Punctuation of generated text in the active language: the one home of list separators, brackets and
colons put around values by code (Chinese 、；（）： or English , ; () :).

Texts written as a whole go through the catalogue (their punctuation is translated with them); this is
for what code assembles from parts: ``join_list(["P1.4", "P2.1"])`` is "P1.4、P2.1" in Chinese and
"P1.4, P2.1" in English. Templates use the same functions as filters (``{% load site_text %}``).

It is also the one home of an option's letter: ``option_text(1, "车间有网络覆盖…")`` is
"B. 车间有网络覆盖…", the letters the gate texts quote ("B级（1分）"): score 0 is A, 1 B, 2 C, 3 D, 4 E.

And it is the one home of the rule for text users type (``clean_user_text``): firm and contact names, round
labels, answer notes, the "other" texts, user names, applied where the text enters (forms and services)
and to download file names; and of the rule for text a spreadsheet would run as a formula
(``looks_like_formula``: the exports neutralise it, imports refuse it); and of how a count reads
(``format_count``: "60,000" in both languages).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from django.utils.translation import get_language


def format_count(value: int | float) -> str:
    """A count (of firms, rows, items) grouped by threes with a comma in both languages: "60,000". Chinese
    statistical tables group by threes too, but Django's zh-hans number format has no separator at all, so
    counts are not left to it. A count that arrives as a float (a chart's bar value) must be whole."""
    if value != int(value):
        raise ValueError(f"a count is a whole number, not {value!r}")
    return f"{int(value):,}"


def is_chinese() -> bool:
    """The active language is Chinese (also when no language is active: the site's default is Chinese)."""
    return (get_language() or "zh-hans").startswith("zh")


def join_list(parts: Iterable[object], *, strong: bool = False) -> str:
    """Items of a list: 、 (or ；between items that contain commas, ``strong``) in Chinese, ", " ("; ")
    in English."""
    texts = [str(part) for part in parts]
    if is_chinese():
        return ("；" if strong else "、").join(texts)
    return ("; " if strong else ", ").join(texts)


def in_brackets(text: object) -> str:
    """A parenthesis: （…） in Chinese, (…) in English."""
    return f"（{text}）" if is_chinese() else f"({text})"


def with_note(text: object, note: object) -> str:
    """A text followed by a note in brackets: "名称（说明）", "Name (note)"."""
    return f"{text}{in_brackets(note)}" if is_chinese() else f"{text} {in_brackets(note)}"


def with_colon(label: object) -> str:
    """A label introducing a value: "范围：", "Scope: "."""
    return f"{label}：" if is_chinese() else f"{label}: "


def sentence_gap() -> str:
    """What goes between two sentences: nothing in Chinese (。 closes them), a space in English."""
    return "" if is_chinese() else " "


def without_final_stop(text: object) -> str:
    """A sentence to be quoted inside another: its closing full stop removed, so that the sentence around
    it does not end in "。。" or ".."."""
    return str(text).rstrip().rstrip("。．.")


OPTION_LETTERS = "ABCDE"  # the options' scores 0–4 (scoring.MIN_SCORE … MAX_SCORE), in order


def option_letter(score: int) -> str:
    """The letter of the option worth ``score`` points: 0 → "A" … 4 → "E"."""
    if type(score) is not int or not 0 <= score < len(OPTION_LETTERS):
        raise ValueError(f"no option letter for score {score!r}")
    return OPTION_LETTERS[score]


def option_text(score: int, label: object) -> str:
    """An option as it is listed everywhere (the questionnaire's pages, an answer on the results page, in the
    PDF and on the administrators' pages, a next-rung action's done-criterion): "B. 车间有网络覆盖…"."""
    return f"{option_letter(score)}. {label}"


# --- text users type --------------------------------------------------------------------------------

# In a multi-line text every line break becomes "\n" (a browser sends "\r\n" from a text area).
_LINE_BREAKS_RE = re.compile("\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_ZWJ_RE = re.compile("\u200d+")
_KEPT_IN_MULTILINE = frozenset("\n\t")


class _Removed(dict[int, int | None]):
    """``str.translate`` table: a character to remove maps to None; filled in as characters are met."""

    def __init__(self, *, keep: frozenset[str]):
        super().__init__()
        self.keep = keep

    def __missing__(self, code: int) -> int | None:
        char = chr(code)
        category = unicodedata.category(char)
        # Cc: C0 and C1 controls; Cf: bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069),
        # marks (U+200E/200F, U+061C), zero-width space and joiners, word joiner, BOM, soft hyphen, tags, …
        # ZWJ (U+200D) is decided by its neighbours afterwards (_emoji_joiners).
        removed = (category == "Cc" and char not in self.keep) or (category == "Cf" and code != 0x200D)
        result = None if removed else code
        if len(self) < _TABLE_LIMIT:  # bounded: a text of a hundred thousand different characters is possible
            self[code] = result
        return result


_TABLE_LIMIT = 20_000


# Single-line: a control that is white space (tab, line breaks) is kept here and becomes one space below.
_REMOVED_SINGLE = _Removed(keep=frozenset("\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85"))
_REMOVED_MULTI = _Removed(keep=_KEPT_IN_MULTILINE)


def clean_user_text(value: object, *, multiline: bool = False) -> str:
    """Text a user typed, as it is stored: the one normalisation of names, labels and notes.

    - Unicode NFC ("e" + U+0301 is stored as "é"; full-width letters stay as typed, unlike NFKC);
    - removed: bidi controls (U+202A–202E embeddings and overrides, U+2066–2069 isolates, U+200E/200F,
      U+061C marks), which would reorder the labels around the text on pages and in file names; every other
      invisible format character (category Cf: U+200B zero-width space, U+2060 word joiner, U+FEFF BOM,
      U+00AD soft hyphen, tag characters, …); C0 and C1 control characters (NUL included);
    - kept: a zero-width joiner (U+200D) between two emoji (👨‍👩‍👧, 👩🏽‍💻, 🏳️‍🌈): removing it would split
      the family emoji into three, and it reorders nothing; anywhere else it is removed. Variation
      selectors (U+FE0F after an emoji, ideographic variation sequences) are not format characters and
      stay; so do private-use characters (the PDF prints a replacement mark for one no font has);
    - single-line (``multiline=False``: names, labels): every run of white space (line breaks, tabs,
      U+3000 ideographic space, no-break space) becomes one space, and the ends are stripped;
    - multi-line (notes): line breaks become "\n", tabs stay, other controls go, the ends are stripped.

    Lone surrogates are left as they are: the services refuse such text as invalid (it cannot be stored).
    """
    text = "" if value is None else str(value)
    if multiline:
        text = _LINE_BREAKS_RE.sub("\n", text)
        if not text.isprintable():
            text = text.translate(_REMOVED_MULTI)
    elif not text.isprintable():
        text = text.translate(_REMOVED_SINGLE)
    if "\u200d" in text:
        text = _ZWJ_RE.sub(_emoji_joiners, text)
    text = unicodedata.normalize("NFC", text)
    if multiline:
        return text.strip()
    return " ".join(text.split())


def _emoji_joiners(match: re.Match[str]) -> str:
    """One ZWJ between an emoji (with its skin tone or U+FE0F) and a following emoji; nothing elsewhere."""
    text, start, end = match.string, match.start(), match.end()
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    emoji_before = bool(before) and (
        unicodedata.category(before) == "So" or before == "\ufe0f" or "\U0001f3fb" <= before <= "\U0001f3ff"
    )
    emoji_after = bool(after) and unicodedata.category(after) == "So"
    return "\u200d" if emoji_before and emoji_after else ""


# --- text a spreadsheet would take for a formula ----------------------------------------------------

# CWE-1236 (ASVS 5.0 1.2.10): Excel, LibreOffice and WPS evaluate a cell starting with one of these. The one
# home of that rule: the exports neutralise such text (surveys/reports/exports.py), the business register
# import refuses it (surveys/services/register.py).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")


def looks_like_formula(value: object) -> bool:
    """Text a spreadsheet would evaluate (it starts with one of :data:`FORMULA_PREFIXES`)."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)
