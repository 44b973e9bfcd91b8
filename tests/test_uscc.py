import pytest

from surveys import uscc

VALID = ["91370100MA3C0A1B7D", "91370112MA3D2E4F1B", "91370171MA94KX7N9Q", "9137120016311845XF"]


@pytest.mark.parametrize(
    "code", ["91370100MA3C0A1B7D", "91370112MA3D2E4F1B", "91370171MA94KX7N9Q", "9137120016311845XF"]
)
def test_valid_codes_pass_without_warnings(code):
    result = uscc.validate(code)
    assert result.is_valid and result.warnings == ()


def test_input_is_trimmed_and_upper_cased():
    assert uscc.validate("  91370100ma3c0a1b7d \n").code == "91370100MA3C0A1B7D"
    assert uscc.validate(" 9137 0100 MA3C 0A1B 7D").is_valid


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("91370100MA3C0A1B7E", uscc.ERR_CHECK),
        ("91370100MA3C0A1B7", uscc.ERR_LENGTH),
        ("91370100MA3C0A1B7DD", uscc.ERR_LENGTH),
        ("", uscc.ERR_LENGTH),
        ("91370100MA3COA1B7D", uscc.ERR_CHARACTERS),  # letter O where 0 belongs: never silently fixed
        ("91370100MA3C0A1BID", uscc.ERR_CHARACTERS),
        ("9137A100MA3C0A1B7D", uscc.ERR_AREA_DIGITS),
    ],
)
def test_invalid_codes_name_the_rule_that_failed(code, error):
    result = uscc.validate(code)
    assert not result.is_valid
    assert result.errors == (error,)


def test_no_silent_o_to_zero_fix():
    result = uscc.validate("91370100MA3COA1B7D")
    assert result.code == "91370100MA3COA1B7D"
    assert result.bad_characters == ("O",)


def test_other_prefix_and_region_warn_but_pass():
    outside = uscc.with_check_character("91110108" + "MA01ABCD" + "X")
    result = uscc.validate(outside)
    assert result.is_valid
    assert uscc.WARN_AREA in result.warnings
    society = uscc.with_check_character("51370100" + "MJD123456"[:9])
    assert uscc.WARN_PREFIX in uscc.validate(society).warnings


def test_check_character_weights_follow_the_standard():
    assert uscc.WEIGHTS[:6] == [1, 3, 9, 27, 19, 26]
    assert uscc.WEIGHTS[-1] == 28


# --- normalisation: one rule, applied before any check; nothing is cut off or "corrected" -------------


@pytest.mark.parametrize(
    "raw",
    [
        " 91370112MA3D2E4F1B ",
        "9137 0112 MA3D 2E4F 1B",
        "91370112-MA3D2E4F-1B",
        "91370112–MA3D2E4F—1B",  # en and em dashes
        "９１３７０１１２ＭＡ３Ｄ２Ｅ４Ｆ１Ｂ",  # full-width
        "９１３７０１１２－ＭＡ３Ｄ２Ｅ４Ｆ１Ｂ",  # full-width hyphen
        "91370112\u3000MA3D2E4F1B",  # ideographic space
        "91370112\u00a0MA3D2E4F1B\u200b",  # no-break space, zero-width space
        "91370112_ma3d.2e4f/1b",
        "\t91370112ma3d2e4f1b\n",
    ],
)
def test_normalize_removes_separators_narrows_full_width_and_upper_cases(raw):
    assert uscc.normalize(raw) == "91370112MA3D2E4F1B"
    assert uscc.validate(raw).is_valid


def test_normalize_never_shortens_a_code():
    assert uscc.normalize("91370112MA3D2E4F1B7") == "91370112MA3D2E4F1B7"
    result = uscc.validate(" 9137-0112-MA3D-2E4F-1B7 ")
    assert result.errors == (uscc.ERR_LENGTH,) and len(result.code) == 19


def test_the_client_pattern_lists_the_same_separators():
    pattern = uscc.client_pattern()
    assert pattern.startswith("[\\s") and pattern.endswith("]")
    for category in uscc.SEPARATOR_CATEGORIES:
        assert f"\\p{{{category}}}" in pattern
    assert "\\/" in pattern and "\\\\" in pattern and "_" in pattern


# --- registration types and the inner check -------------------------------------------------------------


def test_individual_businesses_and_cooperatives_warn_and_ask_for_confirmation():
    individual = uscc.validate(uscc.with_check_characters("92370112MA3D2E4F"))
    cooperative = uscc.validate(uscc.with_check_characters("93370112MA3D2E4F"))
    enterprise = uscc.validate(uscc.with_check_characters("91370112MA3D2E4F"))
    assert individual.warnings == (uscc.WARN_INDIVIDUAL,) and individual.needs_confirmation
    assert cooperative.warnings == (uscc.WARN_COOPERATIVE,) and cooperative.needs_confirmation
    assert enterprise.warnings == () and not enterprise.needs_confirmation
    for other in ("11", "51", "94", "Y1"):
        assert uscc.validate(uscc.with_check_characters(other + "370112MA3D2E4F")).warnings == (uscc.WARN_PREFIX,)


def test_the_inner_check_asks_for_confirmation_and_an_area_outside_jinan_does_not():
    mistyped = uscc.validate(uscc.with_check_character("91370112MA3D2E4F2"))  # 17th character wrong
    assert mistyped.warnings == (uscc.WARN_ORG_CHECK,) and mistyped.needs_confirmation
    outside = uscc.validate(uscc.with_check_characters("91110108MA01ABCD"))
    assert outside.warnings == (uscc.WARN_AREA,) and not outside.needs_confirmation


def test_with_check_characters_passes_both_checks():
    for code in VALID:
        assert uscc.with_check_characters(code[:16]) == code
