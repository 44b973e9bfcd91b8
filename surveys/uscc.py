"""统一社会信用代码 (Unified Social Credit Code, GB 32100-2015): normalisation and validation.

Pure Python. Hard rules (length, character set, digits in the area code, the check character) make a
code invalid; soft rules (an entity type other than 9x, an area outside Jinan, the inner GB 11714
check) only warn, because firms registered elsewhere legitimately operate in Jinan.
"""

from __future__ import annotations

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
WARN_PREFIX = "prefix"
WARN_AREA = "area"
WARN_ORG_CHECK = "organisation_check"


@dataclass(frozen=True)
class UsccCheck:
    code: str  # trimmed and upper-cased; never "corrected" (no O→0)
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    bad_characters: tuple[str, ...] = field(default=())

    @property
    def is_valid(self) -> bool:
        return not self.errors


def normalize(raw: str) -> str:
    return "".join(raw.split()).upper()


def check_character(first17: str) -> str:
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def with_check_character(first17: str) -> str:
    return first17 + check_character(first17)


def _organisation_check_ok(code: str) -> bool:
    body, check = code[8:16], code[16]
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    try:
        total = sum(int(c, 36) * w for c, w in zip(body, weights, strict=True))
    except ValueError:
        return False
    c = 11 - total % 11
    expected = "X" if c == 10 else "0" if c == 11 else str(c)
    return check == expected


def validate(raw: str) -> UsccCheck:
    code = normalize(raw or "")
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
    if code[0] != "9":
        warnings.append(WARN_PREFIX)
    if not code[2:6].startswith(JINAN_AREA_PREFIXES):
        warnings.append(WARN_AREA)
    if not _organisation_check_ok(code):
        warnings.append(WARN_ORG_CHECK)
    return UsccCheck(code=code, warnings=tuple(warnings))
