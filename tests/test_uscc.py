import pytest

from surveys import uscc


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
