"""Accessibility in a real browser: axe-core on every main page (no serious or critical violation), a
label for every control and a legend for every radio group, the questionnaire completed with the
keyboard alone, and a visible focus indicator.

axe runs in Chinese and in English at 1280 px and at 375 px (the navbar collapses and the tables scroll
at phone width); every violation, minor ones included, is written to artifacts/axe/<page>.json. The same
crawl checks every page it visits with the Nu HTML checker (tests/e2e/nu.py; 0 errors, report in
artifacts/nu/) and that no page is wider than the viewport, with a firm and users whose names are long and
unbroken (a pasted Latin name has no break opportunity, unlike Chinese text).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from . import support
from .support import TEXT, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MATRIX = [
    pytest.param("zh-hans", 1280, id="zh-1280"),
    pytest.param("zh-hans", 375, id="zh-375"),
    pytest.param("en", 1280, id="en-1280"),
    pytest.param("en", 375, id="en-375"),
]


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when nothing scrolls sideways)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def too_wide(page) -> str:
    """The page's overflow and the innermost elements, or the parents of the text, reaching past the
    viewport's right edge (horizontal scrollers aside), for the failure message."""
    culprits = page.evaluate(
        """() => {
            const edge = window.innerWidth + 0.5;
            const scrolled = el => {
                for (let up = el.parentElement; up; up = up.parentElement) {
                    if (["auto", "scroll", "hidden"].includes(getComputedStyle(up).overflowX)) return true;
                }
                return false;
            };
            const past = el => el.getBoundingClientRect().right > edge && !scrolled(el);
            const found = [...document.body.querySelectorAll("*")]
                .filter(el => past(el) && ![...el.children].some(past));
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            const range = document.createRange();
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                range.selectNodeContents(node);
                const parent = node.parentElement;
                if (range.getBoundingClientRect().right > edge && !scrolled(parent) && !found.includes(parent)) {
                    found.push(parent);
                }
            }
            return found.slice(0, 4).map(el => el.outerHTML.replace(/\\s+/g, " ").slice(0, 160));
        }"""
    )
    return f"{horizontal_overflow(page)} px: {culprits}"


# Names as people paste them, without a space to break at: the pages must wrap them, not scroll sideways.
LONG_FIRM_NAME = "JinanQuanchengPrecisionMachineryAndIntelligentEquipmentManufacturingCoLtd"
LONG_USERNAME = "quancheng_precision_machinery_digital_transformation_office_owner"
LONG_ADMIN = "jinan_municipal_bureau_of_industry_and_information_technology_admin"
REGISTER_BAD = Path(__file__).resolve().parents[1] / "data" / "register-bad.csv"


@pytest.fixture
def firm_with_rounds(live_server):
    """An owner whose firm has a submitted round on 2026.1 and one on 2026.2 (an action plan, progress across
    versions); an invitation token; a city administrator. The firm and the users have long unbroken names.
    Drafts started later are on 2026.2, the newest version."""
    from surveys import services
    from surveys.scopes import ROLE_CITY

    from ..model_factories import MembershipFactory, UserFactory

    support.load_questionnaire()
    owner = MembershipFactory(enterprise__name=LONG_FIRM_NAME, user__username=LONG_USERNAME).user
    enterprise = owner.membership.enterprise
    support.submitted_assessment(owner, label="2025 T0")
    support.load_questionnaire_2026_2()
    submitted = support.submitted_assessment(owner, label="2026 T1")
    token = services.invitation_create(owner=owner, enterprise=enterprise, email="")
    admin = UserFactory(username=LONG_ADMIN)
    services.administrator_grant(user=admin, role=ROLE_CITY)
    return {"owner": owner, "enterprise": enterprise, "submitted": submitted, "token": token, "admin": admin}


def server_error_page(language: str) -> str:
    """The 500 page as the handler renders it (a live server cannot be made to fail on purpose)."""
    from django.test import RequestFactory
    from django.utils import translation

    from surveys.responses import server_error

    with translation.override(language):
        return server_error(RequestFactory().get("/")).content.decode()


@pytest.mark.parametrize(("language", "width"), MATRIX)
def test_no_serious_axe_violations_nor_html_errors_on_the_main_pages(
    browser_page, live_server, axe_source, shot, nu_checker, firm_with_rounds, language, width
):
    from surveys import services
    from surveys.models import Item
    from surveys.services import AnswerChange

    owner = firm_with_rounds["owner"]
    submitted = firm_with_rounds["submitted"]
    enterprise = firm_with_rounds["enterprise"]
    problems: dict[str, str] = {}
    overflow: dict[str, str] = {}

    def audit(page, name: str, response=None) -> None:
        """Nu and axe on the page as it is, its width, a screenshot."""
        nu_checker.add(page, f"{name} {page.url} ({language}, {width} px)", response=response)
        blocking = support.axe_run(page, axe_source, f"{name}-{language}-{width}")
        if blocking:
            problems[name] = support.describe(blocking)
        if horizontal_overflow(page) > 0:
            overflow[name] = too_wide(page)
        shot(page, name)

    def check(page, name: str, path: str, *, status: int = 200) -> None:
        response = page.goto(path)
        assert response.status == status, f"{path}: HTTP {response.status}"
        expect(page.locator("html")).to_have_attribute("lang", support.HTML_LANG[language])
        audit(page, name, response)

    def submit(page, name: str, *, status: int = 200) -> None:
        """Send the main form as it is filled and check the answer."""
        with page.expect_navigation() as navigation:
            page.locator("main button[type=submit]").first.click()
        assert navigation.value.status == status, f"{name}: HTTP {navigation.value.status}"
        audit(page, name, navigation.value)

    # Anonymous pages, the error pages among them, and forms sent with mistakes.
    page = browser_page(language=language, width=width)
    check(page, "home", "/")
    check(page, "signup", "/signup/")
    submit(page, "signup-with-errors")
    check(page, "login", "/accounts/login/")
    page.fill("[name=username]", f"nobody-{language}-{width}")
    page.fill("[name=password]", "not-the-password")
    submit(page, "login-failed")
    check(page, "password-reset", "/accounts/password-reset/")
    check(page, "invitation", f"/invite/{firm_with_rounds['token']}/")
    check(page, "not-found", "/no-such-page/", status=404)
    # A form sent without its CSRF cookie (it expired, or cookies were cleared) gets the site's 403 page.
    page.goto("/accounts/login/")
    page.context.clear_cookies(name="csrftoken")
    page.fill("[name=username]", "nobody")
    page.fill("[name=password]", "wrong")
    submit(page, "csrf-failure", status=403)
    # The 500 page, served by the browser's router at an address of the live server (its styles load).
    html = server_error_page(language)
    page.route("**/server-error-page/", lambda route: route.fulfill(status=500, body=html, content_type="text/html"))
    check(page, "server-error", "/server-error-page/", status=500)

    # The firm's pages: first with the start form and a submitted round, then with a draft.
    support.login(page, owner, live_server.url)
    check(page, "firm", "/firm/")
    if width < 768:  # the menu, open: the user's name in it wraps too
        page.locator(".navbar-toggler").click()
        expect(page.locator("#nav-main")).to_have_class(re.compile(r"\bshow\b"))
        audit(page, "navbar-open")
    check(page, "profile", "/firm/profile/")
    check(page, "members", "/firm/members/")
    page.fill("[name=email]", "quancheng.precision.machinery.digital.office@example.com")
    page.click("button[name=action][value=invite]")
    expect(page.locator("#invite-link")).to_be_visible()
    audit(page, "members-with-link")
    check(page, "results", f"/assessments/{submitted.pk}/results/")
    check(page, "forbidden", "/manage/", status=403)
    check(page, "not-found-signed-in", "/assessments/999999/results/", status=404)

    draft = services.assessment_start(enterprise=enterprise, user=owner, label="2026 T0")
    first = Item.objects.filter(questionnaire=draft.questionnaire, dimension__position=1).order_by("position")
    services.answers_save(
        assessment=draft,
        user=owner,
        changes=[AnswerChange(item_code=i.code, value=3, note="", base_revision=0) for i in first[:3]],
    )
    check(page, "firm-with-draft", "/firm/")
    check(page, "page-1", f"/assessments/{draft.pk}/page/1/")
    check(page, "review", f"/assessments/{draft.pk}/review/")
    # Too many 不清楚 answers: the review page says who should find out which answer before submitting.
    services.answers_save(
        assessment=draft,
        user=owner,
        changes=[AnswerChange(item_code=i.code, value="unknown", note="", base_revision=0) for i in first[3:7]],
    )
    check(page, "review-too-many-unknown", f"/assessments/{draft.pk}/review/")
    expect(page.locator("main")).to_contain_text("P1.4")

    # The administrators' pages (with a firm and a user of long names; the pages with many firms are in
    # test_admin_flow.py).
    admin = browser_page(language=language, width=width)
    support.login(admin, firm_with_rounds["admin"], live_server.url)
    check(admin, "manage-dashboard", "/manage/")
    check(admin, "manage-breakdowns", "/manage/breakdowns/")
    check(admin, "manage-weaknesses", "/manage/weaknesses/")
    check(admin, "manage-trend", "/manage/trend/")
    check(admin, "manage-firms", "/manage/firms/")
    check(admin, "manage-firms-bad-filter", "/manage/firms/?district=nowhere&size=huge")
    check(admin, "manage-firm", f"/manage/firms/{enterprise.pk}/")
    check(admin, "manage-round", f"/manage/firms/{enterprise.pk}/rounds/{submitted.pk}/")
    check(admin, "manage-audit", "/manage/audit/")
    check(admin, "manage-audit-filtered", f"/manage/audit/?enterprise={enterprise.pk}&user=x&firm=y&from=2026-13-45")
    # The business register: the upload page, a file with bad rows sent, then coverage and the firms not yet
    # assessed, with a register.
    check(admin, "manage-coverage-no-register", "/manage/coverage/")
    check(admin, "manage-register", "/manage/register/")
    admin.set_input_files("#id_file", str(REGISTER_BAD))
    submit(admin, "manage-register-result")
    expect(admin.locator("#import-errors")).to_be_visible()
    check(admin, "manage-coverage", "/manage/coverage/")
    check(admin, "manage-unassessed", "/manage/coverage/unassessed/")

    failures = [
        "axe found serious/critical violations:\n" + "\n".join(f"== {n}\n{text}" for n, text in problems.items())
        if problems
        else "",
        f"pages wider than the {width} px viewport:\n" + "\n".join(f"== {n}: {text}" for n, text in overflow.items())
        if overflow
        else "",
        nu_checker.report(),
    ]
    assert not any(failures), "\n\n".join(filter(None, failures))
    nu_checker.assert_valid()  # skipped (failed in CI) when the checker could not run


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_control_has_a_label_and_every_radio_group_a_legend(
    browser_page, live_server, firm_with_rounds, language
):
    from surveys import services

    owner = firm_with_rounds["owner"]
    page = browser_page(language=language)
    paths = ["/signup/", "/accounts/login/", f"/invite/{firm_with_rounds['token']}/", "/accounts/password-reset/"]
    for path in paths:
        page.goto(path)
        assert support.unlabelled_controls(page) == [], path
        assert support.radio_groups_without_legend(page) == [], path

    support.login(page, owner, live_server.url)
    draft = services.assessment_start(enterprise=owner.membership.enterprise, user=owner, label="2026 T0")
    paths = ["/firm/", "/firm/profile/", "/firm/members/", f"/assessments/{draft.pk}/review/"]
    paths += [f"/assessments/{draft.pk}/page/{n}/" for n in range(1, 6)]
    for path in paths:
        page.goto(path)
        assert support.unlabelled_controls(page) == [], path
        assert support.radio_groups_without_legend(page) == [], path
        # Each question is the accessible name of its group of options (what a screen reader announces).
        questions = page.locator("fieldset.question").evaluate_all(
            "els => els.map(e => [e.dataset.item, e.querySelector(':scope > legend').textContent])"
        )
        for code, text in questions:
            group = page.get_by_role("group", name=" ".join(text.split()), exact=True)
            expect(group).to_have_attribute("data-item", code)
            expect(group.get_by_role("radio").first).to_be_visible()
    # The start form is only there without a draft: check it on the firm page of a fresh firm.
    other = support.firm_owner(name="济南第二测试制造有限公司")
    second = browser_page(language=language)
    support.login(second, other, live_server.url)
    second.goto("/firm/")
    expect(second.locator("form[action='/rounds/start/'] input[name=label]")).to_be_visible()
    assert support.unlabelled_controls(second) == []


# --- the keyboard alone -----------------------------------------------------------------------------


def tab_to(page, predicate: str, *, limit: int = 200) -> dict:
    """Press Tab until the focused element satisfies the JavaScript predicate ``el => …``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => ({predicate})(document.activeElement)"):
            return support.focused_outline(page)
    raise AssertionError(f"Tab never reached an element matching {predicate}")


KEYBOARD_MATRIX = [pytest.param("zh-hans", 1280, id="zh-1280"), pytest.param("en", 375, id="en-375")]


@pytest.mark.parametrize(("language", "width"), KEYBOARD_MATRIX)
def test_the_whole_questionnaire_by_keyboard_alone_with_visible_focus(browser_page, live_server, shot, language, width):
    """Tab to each question, Space and the arrow keys to choose, Enter on the buttons; submit likewise."""
    from surveys.models import Answer, Assessment

    support.load_questionnaire()
    owner = support.firm_owner()
    text = TEXT[language]
    page = browser_page(language=language, width=width)
    support.login(page, owner, live_server.url)
    page.goto("/firm/")

    # The skip link comes first and shows itself when focused.
    page.keyboard.press("Tab")
    skip = page.locator("a[href='#main']")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()

    focus = tab_to(page, "el => el.tagName === 'BUTTON' && el.form && el.form.action.endsWith('/rounds/start/')")
    assert focus["outlineStyle"] != "none" and focus["focusVisible"], focus
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/page/1/$"))

    chosen: dict[str, str] = {}
    radio_focus = None
    for number in range(1, 6):
        expect(page).to_have_url(re.compile(rf"/page/{number}/$"))
        codes = page.locator("fieldset.question").evaluate_all("els => els.map(e => e.dataset.item)")
        for index, code in enumerate(codes):
            focus = tab_to(page, f"el => el.type === 'radio' && el.name === 'answer-{code}'")
            radio_focus = radio_focus or focus
            status = page.locator(f'fieldset[data-item="{code}"] .autosave-status')
            # Every key that changes the choice autosaves; each save is waited for.
            for key in ["Space"] + ["ArrowDown"] * ((index + number) % 4):
                with page.expect_response(lambda r: r.url.endswith("/autosave/")):
                    page.keyboard.press(key)
                expect(status).to_have_text(text["saved"])
            chosen[code] = page.evaluate("() => document.activeElement.value")
        if number == 1:
            shot(page, "page-1-by-keyboard", full_page=False)
        action = "next" if number < 5 else "review"
        focus = tab_to(page, f"el => el.tagName === 'BUTTON' && el.value === '{action}'")
        assert focus["outlineStyle"] != "none" and focus["focusVisible"], focus
        page.keyboard.press("Enter")

    assert radio_focus["outlineStyle"] != "none" and radio_focus["focusVisible"], radio_focus
    assert radio_focus["outlineWidth"] not in {"0px", ""}, radio_focus

    # Review: the pledge with Space, the submit button with Enter.
    expect(page).to_have_url(re.compile(r"/review/$"))
    focus = tab_to(page, "el => el.id === 'id_pledge'")
    assert focus["outlineStyle"] != "none", focus
    page.keyboard.press("Space")
    expect(page.locator("#id_pledge")).to_be_checked()
    tab_to(page, "el => el.tagName === 'BUTTON' && el.type === 'submit' && el.form && el.form.id === 'submit-form'")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/results/$"))
    shot(page, "results", full_page=False)

    assessment = Assessment.objects.get()
    assert assessment.status == Assessment.STATUS_SUBMITTED
    stored = {a.item.code: a.value for a in Answer.objects.filter(assessment=assessment).select_related("item")}
    assert {code: str(value) for code, value in stored.items()} == chosen


def test_arrowing_through_the_options_faster_than_the_network_saves_without_a_false_conflict(browser_page, live_server):
    from surveys import services
    from surveys.models import Answer

    support.load_questionnaire()
    owner = support.firm_owner()
    draft = services.assessment_start(enterprise=owner.membership.enterprise, user=owner, label="2026 T0")
    page = browser_page(language="zh-hans")
    support.login(page, owner, live_server.url)
    page.goto(f"/assessments/{draft.pk}/page/1/")
    # A slow phone network: 500 ms, so the keys below come faster than the saves.
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 500, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    answered: list[int] = []
    page.on("response", lambda r: answered.append(r.status) if r.url.endswith("/autosave/") else None)
    code = page.locator("fieldset.question").first.get_attribute("data-item")
    tab_to(page, f"el => el.type === 'radio' && el.name === 'answer-{code}'")
    # Option A, then two steps down to C, each key as soon as the previous save has left (a person's pace
    # on a phone network: all three saves are on their way at once).
    for key in ["Space", "ArrowDown", "ArrowDown"]:
        with page.expect_request(lambda r: r.url.endswith("/autosave/")):
            page.keyboard.press(key)
    chosen = page.evaluate("() => document.activeElement.value")
    for _ in range(100):  # until the three saves have answered (10 s at most)
        if len(answered) == 3:
            break
        page.wait_for_timeout(100)
    assert len(answered) == 3, answered
    expect(page.locator(f'fieldset[data-item="{code}"] .autosave-status')).to_have_text(TEXT["zh-hans"]["saved"])
    assert str(Answer.objects.get(assessment=draft, item__code=code).value) == chosen
