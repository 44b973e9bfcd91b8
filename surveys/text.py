"""Punctuation of generated text in the active language: the one home of list separators, brackets and
colons put around values by code (Chinese 、；（）： or English , ; () :).

Texts written as a whole go through the catalogue (their punctuation is translated with them); this is
for what code assembles from parts: ``join_list(["P1.4", "P2.1"])`` is "P1.4、P2.1" in Chinese and
"P1.4, P2.1" in English. Templates use the same functions as filters (``{% load site_text %}``).
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
