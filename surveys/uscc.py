"""统一社会信用代码 (Unified Social Credit Code, GB 32100-2015): normalisation and validation.

Pure Python. :func:`normalize` is the one home of what counts as the same code (the server's every
entry point and, through :func:`client_pattern`, the browser's script apply it): full-width to half-width
(NFKC), spaces and common separators removed, upper case; nothing is ever cut off or "corrected". Hard
rules (length, character set, digits in the area code, the check character) make a code invalid; soft
rules (a registration type other than an enterprise's 91: an individual business 92, a farmers'
cooperative 93 or another kind of body; an area outside Jinan; the inner GB 11714 check) only warn,
because the code may still be right (firms registered elsewhere legitimately operate in Jinan).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # I, O, S, V and Z are never used
VALUES = {c: i for i, c in enumerate(CHARSET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, …
LENGTH = 18
JINAN_AREA_PREFIXES = ("3701", "3712")  # 3712: the former Laiwu, merged into Jinan in 2019

# Error and warning codes; views map them to messages in the user's language.
ERR_LENGTH = "length"
ERR_CHARACTERS = "characters"
ERR_AREA_DIGITS = "area_digits"
ERR_CHECK = "check_character"
WARN_PREFIX = "prefix"  # not a body registered by the market regulator (first character not 9, or 9 + unknown type)
WARN_INDIVIDUAL = "individual_business"  # 92: 个体工商户
WARN_COOPERATIVE = "cooperative"  # 93: 农民专业合作社
WARN_AREA = "area"
WARN_ORG_CHECK = "organisation_check"
# GB 32100 positions 1–2 (登记管理部门代码 + 机构类别代码) of the market regulator (9): 1 enterprise,
# 2 individual business, 3 farmers' cooperative.
PREFIX_ENTERPRISE = "91"
PREFIX_WARNINGS = {"92": WARN_INDIVIDUAL, "93": WARN_COOPERATIVE}
# Warnings the user confirms before a firm is registered with the code (or the code is corrected): the code
# is likely mistyped, or the body is not an enterprise. WARN_AREA is only a note (never block on region).
WARNINGS_TO_CONFIRM = frozenset({WARN_PREFIX, WARN_INDIVIDUAL, WARN_COOPERATIVE, WARN_ORG_CHECK})

# Removed by normalize(), besides every space (Unicode Zs and what str.isspace() counts), dash (Pd) and
# invisible format character (Cf, e.g. a zero-width space copied from a web page or a PDF). Listed after
# NFKC, so the full-width forms (＿ ． ／ ， －) are covered by their half-width ones.
SEPARATOR_CATEGORIES = ("Zs", "Pd", "Cf")
SEPARATOR_CHARACTERS = "_.·・/\\\u2212,、"


@dataclass(frozen=True)
class UsccCheck:
    code: str  # normalize()d: NFKC, separators removed, upper case; never cut or "corrected" (no O→0)
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    bad_characters: tuple[str, ...] = field(default=())

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def needs_confirmation(self) -> bool:
        """Valid, but the user should confirm the code before a firm is registered with it."""
        return self.is_valid and bool(WARNINGS_TO_CONFIRM.intersection(self.warnings))


def _is_separator(char: str) -> bool:
    return char.isspace() or char in SEPARATOR_CHARACTERS or unicodedata.category(char) in SEPARATOR_CATEGORIES


def normalize(raw: str) -> str:
    """The code as it is checked and stored: NFKC (full-width to half-width), separators removed, upper case.

    Never shortened and never "corrected" (no O→0): what the user typed is what is checked."""
    return "".join(c for c in unicodedata.normalize("NFKC", raw or "") if not _is_separator(c)).upper()


def client_pattern() -> str:
    """:func:`normalize`'s separators as a JavaScript regular expression character class (for the ``u``
    flag), handed to the browser's script (surveys/static/surveys/uscc.js) so that both apply one rule."""
    escaped = "".join("\\" + c if c in "\\]^-/[" else c for c in SEPARATOR_CHARACTERS)
    categories = "".join(f"\\p{{{category}}}" for category in SEPARATOR_CATEGORIES)
    return f"[\\s{categories}{escaped}]"


def check_character(first17: str) -> str:
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def with_check_character(first17: str) -> str:
    return first17 + check_character(first17)


def organisation_check_character(body: str) -> str:
    """GB 11714: the check character of an 8-character organisation code body (positions 9–16 of a USCC)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c, 36) * w for c, w in zip(body, weights, strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def _organisation_check_ok(code: str) -> bool:
    try:
        return code[16] == organisation_check_character(code[8:16])
    except ValueError:
        return False


def with_check_characters(first16: str) -> str:
    """A code passing both checks from its first 16 characters (test data)."""
    return with_check_character(first16 + organisation_check_character(first16[8:16]))


def validate(raw: str) -> UsccCheck:
    code = normalize(raw)
    if len(code) != LENGTH:
        return UsccCheck(code=code, errors=(ERR_LENGTH,))
    bad = tuple(dict.fromkeys(c for c in code if c not in VALUES))
    if bad:
        return UsccCheck(code=code, errors=(ERR_CHARACTERS,), bad_characters=bad)
    if not code[2:8].isdigit():
        return UsccCheck(code=code, errors=(ERR_AREA_DIGITS,))
    if check_character(code[:17]) != code[17]:
        return UsccCheck(code=code, errors=(ERR_CHECK,))
    warnings = []
    prefix = code[:2]
    if prefix != PREFIX_ENTERPRISE:
        warnings.append(PREFIX_WARNINGS.get(prefix, WARN_PREFIX))
    if not code[2:6].startswith(JINAN_AREA_PREFIXES):
        warnings.append(WARN_AREA)
    if not _organisation_check_ok(code):
        warnings.append(WARN_ORG_CHECK)
    return UsccCheck(code=code, warnings=tuple(warnings))
