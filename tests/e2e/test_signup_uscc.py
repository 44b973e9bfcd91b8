"""The USCC as people really paste it, in the real sign-up box of a real browser (issue 17): copied with
spaces, hyphens, full-width characters or one character too many, a code is never cut by the browser; the
page normalises it with the server's rule (surveys/uscc.py normalize()) and the server says what is wrong.
"""

from __future__ import annotations

import pytest

from surveys import uscc

from . import support
from .support import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CODE = "91370112MA3D2E4F1B"
PASTES = [
    "  91370112MA3D2E4F1B  ",
    "9137 0112 MA3D 2E4F 1B",
    "91370112-MA3D-2E4F-1B",
    "９１３７０１１２ＭＡ３Ｄ２Ｅ４Ｆ１Ｂ",  # full-width, as some PDFs and input methods give it
    "９１３７－０１１２　ｍａ３ｄ２ｅ４ｆ１ｂ",  # full-width hyphen and space, lower case
    "91370112\u00a0MA3D2E4F1B\u200b",  # no-break space, zero-width space (copied from a web page)
    "91370112_ma3d.2e4f/1b",
]
TOO_LONG = "9137-0112-MA3D-2E4F-1B7"  # 19 characters once the hyphens are gone


def paste(page, selector: str, text: str) -> None:
    """Put ``text`` on the clipboard and paste it into the box with the keyboard, as a person does."""
    box = page.locator(selector)
    box.fill("")
    box.focus()
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    page.keyboard.press("Control+V")


def open_signup(browser_page, language="zh-hans"):
    page = browser_page(language=language)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/signup/")
    return page


def fill_the_rest(page, *, username: str) -> None:
    page.fill("[name=account-username]", username)
    page.fill("[name=account-email]", f"{username}@example.com")
    page.fill("[name=account-password1]", support.PASSWORD)
    page.fill("[name=account-password2]", support.PASSWORD)
    page.check("[name=mode-mode][value=new]")
    page.fill("[name=firm-name]", support.FIRM_NAME)
    page.select_option("[name=firm-district]", "370112")
    page.select_option("[name=firm-industry]", "C34")
    page.select_option("[name=firm-size_class]", "medium")
    page.select_option("[name=firm-leading_chain]", "EQUIP")
    page.fill("[name=firm-contact_name]", "王经理")
    page.fill("[name=firm-contact_phone]", "13805310000")


def test_pasted_codes_are_normalised_in_the_box_and_never_cut(browser_page):
    page = open_signup(browser_page)
    box = page.locator("[name=firm-uscc]")
    assert box.get_attribute("maxlength") is None
    for text in [*PASTES, TOO_LONG, "9137 0112 ma3d 2e4f 1b 77"]:
        paste(page, "[name=firm-uscc]", text)
        expected = uscc.normalize(text)  # the server's rule, applied by the page as soon as it is pasted
        expect(box).to_have_value(expected)
        assert len(box.input_value()) == len(expected)  # nothing cut: 19 and 20 characters stay
    # Typed (not pasted) text is normalised when the box is left, by the same rule.
    box.fill("")
    box.press_sequentially("9137-0112 ma3d2e4f1b")
    page.locator("[name=firm-name]").focus()
    expect(box).to_have_value(CODE)
    # The box to join a firm behaves the same.
    paste(page, "[name=mode-join_uscc]", PASTES[4])
    expect(page.locator("[name=mode-join_uscc]")).to_have_value(CODE)


def test_a_pasted_code_with_separators_registers_as_the_code(browser_page):
    from surveys.models import Enterprise

    page = open_signup(browser_page)
    fill_the_rest(page, username="paste1")
    paste(page, "[name=firm-uscc]", PASTES[4])
    page.locator("main button[type=submit]").click()
    page.wait_for_url(lambda url: "/signup/" not in url)
    assert Enterprise.objects.get().uscc == CODE


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_19_character_paste_is_kept_whole_and_reported_as_too_long(browser_page, language):
    from django.contrib.auth import get_user_model

    from surveys.models import Enterprise

    page = open_signup(browser_page, language)
    fill_the_rest(page, username=f"long-{language}")
    paste(page, "[name=firm-uscc]", TOO_LONG)
    page.locator("main button[type=submit]").click()
    box = page.locator("[name=firm-uscc]")
    feedback = page.locator("#id_firm-uscc_error")
    expected = (
        "去掉空格和分隔符后有 19 位，多了 1 位"
        if language == "zh-hans"
        else "without spaces and separators the code entered has 19, 1 too many"
    )
    expect(feedback).to_contain_text(expected)
    expect(box).to_have_value("91370112MA3D2E4F1B7")  # what the user pasted, normalised, not cut to 18
    assert not Enterprise.objects.exists() and not get_user_model().objects.exists()


def test_a_doubtful_code_is_confirmed_before_the_account_is_created(browser_page):
    from surveys.models import Enterprise

    individual = uscc.with_check_characters("92370112MA3D2E4F")
    page = open_signup(browser_page)
    fill_the_rest(page, username="confirm1")
    paste(page, "[name=firm-uscc]", " ".join(individual[i : i + 6] for i in range(0, 18, 6)))
    page.locator("main button[type=submit]").click()
    expect(page.locator("#id_firm-uscc_confirm_warnings")).to_contain_text("个体工商户")
    assert not Enterprise.objects.exists()
    confirm = page.locator("[name=firm-uscc_confirm]")
    expect(confirm).not_to_be_checked()
    confirm.check()
    page.fill("[name=account-password1]", support.PASSWORD)  # passwords are never sent back to the page
    page.fill("[name=account-password2]", support.PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(lambda url: "/signup/" not in url)
    assert Enterprise.objects.get().uscc == individual


@pytest.mark.parametrize(("language", "width"), [("zh-hans", 375), ("en", 1280)])
def test_the_warning_and_the_correction_pages_are_accessible(
    browser_page, live_server, axe_source, shot, nu_checker, language, width
):
    def check_page(page, name: str, label: str) -> None:
        """Screenshot, keep for the Nu checker, then axe: 0 serious/critical, every control labelled."""
        shot(page, name)
        nu_checker.add(page, label)
        problems = support.axe_run(page, axe_source, f"{name}-{language}-{width}")
        assert not problems, support.describe(problems)
        assert support.unlabelled_controls(page) == []

    page = browser_page(language=language, width=width)
    page.goto("/signup/")
    fill_the_rest(page, username=f"axe-{width}")
    page.fill("[name=firm-uscc]", uscc.with_check_characters("93370112MA3D2E4F"))
    page.locator("main button[type=submit]").click()
    expect(page.locator("[name=firm-uscc_confirm]")).to_be_visible()
    check_page(page, "signup-uscc-warning", f"sign-up warning ({language}, {width} px)")

    owner = support.firm_owner()
    support.login(page, owner, live_server.url)
    page.goto("/firm/profile/")
    page.locator("main a[href='/firm/profile/uscc/']").click()
    page.fill("[name=correct-uscc]", owner.membership.enterprise.uscc[:17])
    page.locator("main button[type=submit]").click()
    expect(page.locator("#id_correct-uscc_error")).to_be_visible()
    check_page(page, "uscc-correction", f"code correction with an error ({language}, {width} px)")
    nu_checker.assert_valid()
