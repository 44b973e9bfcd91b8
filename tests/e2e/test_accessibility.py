"""Accessibility in a real browser: axe-core on every main page (no serious or critical violation), a
label for every control and a legend for every radio group, the questionnaire completed with the
keyboard alone, and a visible focus indicator.

axe runs in Chinese and in English at 1280 px and at 375 px (the navbar collapses and the tables scroll
at phone width); every violation, minor ones included, is written to artifacts/axe/<page>.json.
"""

from __future__ import annotations

import re

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


@pytest.fixture
def firm_with_rounds(live_server):
    """An owner whose firm has one submitted round and one draft, half answered; an invitation token."""
    from surveys import services

    support.load_questionnaire()
    owner = support.firm_owner()
    enterprise = owner.membership.enterprise
    submitted = support.submitted_assessment(owner, label="2025 T0")
    token = services.invitation_create(owner=owner, enterprise=enterprise, email="")
    return {"owner": owner, "enterprise": enterprise, "submitted": submitted, "token": token}


@pytest.mark.parametrize(("language", "width"), MATRIX)
def test_no_serious_axe_violations_on_the_main_pages(
    browser_page, live_server, axe_source, shot, firm_with_rounds, language, width
):
    from surveys import services
    from surveys.models import Item
    from surveys.services import AnswerChange

    owner = firm_with_rounds["owner"]
    submitted = firm_with_rounds["submitted"]
    problems: dict[str, str] = {}
    overflow: dict[str, int] = {}
    page = browser_page(language=language, width=width)

    def check(name: str, path: str) -> None:
        response = page.goto(path)
        assert response.ok, f"{path}: HTTP {response.status}"
        expect(page.locator("html")).to_have_attribute("lang", support.HTML_LANG[language])
        blocking = support.axe_run(page, axe_source, f"{name}-{language}-{width}")
        if blocking:
            problems[name] = support.describe(blocking)
        if horizontal_overflow(page) > 0:
            overflow[name] = horizontal_overflow(page)
        shot(page, name)

    # Anonymous pages.
    check("home", "/")
    check("signup", "/signup/")
    check("login", "/accounts/login/")
    check("invitation", f"/invite/{firm_with_rounds['token']}/")

    # The firm's pages: first with the start form and a submitted round, then with a draft.
    support.login(page, owner, live_server.url)
    check("firm", "/firm/")
    check("profile", "/firm/profile/")
    check("members", "/firm/members/")
    page.fill("[name=email]", "li@example.com")
    page.click("button[name=action][value=invite]")
    expect(page.locator("#invite-link")).to_be_visible()
    blocking = support.axe_run(page, axe_source, f"members-with-link-{language}-{width}")
    if blocking:
        problems["members-with-link"] = support.describe(blocking)
    check("results", f"/assessments/{submitted.pk}/results/")

    draft = services.assessment_start(enterprise=owner.membership.enterprise, user=owner, label="2026 T0")
    first = Item.objects.filter(questionnaire=draft.questionnaire, dimension__position=1).order_by("position")
    services.answers_save(
        assessment=draft,
        user=owner,
        changes=[AnswerChange(item_code=i.code, value=3, note="", base_revision=0) for i in first[:3]],
    )
    check("firm-with-draft", "/firm/")
    check("page-1", f"/assessments/{draft.pk}/page/1/")
    check("review", f"/assessments/{draft.pk}/review/")

    assert not problems, "axe found serious/critical violations:\n" + "\n".join(
        f"== {name}\n{text}" for name, text in problems.items()
    )
    assert not overflow, f"pages wider than the {width} px viewport (px too wide): {overflow}"


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
