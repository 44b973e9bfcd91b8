"""A firm's whole way through the site in a real browser: sign-up, a round answered with autosave,
reload, submission, results with charts, the PDF report; and a colleague joining through an invitation.

The full flow runs in Chinese and in English at 1280 px and at 375 px; the invitation flow on the
diagonal of that matrix (the pages it adds are covered at every size by the accessibility tests).
"""

from __future__ import annotations

import re
from io import BytesIO

import pytest

from surveys.reports.formatting import format_score

from . import support
from .support import TEXT, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MATRIX = [
    pytest.param("zh-hans", 1280, id="zh-1280"),
    pytest.param("zh-hans", 375, id="zh-375"),
    pytest.param("en", 1280, id="en-1280"),
    pytest.param("en", 375, id="en-375"),
]
USCC = {"zh-hans": "91370112MA3D2E4F1B", "en": "91370100MA3C0A1B7D"}


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def switch_language(page, language: str, width: int) -> None:
    """Use the navbar's language button, as a person would (behind the menu button at phone width)."""
    if width < 768:
        page.locator(".navbar-toggler").click()
    button = page.locator("nav form[action='/i18n/setlang/'] button[name=language]")
    expect(button).to_have_text(TEXT["zh-hans" if language == "en" else "en"]["switch_to"])
    button.click()
    expect(page.locator("html")).to_have_attribute("lang", support.HTML_LANG[language])


def sign_up(page, *, username: str, uscc: str, name: str = support.FIRM_NAME) -> None:
    page.fill("[name=account-username]", username)
    page.fill("[name=account-email]", f"{username}@example.com")
    page.fill("[name=account-password1]", support.PASSWORD)
    page.fill("[name=account-password2]", support.PASSWORD)
    page.check("[name=mode-mode][value=new]")
    page.fill("[name=firm-name]", name)
    page.fill("[name=firm-uscc]", uscc)
    page.select_option("[name=firm-district]", "370112")
    page.select_option("[name=firm-zone]", "HTZ")
    page.select_option("[name=firm-industry]", "C34")
    page.select_option("[name=firm-size_class]", "medium")
    page.check("[name=firm-above_designated_size]")
    page.select_option("[name=firm-leading_chain]", "EQUIP")
    page.fill("[name=firm-contact_name]", "王经理")
    page.fill("[name=firm-contact_phone]", "13805310000")


def item_codes(page) -> list[str]:
    return page.locator("fieldset.question").evaluate_all("els => els.map(e => e.dataset.item)")


def choice(code: str, value: str):
    return f'input[name="answer-{code}"][value="{value}"]'


def value_for(index: int) -> str:
    """A spread of answers (scores 0–4), the same on every run."""
    return str((index * 3 + 2) % 5)


@pytest.mark.parametrize(("language", "width"), MATRIX)
def test_a_firm_signs_up_answers_submits_and_downloads_its_report(browser_page, shot, language, width):
    from surveys.models import Answer, Assessment

    support.load_questionnaire()
    text = TEXT[language]
    page = browser_page(language=None, width=width)

    # Home: what it is, and the way in; Chinese unless the person switches.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    if language == "en":
        switch_language(page, "en", width)
    shot(page, "1-home")
    page.locator("main a[href='/signup/']").first.click()

    # Sign-up through the real form.
    expect(page).to_have_url(re.compile(r"/signup/$"))
    sign_up(page, username=f"wang{width}", uscc=USCC[language])
    shot(page, "2-signup-filled")
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/firm/$"))
    expect(page.locator("main h1")).to_have_text(support.FIRM_NAME)

    # Start a round: straight to page 1.
    page.get_by_role("button", name=text["start"], exact=True).click()
    expect(page).to_have_url(re.compile(r"/assessments/\d+/page/1/$"))
    assessment = Assessment.objects.get()
    codes = item_codes(page)
    assert len(codes) >= 5

    # Part of page 1 by clicking; each choice saved as it is made.
    partial = codes[:4]
    for index, code in enumerate(partial):
        page.click(choice(code, value_for(index)))
        expect(page.locator(f'fieldset[data-item="{code}"] .autosave-status')).to_have_text(text["saved"])
    expect(page.locator("#progress-bar")).to_have_js_property("value", len(partial))
    assert Answer.objects.filter(assessment=assessment).count() == len(partial)

    # Reload: the answers are there, the rest still open.
    page.reload()
    for index, code in enumerate(partial):
        expect(page.locator(choice(code, value_for(index)))).to_be_checked()
    assert page.locator("fieldset.question input[type=radio]:checked").count() == len(partial)
    shot(page, "3-page1-reloaded")

    # The rest of the five pages: click every choice, then the Save-and-next button.
    index = len(partial)
    for number in range(1, 6):
        expect(page).to_have_url(re.compile(rf"/page/{number}/$"))
        for code in item_codes(page):
            if number == 1 and code in partial:
                continue
            page.click(choice(code, value_for(index)))
            index += 1
        action = "next" if number < 5 else "review"
        page.click(f"button[name=action][value={action}]")
    assert index == Answer.objects.filter(assessment=assessment).count()

    # Review and submit with the pledge.
    expect(page).to_have_url(re.compile(r"/review/$"))
    expect(page.locator("main .alert-success")).to_be_visible()
    page.check("#id_pledge")
    shot(page, "4-review")
    page.get_by_role("button", name=text["submit"]).click()

    # Results, with both charts loaded.
    expect(page).to_have_url(re.compile(r"/results/$"))
    expect(page.locator("main .alert-success")).to_have_text(text["submitted"])
    expect(page.locator("main h1")).to_have_text(text["results"])
    charts = page.locator(".chart img")
    expect(charts).to_have_count(2)
    for i in range(2):
        charts.nth(i).scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=charts.nth(i).element_handle())
    assessment.refresh_from_db()
    assert assessment.status == Assessment.STATUS_SUBMITTED
    expect(page.locator("main")).to_contain_text(format_score(assessment.index))  # the display rule, as in the PDF
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "5-results")

    # The PDF report, downloaded as a person would.
    with page.expect_download() as download_info:
        page.get_by_role("link", name=text["pdf"]).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    from pypdf import PdfReader

    with open(download.path(), "rb") as handle:
        reader = PdfReader(BytesIO(handle.read()))
    content = squeeze("".join(p.extract_text() for p in reader.pages))
    assert squeeze(support.FIRM_NAME) in content
    assert page.locator("html").get_attribute("lang") == support.HTML_LANG[language]


HOME_FACTS = {
    "zh-hans": ["制造业企业", "41题", "15–20分钟"],
    "en": ["manufacturing firms", "41 questions", "15–20 minutes"],
}


@pytest.mark.parametrize(("language", "width"), [("zh-hans", 375), ("en", 1280)], ids=["zh-375", "en-1280"])
def test_the_home_page_says_what_it_is_for_whom_and_how_long_and_leads_to_sign_up(browser_page, language, width):
    """The first screen a new visitor sees: what, for whom, how long; the ways in are visible at once."""
    support.load_questionnaire()
    page = browser_page(language=language, width=width)
    page.goto("/")
    lead = page.locator("main p.lead")
    for fact in HOME_FACTS[language]:
        expect(lead).to_contain_text(fact)
    for href in ("/signup/", "/accounts/login/"):
        link = page.locator(f"main a[href='{href}']")
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box["y"] + box["height"] <= page.viewport_size["height"], f"{href} is below the first screen"


INVITE_MATRIX = [pytest.param("zh-hans", 375, id="zh-375"), pytest.param("en", 1280, id="en-1280")]


@pytest.mark.parametrize(("language", "width"), INVITE_MATRIX)
def test_a_colleague_joins_through_an_invitation_link(browser_page, shot, language, width):
    from surveys.models import Membership

    support.load_questionnaire()
    text = TEXT[language]
    owner = support.firm_owner()

    # The owner logs in through the login form and creates a link on the members page.
    page = browser_page(language=language, width=width)
    page.goto("/accounts/login/")
    page.fill("[name=username]", owner.username)
    page.fill("[name=password]", "correct-horse-battery")
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/firm/$"))
    page.locator("main a[href='/firm/members/']").click()
    expect(page).to_have_url(re.compile(r"/firm/members/$"))
    page.fill("[name=email]", "li@example.com")
    page.get_by_role("button", name=text["invite"]).click()
    link = page.locator("#invite-link").input_value()
    assert re.search(r"/invite/[^/]+/$", link), link
    shot(page, "1-owner-link")

    # The colleague, in another browser context, signs up through the link.
    colleague = browser_page(language=language, width=width)
    colleague.goto(link)
    expect(colleague.locator("main h1")).to_contain_text(support.FIRM_NAME)
    colleague.fill("[name=account-username]", "li")
    colleague.fill("[name=account-email]", "li@example.com")
    colleague.fill("[name=account-password1]", support.PASSWORD)
    colleague.fill("[name=account-password2]", support.PASSWORD)
    shot(colleague, "2-colleague-signup")
    colleague.get_by_role("button", name=text["accept"]).click()
    expect(colleague).to_have_url(re.compile(r"/firm/$"))
    expect(colleague.locator("main .alert-success")).to_contain_text(support.FIRM_NAME)
    expect(colleague.locator("main h1")).to_have_text(support.FIRM_NAME)
    shot(colleague, "3-colleague-firm")

    membership = Membership.objects.get(user__username="li")
    assert membership.enterprise == owner.membership.enterprise
    assert membership.is_active_member and not membership.is_owner

    # The owner sees the new member; the link is spent.
    page.reload()
    expect(page.locator("main table")).to_contain_text("li")
    third = browser_page(language=language, width=width)
    response = third.goto(link)
    assert response.status == 404
