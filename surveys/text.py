"""Punctuation of generated text in the active language: the one home of list separators, brackets and
colons put around values by code (Chinese 、；（）： or English , ; () :).

Texts written as a whole go through the catalogue (their punctuation is translated with them); this is
for what code assembles from parts: ``join_list(["P1.4", "P2.1"])`` is "P1.4、P2.1" in Chinese and
"P1.4, P2.1" in English. Templates use the same functions as filters (``{% load site_text %}``).

It is also the one home of an option's letter: ``option_text(1, "车间有网络覆盖…")`` is
"B. 车间有网络覆盖…", the letters the gate texts quote ("B级（1分）"): score 0 is A, 1 B, 2 C, 3 D, 4 E.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import get_language


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
